import { mkdir } from "node:fs/promises";
import { join } from "node:path";

import { Queue } from "bullmq";

import { waitFor } from "@conveyor/testing";

import { BenchError } from "../errors.ts";
import type { NamedProcess } from "../metrics/process-sampler.ts";
import { startRedis } from "../servers/redis.ts";
import type { RedisServer } from "../servers/redis.ts";
import { benchJobOptions, benchQueueName, ChildMessage } from "./bullmq-protocol.ts";
import type { ParentMessage } from "./bullmq-protocol.ts";
import { forkChild } from "./node-child.ts";
import type { NodeChild } from "./node-child.ts";
import type {
  BenchJob,
  EndListener,
  Mark,
  StartListener,
  SystemDriver,
  WatchOptions,
} from "./system.ts";
import { withTimeout } from "./with-timeout.ts";

/** Names of the BullMQ side's processes in the per-process figures (with one worker). */
export const bullmqProcessNames = ["http-api", "worker", "redis-server"] as const;

/** Options of {@link startBullmq}. */
export interface BullmqOptions {
  /** A fresh directory for Redis's files. */
  dataDir: string;
  redisBinary: string;
  /** Worker `concurrency` of every worker process. */
  workerConcurrency: number;
  /** `NODE_OPTIONS` for the child processes; empty for none. */
  nodeOptions: string;
  log: (line: string) => void;
}

/** BullMQ's job name for each bench job kind. */
const jobName: Record<BenchJob["kind"], string> = { noop: "echo", sleep: "sleep" };
const workerEntry = join(import.meta.dirname, "bullmq-worker-main.ts");
const httpEntry = join(import.meta.dirname, "bullmq-http-main.ts");
const pollMs = 20;
/** Job states that mean "not done yet". */
const unfinishedStates = ["wait", "active", "delayed", "prioritized", "waiting-children"] as const;

/**
 * Starts Redis (as BullMQ's production guide recommends), the HTTP front and one worker process;
 * the bench process itself holds the `Queue` that submits.
 */
export async function startBullmq(options: BullmqOptions): Promise<SystemDriver> {
  const cleanup = new AsyncDisposableStack();
  try {
    const redisDir = join(options.dataDir, "redis");
    await mkdir(redisDir, { recursive: true });
    const redis = await startRedis(options.redisBinary, redisDir);
    cleanup.defer(() => redis.process.stop());
    const driver = new BullmqDriver(redis, options);
    cleanup.defer(() => driver.stopChildren());
    await driver.start();
    options.log(`bullmq ready: HTTP ${driver.http.url}, Redis 127.0.0.1:${redis.port}`);
    const disposer = cleanup.move();
    driver.onDispose(() => disposer.disposeAsync());
    return driver;
  } catch (err) {
    await cleanup.disposeAsync();
    throw err;
  }
}

class BullmqDriver implements SystemDriver {
  readonly name = "bullmq" as const;
  http = { url: "", body: JSON.stringify({ type: "echo", payload: { bench: 1 } }) };
  readonly #redis: RedisServer;
  readonly #queue: Queue;
  readonly #env: NodeJS.ProcessEnv;
  readonly #workers: { name: string; child: NodeChild }[] = [];
  #httpChild: NodeChild | undefined;
  #listener: StartListener | undefined;
  #onEnd: EndListener | undefined;
  #watch = 0;
  #dispose: () => Promise<void> = async () => {};

