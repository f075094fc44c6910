import { setTimeout as sleep } from "node:timers/promises";

import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Db } from "mongodb";

import { JobClient } from "@conveyor/client";
import type { JobToSubmit } from "@conveyor/client";
import { ConsumerName, LifecycleKind, StreamName, Subject } from "@conveyor/contracts";
import { serviceNiceness, spawnService } from "@conveyor/stack";
import type { ServiceCode, ServiceName } from "@conveyor/stack";
import type { ServerProcess } from "@conveyor/testing";

import { BenchError } from "../errors.ts";
import type { NamedProcess } from "../metrics/process-sampler.ts";
import type { BenchServer } from "../servers/nats.ts";
import { JobKind } from "./system.ts";
import type { BenchJob, Mark, StartListener, SystemDriver, WatchOptions } from "./system.ts";
import { startService, workerReadyLine } from "./service-start.ts";
import { withTimeout } from "./with-timeout.ts";

/** Conveyor's job type for each bench job kind (built-in types of the reference worker). */
const jobType: Record<BenchJob["kind"], string> = { noop: "echo", sleep: "sleep" };

const pollMs = 20;
/** Jobs read back to confirm (or estimate) how many of a run are visible as succeeded. */
const visibleSampleSize = 50;
const stopGraceMs = 20_000;

interface Worker {
  name: string;
  process: ServerProcess;
}

/** What a {@link ConveyorDriver} works with; `startConveyor` provides it. */
export interface DriverDeps {
  nc: NatsConnection;
  jsm: JetStreamManager;
  db: Db;
  gatewayUrl: string;
  env: NodeJS.ProcessEnv;
  servers: Record<"nats-server" | "ferretdb", BenchServer>;
  readModel: boolean;
  /** How much nicer than the bench the status-projector runs, as `npm start` runs it. */
  readModelNiceness: number;
  /** Run the services from their sources or from the `nx build` output. */
  code: ServiceCode;
}

/**
 * Drives a running Conveyor: submits through JetStream, reads progress from the streams and the
 * read model, and starts and stops the service processes.
 */
export class ConveyorDriver implements SystemDriver {
  readonly name = "conveyor" as const;
  readonly http: { url: string; body: string };
  readonly #deps: DriverDeps;
  readonly #js: JetStreamClient;
  /** Submits as a user's program would: Conveyor's client, as BullMQ's side uses its `Queue`. */
  readonly #client: JobClient;
  readonly #services = new Map<ServiceName, ServerProcess>();
  readonly #workers: Worker[] = [];
  #dispose: () => Promise<void> = async () => {};

  constructor(deps: DriverDeps) {
    this.#deps = deps;
    this.#js = jetstream(deps.nc);
    this.#client = new JobClient(deps.nc);
    this.http = {
      url: `${deps.gatewayUrl}/v1/jobs`,
      body: JSON.stringify({ type: "echo", payload: { bench: 1 } }),
    };
  }

  onDispose(dispose: () => Promise<void>): void {
    this.#dispose = dispose;
  }

