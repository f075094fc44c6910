import {
  ConsumerName,
  KvBucket,
  StreamName,
  Subject,
  prioritiesHighestFirst,
  workConsumerName,
} from "@conveyor/contracts";
import { findBinary, freePort, spawnServer, startNatsServer, waitFor } from "@conveyor/testing";
import type { NatsServerHandle } from "@conveyor/testing";
import {
  TopologyError,
  TopologyUpdateError,
  awaitTopology,
  createMissingTopology,
  ensureTopology,
  ensureWorkConsumer,
  verifyTopology,
} from "@conveyor/topology";
import { AckPolicy, StorageType, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

const allStreams = Object.values(StreamName);
const kvStream = `KV_${KvBucket.JobTypes}`;

describe("topology", () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    jsm = await jetstreamManager(nc);
  });

  afterAll(async () => {
    await nc.close();
    await server[Symbol.asyncDispose]();
  });

  beforeEach(async () => {
    for await (const name of jsm.streams.names()) await jsm.streams.delete(name);
  });

  /** Every stream (the KV buckets' too) and every consumer on them, as the server has them. */
  async function snapshot(): Promise<Record<string, unknown>> {
    const result: Record<string, unknown> = {};
    for await (const name of jsm.streams.names()) {
      const info = await jsm.streams.info(name);
      result[name] = { created: info.created, config: info.config };
      for await (const consumer of jsm.consumers.list(name)) {
        const key = `${name}/${consumer.name}`;
        result[key] = { created: consumer.created, config: consumer.config };
      }
    }
    return result;
  }

  it("creates every stream, consumer and the bucket, and a second run changes nothing", async () => {
    await ensureTopology(jsm);
    await verifyTopology(jsm);
    const js = jetstream(nc);
    await js.publish("jobs.submit.echo", "{}", { msgID: "keep-me" });

    const first = await snapshot();
    expect(Object.keys(first)).toEqual(
      expect.arrayContaining([...allStreams, kvStream, `KV_${KvBucket.Cancellations}`]),
    );
    expect(Object.keys(first).filter((key) => key.includes("/"))).toHaveLength(8);
    await ensureTopology(jsm);
    expect(await snapshot()).toEqual(first);
    expect((await jsm.streams.info(StreamName.Jobs)).state.messages).toBe(1);
  });

  it("gives each stream its retention and subjects", async () => {
    await ensureTopology(jsm);
    const work = await jsm.streams.info(StreamName.Work);
    expect(work.config).toMatchObject({ retention: "workqueue", subjects: ["work.>"] });
    const jobs = await jsm.streams.info(StreamName.Jobs);
    expect(jobs.config).toMatchObject({
      retention: "limits",
      storage: "file",
      subjects: ["jobs.submit.>", "jobs.bulk.>", "jobs.cmd.>"],
      duplicate_window: 3_600_000_000_000,
    });
    const kv = await jsm.streams.info(kvStream);
    expect(kv.config.max_msgs_per_subject).toBe(1);
    const intake = await jsm.consumers.info(StreamName.Jobs, ConsumerName.DispatcherIntake);
    expect(intake.config).toMatchObject({
      ack_policy: "explicit",
      filter_subject: "jobs.submit.>",
      ack_wait: 30_000_000_000,
    });
    const bulk = await jsm.consumers.info(StreamName.Jobs, ConsumerName.DispatcherBulkIntake);
    expect(bulk.config).toMatchObject({ ack_policy: "explicit", filter_subject: "jobs.bulk.>" });
  });

  it("adds bulk submissions to a JOBS stream provisioned before them, keeping its messages", async () => {
    await ensureTopology(jsm);
    await jetstream(nc).publish("jobs.submit.echo", "{}");
    const before = await jsm.streams.info(StreamName.Jobs);
    await jsm.streams.update(StreamName.Jobs, {
      ...before.config,
      subjects: ["jobs.submit.>", "jobs.cmd.>"],
    });
    await jsm.consumers.delete(StreamName.Jobs, ConsumerName.DispatcherBulkIntake);

    await ensureTopology(jsm);
    const jobs = await jsm.streams.info(StreamName.Jobs);
    expect(jobs.config.subjects).toContain("jobs.bulk.>");
    expect(jobs.state.messages).toBe(before.state.messages);
    await jetstream(nc).publish("jobs.bulk.echo", '{"jobs":[{}]}');
    // The consumer counts a stored message a moment after its PubAck.
    await waitFor(
      async () =>
        (await jsm.consumers.info(StreamName.Jobs, ConsumerName.DispatcherBulkIntake))
          .num_pending === 1,
      { message: "the recreated bulk intake consumer never had the bulk pending" },
    );
  });

  it("updates a stream in place when the options change, keeping its messages", async () => {
    await ensureTopology(jsm);
    await jetstream(nc).publish("jobs.submit.echo", "{}");
    await ensureTopology(jsm, { jobsDuplicateWindowMs: 60_000 });

    const jobs = await jsm.streams.info(StreamName.Jobs);
    expect(jobs.config.duplicate_window).toBe(60_000_000_000);
    expect(jobs.state.messages).toBe(1);
  });

  it("shortens how long EVENTS and JOBS keep messages in place (the server accepts it)", async () => {
    await ensureTopology(jsm);
    await jetstream(nc).publish("events.job-1.queued", "{}");
    const hourMs = 3_600_000;
    await ensureTopology(jsm, { eventsMaxAgeMs: hourMs, jobsMaxAgeMs: 2 * hourMs });

    const events = await jsm.streams.info(StreamName.Events);
    expect(events.config.max_age).toBe(hourMs * 1_000_000);
    expect(events.state.messages).toBe(1);
    const jobs = await jsm.streams.info(StreamName.Jobs);
    expect(jobs.config.max_age).toBe(2 * hourMs * 1_000_000);
  });

  it("names the stream and the setting JetStream will not change, and provisions the rest", async () => {
    // Created by hand on memory storage, which a stream cannot be moved off.
    await jsm.streams.add({
      name: StreamName.Events,
      subjects: ["events.>"],
      storage: StorageType.Memory,
    });

    const error = await ensureTopology(jsm).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(TopologyUpdateError);
    expect((error as TopologyUpdateError).failures).toEqual([
      expect.stringMatching(/^stream EVENTS: .*storage/),
    ]);
    // Everything else was still created.
    for (const name of [StreamName.Dlq, StreamName.Advisories, kvStream]) {
      expect((await jsm.streams.info(name)).config.name).toBe(name);
    }
    await jsm.consumers.info(StreamName.Jobs, ConsumerName.DispatcherIntake);
  });

  it("names every missing stream, consumer and bucket", async () => {
    await ensureTopology(jsm);
    await jsm.streams.delete(StreamName.Work);
    await jsm.consumers.delete(StreamName.Events, ConsumerName.Projector);
    await jsm.streams.delete(kvStream);

    const error = await verifyTopology(jsm).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(TopologyError);
    expect((error as TopologyError).missing).toEqual([
      "stream WORK",
      `consumer EVENTS/${ConsumerName.Projector}`,
      `kv bucket ${KvBucket.JobTypes}`,
    ]);
    expect((error as TopologyError).message).toContain("stream WORK");
  });

  it("waits for a topology provisioned after it started, telling what is missing as it changes", async () => {
    const reports: string[][] = [];
    const awaited = awaitTopology(jsm, {
      timeoutMs: 30_000,
      pollMs: 100,
      logger: {
        warn: ({ missing }) => {
          if (missing !== undefined) reports.push([...missing]);
        },
      },
    });
    let settled = false;
    void awaited.finally(() => (settled = true));
    await waitFor(() => Promise.resolve(reports.length > 0), {
      timeoutMs: 5000,
      message: "first report",
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(settled).toBe(false);
    // Unchanged checks are not reported again.
    expect(reports).toHaveLength(1);
    expect(reports[0]).toContain("stream JOBS");

    await ensureTopology(jsm);
    await awaited;
    expect(reports).toHaveLength(1);
  });

  it("gives up after its timeout, naming what is still missing", async () => {
    await ensureTopology(jsm);
    await jsm.streams.delete(StreamName.Work);
    const started = Date.now();
    const error = await awaitTopology(jsm, { timeoutMs: 600, pollMs: 100 }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(TopologyError);
    expect((error as TopologyError).missing).toEqual(["stream WORK"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });

  it("checks once with a timeout of 0", async () => {
    const error = await awaitTopology(jsm, { timeoutMs: 0 }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(TopologyError);
  });

  it("names the subjects and settings an older stream lacks, which its consumers would never see", async () => {
    await ensureTopology(jsm);
    const jobs = await jsm.streams.info(StreamName.Jobs);
    await jsm.streams.update(StreamName.Jobs, {
      ...jobs.config,
      subjects: ["jobs.submit.>", "jobs.cmd.>"],
    });
    const events = await jsm.streams.info(StreamName.Events);
    await jsm.streams.update(StreamName.Events, { ...events.config, allow_direct: false });
    const runsStream = `KV_${KvBucket.ScheduleRuns}`;
    const runs = await jsm.streams.info(runsStream);
    await jsm.streams.update(runsStream, { ...runs.config, allow_direct: false });

    const error = await verifyTopology(jsm).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(TopologyError);
    expect((error as TopologyError).missing).toEqual([
      "subject jobs.bulk.> of stream JOBS",
      "allow_direct of stream EVENTS",
      "allow_direct of kv bucket conveyor-schedule-runs",
    ]);
  });

  it("completes an older release's topology with createMissingTopology, keeping its settings", async () => {
    await ensureTopology(jsm);
    const jobs = await jsm.streams.info(StreamName.Jobs);
    await jsm.streams.update(StreamName.Jobs, {
      ...jobs.config,
      subjects: ["jobs.submit.>", "jobs.cmd.>"],
    });
    const cancellations = `KV_${KvBucket.Cancellations}`;
    const older = await jsm.streams.info(cancellations);
    await jsm.streams.update(cancellations, { ...older.config, allow_direct: false });
    await jsm.streams.delete(`KV_${KvBucket.ScheduleRuns}`);

    expect(await createMissingTopology(jsm)).toEqual([
      "subject jobs.bulk.> of stream JOBS",
      "allow_direct of kv bucket conveyor-cancellations",
      "kv bucket conveyor-schedule-runs",
    ]);
    await verifyTopology(jsm);
    // Its own settings stay: only what this release reads with is added.
    expect((await jsm.streams.info(cancellations)).config.max_age).toBe(older.config.max_age);
    expect(await createMissingTopology(jsm)).toEqual([]);
  });

  it("returns a work consumer's max_ack_pending to the default once it is no longer given", async () => {
    await ensureTopology(jsm);
    await ensureWorkConsumer(jsm, "report.build", { maxAckPending: 50 });
    await ensureWorkConsumer(jsm, "report.build");
    const info = await jsm.consumers.info(StreamName.Work, workConsumerName("report.build"));
    expect(info.config.max_ack_pending).toBe(10_000);
  });

  it("leaves a paused work consumer paused when a worker updates it", async () => {
    await ensureTopology(jsm);
    await ensureWorkConsumer(jsm, "report.pause", { ackWaitMs: 30_000 });
    const name = workConsumerName("report.pause");
    const until = new Date(Date.now() + 3_600_000);
    await jsm.consumers.pause(StreamName.Work, name, until);

    // Another lease is an update of the consumer, which must not drop its pause.
    await ensureWorkConsumer(jsm, "report.pause", { ackWaitMs: 45_000 });
    const info = await jsm.consumers.info(StreamName.Work, name);
    expect(info.config.ack_wait).toBe(45_000 * 1_000_000);
    expect(info.paused).toBe(true);
    expect(Date.parse(info.config.pause_until ?? "")).toBe(until.getTime());
  });

  it("gives each priority of a type a lane of its own, paused when the type is", async () => {
    await ensureTopology(jsm);
    const type = "report.lanes";
    // The type's consumer as a release before lanes made it, then paused.
    await jsm.consumers.add(StreamName.Work, {
      durable_name: workConsumerName(type),
      filter_subject: Subject.work(type),
      ack_policy: AckPolicy.Explicit,
    });
    const until = new Date(Date.now() + 3_600_000);
    await jsm.consumers.pause(StreamName.Work, workConsumerName(type), until);

    await ensureWorkConsumer(jsm, type);
    const js = jetstream(nc);
    for (const priority of [9, 5, 0])
      await js.publish(Subject.work(type, priority), `p${priority}`);
    for (const priority of prioritiesHighestFirst) {
      const info = await jsm.consumers.info(StreamName.Work, workConsumerName(type, priority));
      expect(info.config.filter_subject).toBe(Subject.work(type, priority));
      // Created after the pause: paused with the rest of the type, until the same time.
      expect(info.paused).toBe(true);
      expect(Date.parse(info.config.pause_until ?? "")).toBe(until.getTime());
      expect(info.num_pending).toBe([9, 5, 0].includes(priority) ? 1 : 0);
    }
  });

  it("serves two job types from non-overlapping workqueue consumers", async () => {
    await ensureTopology(jsm);
    await ensureWorkConsumer(jsm, "email.send");
    await ensureWorkConsumer(jsm, "json.analyze", { ackWaitMs: 5_000, maxAckPending: 50 });
    await ensureWorkConsumer(jsm, "email.send");

    const js = jetstream(nc);
    await js.publish("work.email.send", "e1");
    await js.publish("work.json.analyze", "j1");
    await js.publish("work.email.send", "e2");

    const received = async (type: string) => {
      const consumer = await js.consumers.get(StreamName.Work, workConsumerName(type));
      const batch = await consumer.fetch({ max_messages: 10, expires: 1_000 });
      const bodies: string[] = [];
      for await (const msg of batch) {
        bodies.push(msg.string());
        msg.ack();
      }
      return bodies;
    };
    expect(await received("email.send")).toEqual(["e1", "e2"]);
    expect(await received("json.analyze")).toEqual(["j1"]);

    const analyze = await jsm.consumers.info(StreamName.Work, "work_json_analyze");
    expect(analyze.config).toMatchObject({
      filter_subject: "work.json.analyze",
      ack_wait: 5_000_000_000,
      max_deliver: 100,
      max_ack_pending: 50,
    });
  });

  it("lifts the cap on deliveries that earlier releases gave the intake and command consumers", async () => {
    await ensureTopology(jsm);
    const capped = [
      ConsumerName.DispatcherIntake,
      ConsumerName.DispatcherBulkIntake,
      ConsumerName.DispatcherCommands,
    ];
    const capAsEarlierReleases = async () => {
      for (const name of capped) {
        const { config } = await jsm.consumers.info(StreamName.Jobs, name);
        await jsm.consumers.update(StreamName.Jobs, name, { ...config, max_deliver: 60 });
      }
    };
    const maxDeliveries = async () =>
      Promise.all(
        capped.map(async (name) => (await jsm.consumers.info(StreamName.Jobs, name)).config),
      ).then((configs) => configs.map((c) => c.max_deliver));

    await capAsEarlierReleases();
    // Services wait for provisioning to lift it: at the cap the server drops a message unseen.
    await expect(verifyTopology(jsm)).rejects.toThrow(
      "max_deliver -1 of consumer JOBS/dispatcher-intake (it has 60)",
    );
    await ensureTopology(jsm);
    expect(await maxDeliveries()).toEqual([-1, -1, -1]);
    await verifyTopology(jsm);

    // So does provisioning for a server someone else runs, keeping the rest of the consumer.
    await capAsEarlierReleases();
    expect(await createMissingTopology(jsm)).toContain(
      "max_deliver -1 of consumer JOBS/dispatcher-commands (it has 60)",
    );
    expect(await maxDeliveries()).toEqual([-1, -1, -1]);
    await verifyTopology(jsm);
  });

  it("updates a work consumer whose options changed", async () => {
    await ensureTopology(jsm);
    await ensureWorkConsumer(jsm, "email.send");
    await ensureWorkConsumer(jsm, "email.send", { ackWaitMs: 90_000 });
    const info = await jsm.consumers.info(StreamName.Work, "work_email_send");
    expect(info.config.ack_wait).toBe(90_000_000_000);
  });

  it("keeps a work consumer's longer lease when asked to, and says which lease is in force", async () => {
    await ensureTopology(jsm);
    const ackWait = async () =>
      (await jsm.consumers.info(StreamName.Work, "work_lease_kept")).config.ack_wait;
    expect(await ensureWorkConsumer(jsm, "lease.kept", { ackWaitMs: 60_000 })).toEqual({
      ackWaitMs: 60_000,
    });
    const kept = { ackWaitMs: 15_000, keepLongerAckWait: true };
    expect(await ensureWorkConsumer(jsm, "lease.kept", kept)).toEqual({ ackWaitMs: 60_000 });
    expect(await ackWait()).toBe(60_000_000_000);
    // A longer one is taken; without the option, the given one is.
    await ensureWorkConsumer(jsm, "lease.kept", { ackWaitMs: 90_000, keepLongerAckWait: true });
    expect(await ackWait()).toBe(90_000_000_000);
    await ensureWorkConsumer(jsm, "lease.kept", { ackWaitMs: 15_000 });
    expect(await ackWait()).toBe(15_000_000_000);
  });
});

describe("awaitTopology while JetStream does not answer yet", () => {
  it("waits through timeouts, as while nats-server starts beside the services, then through what is missing", async () => {
    await using server = await startNatsServer();
    const nc = await connect({
      servers: server.url,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    try {
      const jsm = await jetstreamManager(nc, { timeout: 300 });
      await server.stop();
      const warnings: string[] = [];
      const awaited = awaitTopology(jsm, {
        timeoutMs: 30_000,
        pollMs: 100,
        logger: {
          warn: (_fields, message) => {
            warnings.push(message);
          },
        },
      });
      let settled = false;
      void awaited.then(
        () => (settled = true),
        () => (settled = true),
      );
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(settled).toBe(false);
      await server.restart();
      const admin = await connect({ servers: server.url });
      try {
        await ensureTopology(await jetstreamManager(admin));
      } finally {
        await admin.close();
      }
      await awaited;
      expect(warnings.length).toBeGreaterThan(0);
    } finally {
      await nc.close();
    }
  });
});

describe("awaitTopology on a server whose JetStream is not enabled yet", () => {
  it("waits (no responders to the JetStream API), warning once, then throws at its deadline", async () => {
    // As the services open their manager: without the API check, which would throw at once.
    const port = await freePort();
    const server = spawnServer("nats-server", findBinary("nats-server"), [
      "-a",
      "127.0.0.1",
      "-p",
      String(port),
    ]);
    try {
      await waitFor(
        async () => {
          const probe = await connect({ servers: `nats://127.0.0.1:${port}` }).catch(
            () => undefined,
          );
          await probe?.close();
          return probe !== undefined;
        },
        { timeoutMs: 10_000, message: "nats-server without JetStream up" },
      );
      const nc = await connect({ servers: `nats://127.0.0.1:${port}` });
      try {
        const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: 500 });
        const warnings: string[] = [];
        const started = Date.now();
        const error = await awaitTopology(jsm, {
          timeoutMs: 1500,
          pollMs: 100,
          logger: {
            warn: (_fields, message) => {
              warnings.push(message);
            },
          },
        }).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(error).toBeInstanceOf(Error);
        expect(Date.now() - started).toBeGreaterThanOrEqual(1300);
        expect(warnings).toEqual(["waiting for JetStream to answer"]);
      } finally {
        await nc.close();
      }
    } finally {
      await server.stop();
    }
  });
});
