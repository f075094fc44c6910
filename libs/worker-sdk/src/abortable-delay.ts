import { maxTimerMs } from "@conveyor/service-kit";

/**
 * Resolves after `ms` milliseconds, or as soon as `signal` aborts. `Infinity` waits for the abort
 * alone; a finite time beyond a timer's range waits the longest a timer can (about 24.8 days).
 */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = Number.isFinite(ms) ? setTimeout(resolve, Math.min(ms, maxTimerMs)) : undefined;
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