  async startServices(): Promise<void> {
    const names: ServiceName[] = ["gateway", "dispatcher"];
    if (this.#deps.readModel) names.push("status-projector");
    for (const name of names) {
      const niceness = serviceNiceness(name, this.#deps.readModelNiceness);
      this.#services.set(
        name,
        spawnService({ name, env: this.#deps.env, code: this.#deps.code, niceness }),
      );
    }
    await this.setWorkers(1);
    await this.#poll(
      async () => (await fetch(`${this.#deps.gatewayUrl}/readyz`)).ok,
      60_000,
      "the gateway to become ready",
      200,
    );
  }

  /** One job of each kind end to end, so every service has seen the types before timing starts. */
  async warmUp(): Promise<void> {
    const mark = await this.mark();
    // The dispatcher refuses a type until its registry watch has seen the worker register it
    // (and records a rejection): submit under fresh ids until the jobs reach the work queue.
    let routedFrom = mark.workLastSeq ?? 0;
    let jobs: BenchJob[] = [];
    for (let attempt = 0; ; attempt++) {
      jobs = [
        { id: `warm-${Date.now()}-${attempt}-noop`, kind: JobKind.Noop, payload: { warm: 1 } },
        { id: `warm-${Date.now()}-${attempt}-sleep`, kind: JobKind.Sleep, payload: { ms: 1 } },
      ];
      await this.submitMany(jobs, jobs.length);
      const routed = await this.#pollUntil(
        async () => (await this.#workState()).lastSeq - routedFrom >= jobs.length,
        Date.now() + 2000,
        50,
      );
      if (routed) break;
      if (attempt >= 30)
        throw new BenchError("conveyor: warm-up jobs never reached the work queue");
      routedFrom = (await this.#workState()).lastSeq;
    }
    await this.waitIdle(60_000);
    if (this.#deps.readModel) {
      await this.#poll(
        async () => (await this.#succeededAmong(jobs.map((job) => job.id))) === jobs.length,
        60_000,
        "warm-up jobs to show in the read model",
        200,
      );
    }
  }

  async stopServices(): Promise<void> {
    await Promise.all([
      ...[...this.#services.values()].map((p) => p.stop(stopGraceMs)),
      ...this.#workers.map((w) => w.process.stop(stopGraceMs)),
    ]);
  }

  #submission(job: BenchJob): JobToSubmit {
    return { id: job.id, type: jobType[job.kind], payload: job.payload };
  }

  async submitAsync(job: BenchJob): Promise<void> {
    await this.#client.submit(this.#submission(job));
  }

  submitOne(job: BenchJob): Promise<void> {
    return this.submitAsync(job);
  }

  /** A bulk submission per batch, as BullMQ's `addBulk`: one stored message for the batch. */
  async submitMany(jobs: readonly BenchJob[], batchSize: number): Promise<void> {
    for (let i = 0; i < jobs.length; i += batchSize) {
      const batch = jobs.slice(i, i + batchSize).map((j) => this.#submission(j));
      for (const result of await this.#client.submitBulk(batch)) {
        if (!result.ok) throw result.error;
      }
    }
  }

  async #workState(): Promise<{ messages: number; lastSeq: number }> {
    const info = await this.#deps.jsm.streams.info(StreamName.Work);
    return { messages: info.state.messages, lastSeq: info.state.last_seq };
  }

  /**
   * How many of `ids` read as succeeded, each looked up by `_id`: counting by status would scan
   * the whole collection on FerretDB, where only `_id` lookups use an index.
   */
  async #succeededAmong(ids: readonly string[]): Promise<number> {
    const jobs = this.#deps.db.collection<{ _id: string; status?: string }>("jobs");
    const docs = await Promise.all(
      ids.map((id) => jobs.findOne({ _id: id }, { projection: { status: 1 } })),
    );
    return docs.filter((doc) => doc?.status === "succeeded").length;
  }

  async mark(): Promise<Mark> {
    const work = await this.#workState();
    return { workLastSeq: work.lastSeq };
  }

  async waitQueued(mark: Mark, n: number, timeoutMs: number): Promise<void> {
    await this.#poll(
      async () => (await this.#workState()).lastSeq - (mark.workLastSeq ?? 0) >= n,
      timeoutMs,
      `${n} jobs routed into the work queue`,
    );
  }

  async waitAcked(mark: Mark, n: number, timeoutMs: number): Promise<void> {
    // WORK is a work queue: a job leaves it when its worker acknowledges it. Once every job has
    // been routed into it (the sequence moved by n) and it is empty, all were acknowledged.
    await this.#poll(
      async () => {
        const work = await this.#workState();
        return work.lastSeq - (mark.workLastSeq ?? 0) >= n && work.messages === 0;
      },
      timeoutMs,
      `${n} jobs acknowledged by workers`,
    );
  }

  async waitVisible(_mark: Mark, jobs: readonly BenchJob[], timeoutMs: number): Promise<number> {
    if (!this.#deps.readModel) return 0;
    const deadline = Date.now() + timeoutMs;
    // The projector acknowledges events after writing them; once its consumer has nothing pending
    // (nor leased) the read model holds every succeeded event. A sample of the jobs, read by id,
    // confirms it, or estimates how many had become visible when the wait ran out.
    await this.#pollUntil(() => this.#projectorCaughtUp(), deadline, pollMs);
    const sample = evenlySpaced(jobs, visibleSampleSize).map((job) => job.id);
    const found = await this.#succeededAmong(sample);
    return found === sample.length
      ? jobs.length
      : Math.round((jobs.length * found) / sample.length);
  }

  async #projectorCaughtUp(): Promise<boolean> {
    const info = await this.#deps.jsm.consumers.info(StreamName.Events, ConsumerName.Projector);
    return info.num_pending === 0 && info.num_ack_pending === 0;
  }

  async isSucceeded(id: string): Promise<boolean> {
    const res = await fetch(`${this.#deps.gatewayUrl}/v1/jobs/${id}`);
    if (res.status !== 200) {
      await res.body?.cancel();
      return false;
    }
    const body = (await res.json()) as { status?: string };
    return body.status === "succeeded";
  }

  async inReadModel(id: string): Promise<boolean> {
    if (!this.#deps.readModel) return false;
    return (await this.#succeededAmong([id])) === 1;
  }

  async watchStarts(listener: StartListener, options: WatchOptions = {}) {
    // A `started` event carries `at`, the worker's clock just before the handler ran. An attempt
    // done within the turn it started in has none: its `succeeded` or `failed` event carries that
    // time as `startedAt`. A job may be reported twice; the first report is its start. The events
    // are read from EVENTS with an ordered consumer, from the stream's end as it is now: a core
    // subscription loses messages when the bench falls behind under overload, this does not.
    // A `succeeded` event's `at` is its handler's end, just before the worker acknowledges it.
    let left = options.max ?? Number.POSITIVE_INFINITY;
    const kinds = [LifecycleKind.Started, LifecycleKind.Succeeded, LifecycleKind.Failed];
    const { state } = await this.#deps.jsm.streams.info(StreamName.Events);
    const consumer = await this.#js.consumers.get(StreamName.Events, {
      filter_subjects: kinds.map((kind) => Subject.event("*", kind)),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: state.last_seq + 1,
    });
    const messages = await consumer.consume({
      callback: (msg) => {
        if (left <= 0) return;
        const event = msg.json<{
          jobId?: string;
          kind?: string;
          at?: string;
          startedAt?: string;
        }>();
        const startedAt = event.kind === LifecycleKind.Started ? event.at : event.startedAt;
        if (event.jobId === undefined || startedAt === undefined) return;
        if (--left <= 0) messages.stop();
        listener(event.jobId, Date.parse(startedAt));
        if (event.kind === LifecycleKind.Succeeded && event.at !== undefined)
          options.onEnd?.(event.jobId, Date.parse(event.at));
      },
    });
    return () => {
      messages.stop();
    };
  }

  async setWorkers(count: number): Promise<void> {
    // SIGTERM: a worker drains (its open pull runs out first, at most 5 s).
    while (this.#workers.length > count) await this.#workers.pop()?.process.stop(stopGraceMs);
    const starting: Promise<void>[] = [];
    while (this.#workers.length < count) {
      const index = this.#workers.length + 1;
      const name = index === 1 ? "worker" : `worker-${index}`;
      const { process: proc, ready } = startService(
        {
          name: "worker",
          env: { ...this.#deps.env, WORKER_ID: `bench-${name}` },
          code: this.#deps.code,
        },
        name,
        workerReadyLine,
      );
      this.#workers.push({ name, process: proc });
      starting.push(ready);
    }
    await withTimeout(Promise.all(starting), 60_000, "conveyor workers did not start");
  }

  async waitIdle(timeoutMs: number): Promise<void> {
    await this.#poll(
      async () => {
        const [work, intake, bulk] = await Promise.all([
          this.#workState(),
          this.#deps.jsm.consumers.info(StreamName.Jobs, ConsumerName.DispatcherIntake),
          this.#deps.jsm.consumers.info(StreamName.Jobs, ConsumerName.DispatcherBulkIntake),
        ]);
        const unsettled = (info: typeof intake) => info.num_pending + info.num_ack_pending;
        return work.messages === 0 && unsettled(intake) + unsettled(bulk) === 0;
      },
      timeoutMs,
      "conveyor to become idle",
      50,
    );
  }

  async lag(): Promise<string | undefined> {
    if (!this.#deps.readModel) return "read model off (--without-projector)";
    const info = await this.#deps.jsm.consumers.info(StreamName.Events, ConsumerName.Projector);
    const behind = info.num_pending + info.num_ack_pending;
    return behind === 0 ? undefined : `read model ${behind.toLocaleString("en-US")} events behind`;
  }

  async waitCaughtUp(timeoutMs: number): Promise<string | undefined> {
    if (!this.#deps.readModel) return undefined;
    const caughtUp = await this.#pollUntil(
      () => this.#projectorCaughtUp(),
      Date.now() + timeoutMs,
      100,
    );
    return caughtUp ? undefined : this.lag();
  }

  processes(): NamedProcess[] {
    const list: NamedProcess[] = [];
    for (const [name, proc] of this.#services) {
      if (proc.pid !== undefined) list.push({ name, pid: proc.pid });
    }
    for (const w of this.#workers) {
      if (w.process.pid !== undefined) list.push({ name: w.name, pid: w.process.pid });
    }
    for (const [name, server] of Object.entries(this.#deps.servers)) {
      if (server.process.pid !== undefined) list.push({ name, pid: server.process.pid });
    }
    return list;
  }

  logs(): string {
    const all: [string, ServerProcess][] = [
      ...this.#services.entries(),
      ...this.#workers.map((w) => [w.name, w.process] as [string, ServerProcess]),
      ...Object.entries(this.#deps.servers).map(
        ([name, s]) => [name, s.process] as [string, ServerProcess],
      ),
    ];
    return all.map(([name, proc]) => `--- ${name} ---\n${proc.output()}`).join("\n");
  }

  /**
   * Polls `probe` until it holds; gives up at once when a service process exited (a crash will
   * not heal) and with a {@link BenchError} naming `what` after `timeoutMs`.
   */
  async #poll(
    probe: () => Promise<boolean>,
    timeoutMs: number,
    what: string,
    intervalMs = pollMs,
  ): Promise<void> {
    const held = await this.#pollUntil(probe, Date.now() + timeoutMs, intervalMs);
    if (!held)
      throw new BenchError(`conveyor: timed out after ${timeoutMs} ms waiting for ${what}`);
  }

  /** Polls `probe` until it holds (true) or `deadline` (epoch ms) passes (false). */
  async #pollUntil(
    probe: () => Promise<boolean>,
    deadline: number,
    intervalMs: number,
  ): Promise<boolean> {
    for (;;) {
      this.#throwIfDead();
      // A probe that fails (a request timing out) counts as "not yet".
      if (await probe().catch(() => false)) return true;
      if (Date.now() >= deadline) return false;
      await sleep(intervalMs);
    }
  }

  #throwIfDead(): void {
    const dead = this.#deadProcess();
    if (dead !== undefined) throw new BenchError(dead);
  }

  /** A message about the first service process that exited, if one did. */
  #deadProcess(): string | undefined {
    const all = [
      ...this.#services.entries(),
      ...this.#workers.map((w) => [w.name, w.process] as const),
    ];
    for (const [name, proc] of all) {
      if (!proc.running()) return `conveyor ${name} exited:\n${proc.output()}`;
    }
    return undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#dispose();
  }
}

/** At most `max` items of `items`, spread evenly from the first to the last. */
function evenlySpaced<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  const step = (items.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => items[Math.round(i * step)] as T);
}
