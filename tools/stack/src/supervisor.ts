import type { ServerProcess } from "@conveyor/testing";

import { decideRestart, defaultRestartPolicy } from "./restart-policy.ts";
import type { RestartPolicy } from "./restart-policy.ts";
import { spawnService } from "./service-process.ts";
import type { SpawnServiceOptions } from "./service-process.ts";

/** Options of {@link superviseService}. */
export interface SuperviseOptions extends SpawnServiceOptions {
  /** Loud messages about crashes and restarts. */
  report: (message: string) => void;
  /** Called once when the service keeps crashing and is not restarted again. */
  onGiveUp: (reason: string) => void;
  /** @default defaultRestartPolicy */
  policy?: RestartPolicy;
}

/** A service process that is restarted when it exits unexpectedly. */
export interface Supervisor {
  /** Whether the service's process is running now (false while a restart is pending). */
  running(): boolean;
  /** How long the current process has been running, in milliseconds; 0 when it is not. */
  uptimeMs(): number;
  /** Stops restarting and stops the process: SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs: number): Promise<void>;
}

/** Runs a service and restarts it after a crash, per {@link RestartPolicy}. */
export function superviseService(options: SuperviseOptions): Supervisor {
  const policy = options.policy ?? defaultRestartPolicy;
  let proc: ServerProcess | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopping = false;
  let crashes = 0;
  let startedAt = 0;

  const launch = () => {
    timer = undefined;
    startedAt = Date.now();
    const current = spawnService(options);
    proc = current;
    void current.exited.then((code) => {
      if (stopping) return;
      const decision = decideRestart(crashes, Date.now() - startedAt, policy);
      crashes = decision.crashes;
      if (decision.action === "give-up") {
        const reason = `${options.name} crashed ${crashes} times in a row (last exit: ${String(code)})`;
        options.report(`${reason}; not restarting it`);
        options.onGiveUp(reason);
        return;
      }
      options.report(
        `${options.name} exited unexpectedly (exit: ${String(code)}); restarting in ${decision.delayMs} ms ` +
          `(quick crash ${crashes} of ${policy.maxQuickCrashes})`,
      );
      timer = setTimeout(launch, decision.delayMs);
    });
  };
  launch();

  return {
    running: () => proc?.running() ?? false,
    uptimeMs: () => (proc?.running() ? Date.now() - startedAt : 0),
    async stop(graceMs) {
      stopping = true;
      if (timer !== undefined) clearTimeout(timer);
      await proc?.stop(graceMs);
    },
  };
}
