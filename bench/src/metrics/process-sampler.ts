import { readProcess } from "./proc-stats.ts";

/** A process the sampler watches, under a name unique within the system (`worker`, `worker-2`). */
export interface NamedProcess {
  name: string;
  pid: number;
}

/** What one process used while the sampler ran. */
export interface ProcessUsage {
  name: string;
  /** Largest resident set size seen, in MiB. */
  peakRssMib: number;
  /** CPU time (user + system) used between its first and last reading, in seconds. */
  cpuSeconds: number;
}

interface Track {
  name: string;
  firstCpu: number;
  lastCpu: number;
  peakRssKib: number;
}

/**
 * Samples `/proc` for a changing set of processes every `intervalMs` until stopped. A process that
 * appears later (a worker started on a backlog) is counted from its first reading.
 */
export class ProcessSampler {
  readonly #list: () => readonly NamedProcess[];
  readonly #tracks = new Map<number, Track>();
  readonly #timer: NodeJS.Timeout;
  #pending: Promise<void> = Promise.resolve();
  #stopped: Promise<ProcessUsage[]> | undefined;

  private constructor(list: () => readonly NamedProcess[], intervalMs: number) {
    this.#list = list;
    this.#timer = setInterval(() => {
      this.sampleNow();
    }, intervalMs);
  }

  /** Starts sampling, with a first reading at once. */
  static start(list: () => readonly NamedProcess[], intervalMs = 200): ProcessSampler {
    const sampler = new ProcessSampler(list, intervalMs);
    sampler.sampleNow();
    return sampler;
  }

  /** Takes a reading now (also call it right after starting a process). */
  sampleNow(): void {
    this.#pending = this.#pending.then(() => this.#sample());
  }

  async #sample(): Promise<void> {
    await Promise.all(
      this.#list().map(async ({ name, pid }) => {
        const reading = await readProcess(pid);
        if (reading === undefined) return;
        const track = this.#tracks.get(pid);
        if (track === undefined) {
          this.#tracks.set(pid, {
            name,
            firstCpu: reading.cpuSeconds,
            lastCpu: reading.cpuSeconds,
            peakRssKib: reading.rssKib,
          });
          return;
        }
        track.lastCpu = reading.cpuSeconds;
        track.peakRssKib = Math.max(track.peakRssKib, reading.rssKib);
      }),
    );
  }

  /**
   * Takes a last reading, stops, and reports every process seen. Calling it again returns the
   * same report, so a `finally` can stop a sampler that may already be stopped.
   */
  stop(): Promise<ProcessUsage[]> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<ProcessUsage[]> {
    clearInterval(this.#timer);
    this.sampleNow();
    await this.#pending;
    return [...this.#tracks.values()].map((t) => ({
      name: t.name,
      peakRssMib: t.peakRssKib / 1024,
      cpuSeconds: t.lastCpu - t.firstCpu,
    }));
  }
}