  constructor(redis: RedisServer, options: BullmqOptions) {
    this.#redis = redis;
    this.#queue = new Queue(benchQueueName, {
      connection: { host: redis.host, port: redis.port },
      defaultJobOptions: benchJobOptions,
    });
    this.#env = {
      ...process.env,
      REDIS_HOST: redis.host,
      REDIS_PORT: String(redis.port),
      CONCURRENCY: String(options.workerConcurrency),
      NODE_OPTIONS: options.nodeOptions,
    };
  }

  onDispose(dispose: () => Promise<void>): void {
    this.#dispose = dispose;
  }

  async start(): Promise<void> {
    await this.#queue.waitUntilReady();
    const http = forkChild("http-api", httpEntry, this.#env);
    this.#httpChild = http;
    const port = await withTimeout(
      new Promise<number>((resolve, reject) => {
        http.onMessage((raw) => {
          const msg = ChildMessage.safeParse(raw);
          if (msg.success && "listening" in msg.data) resolve(msg.data.listening);
        });
        void http.exited.then((code) => {
          reject(new BenchError(`bullmq http-api exited (${code}):\n${http.output()}`));
        });
      }),
      60_000,
      "the BullMQ HTTP front did not listen",
    );
    this.http = { ...this.http, url: `http://127.0.0.1:${port}/v1/jobs` };
    await this.setWorkers(1);
  }

  async stopChildren(): Promise<void> {
    await Promise.all([this.#httpChild?.stop(), ...this.#workers.map((w) => w.child.stop(20_000))]);
    await this.#queue.close();
  }

  async submitAsync(job: BenchJob): Promise<void> {
    await this.#queue.add(jobName[job.kind], job.payload, { jobId: job.id });
  }

  submitOne(job: BenchJob): Promise<void> {
    return this.submitAsync(job);
  }

  async submitMany(jobs: readonly BenchJob[], batchSize: number): Promise<void> {
    for (let i = 0; i < jobs.length; i += batchSize) {
      await this.#queue.addBulk(
        jobs.slice(i, i + batchSize).map((j) => ({
          name: jobName[j.kind],
          data: j.payload,
          opts: { jobId: j.id },
        })),
      );
    }
  }

  async mark(): Promise<Mark> {
    const counts = await this.#queue.getJobCounts("failed");
    return { failed: counts.failed ?? 0 };
  }

  async #unfinished(): Promise<{ unfinished: number; failed: number }> {
    const counts = await this.#queue.getJobCounts(...unfinishedStates, "failed");
    const unfinished = unfinishedStates.reduce((sum, s) => sum + (counts[s] ?? 0), 0);
    return { unfinished, failed: counts.failed ?? 0 };
  }

  waitQueued(): Promise<void> {
    // `add` and `addBulk` resolve once the jobs are in the wait list.
    return Promise.resolve();
  }

  async waitAcked(mark: Mark, _n: number, timeoutMs: number): Promise<void> {
    // Called after every job was added: none waiting or active means all were completed.
    const failed = await this.#poll(
      async () => {
        const state = await this.#unfinished();
        return state.unfinished === 0 ? state.failed : undefined;
      },
      timeoutMs,
      "all jobs completed",
    );
    const failedBefore = mark.failed ?? 0;
    if (failed > failedBefore) {
      throw new BenchError(`bullmq: ${failed - failedBefore} jobs failed`);
    }
  }

  async waitVisible(mark: Mark, jobs: readonly BenchJob[], timeoutMs: number): Promise<number> {
    // A completed job is visible at once: BullMQ keeps job state in Redis, with no projection.
    await this.waitAcked(mark, jobs.length, timeoutMs);
    return jobs.length;
  }

  async isSucceeded(id: string): Promise<boolean> {
    return (await this.#queue.getJobState(id)) === "completed";
  }

  inReadModel(id: string): Promise<boolean> {
    return this.isSucceeded(id);
  }

  watchStarts(listener: StartListener, options: WatchOptions = {}): Promise<() => void> {
    this.#listener = listener;
    this.#onEnd = options.onEnd;
    this.#watch = options.max ?? -1;
    this.#broadcast({ watch: this.#watch });
    return Promise.resolve(() => {
      this.#listener = undefined;
      this.#onEnd = undefined;
      this.#watch = 0;
      this.#broadcast({ watch: 0 });
    });
  }

  #broadcast(message: ParentMessage): void {
    for (const w of this.#workers) w.child.send(message);
  }

  async setWorkers(count: number): Promise<void> {
    while (this.#workers.length > count) await this.#workers.pop()?.child.stop(20_000);
    const starting: Promise<void>[] = [];
    while (this.#workers.length < count) {
      const index = this.#workers.length + 1;
      const name = index === 1 ? "worker" : `worker-${index}`;
      const child = forkChild(name, workerEntry, {
        ...this.#env,
        WATCH_STARTS: String(this.#watch),
      });
      this.#workers.push({ name, child });
      starting.push(
        new Promise<void>((resolve, reject) => {
          child.onMessage((raw) => {
            const msg = ChildMessage.safeParse(raw);
            if (!msg.success) return;
            if ("ready" in msg.data) resolve();
            if ("starts" in msg.data) {
              for (const [id, at] of msg.data.starts) this.#listener?.(id, at);
              for (const [id, at] of msg.data.ends) this.#onEnd?.(id, at);
            }
          });
          void child.exited.then((code) => {
            reject(new BenchError(`bullmq ${name} exited (${code}):\n${child.output()}`));
          });
        }),
      );
    }
    await withTimeout(Promise.all(starting), 60_000, "bullmq workers did not start");
  }

  async waitIdle(timeoutMs: number): Promise<void> {
    await this.#poll(
      async () => ((await this.#unfinished()).unfinished === 0 ? true : undefined),
      timeoutMs,
      "bullmq to become idle",
    );
  }

  lag(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  /** BullMQ has nothing that catches up once its queue is idle. */
  waitCaughtUp(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  processes(): NamedProcess[] {
    const list: NamedProcess[] = [];
    if (this.#httpChild?.pid !== undefined)
      list.push({ name: "http-api", pid: this.#httpChild.pid });
    for (const w of this.#workers) {
      if (w.child.pid !== undefined) list.push({ name: w.name, pid: w.child.pid });
    }
    if (this.#redis.process.pid !== undefined) {
      list.push({ name: "redis-server", pid: this.#redis.process.pid });
    }
    return list;
  }

  logs(): string {
    const all = [
      ...(this.#httpChild === undefined ? [] : [this.#httpChild]),
      ...this.#workers.map((w) => w.child),
      this.#redis.process,
    ];
    return all.map((p) => `--- ${p.name} ---\n${p.output()}`).join("\n");
  }

  async #poll<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
    const outcome = await waitFor(
      async () => {
        const dead = this.#deadProcess();
        if (dead !== undefined) return { dead, value: undefined };
        const value = await probe();
        return value === undefined ? false : { dead: undefined, value };
      },
      { timeoutMs, intervalMs: pollMs, message: `waiting for ${what}` },
    ).catch((err: unknown) => {
      throw new BenchError(`bullmq: timed out waiting for ${what}`, { cause: err });
    });
    if (outcome.dead !== undefined) throw new BenchError(outcome.dead);
    return outcome.value;
  }

  #deadProcess(): string | undefined {
    const all = [
      ...(this.#httpChild === undefined ? [] : [this.#httpChild]),
      ...this.#workers.map((w) => w.child),
    ];
    for (const child of all) {
      if (!child.running()) return `bullmq ${child.name} exited:\n${child.output()}`;
    }
    if (!this.#redis.process.running())
      return `redis-server exited:\n${this.#redis.process.output()}`;
    return undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#dispose();
  }
}
