import {
  ConsumerName,
  JobPriority,
  StreamName,
  prioritiesHighestFirst,
  workConsumerName,
} from "@conveyor/contracts";
import type { JetStreamManager } from "@nats-io/jetstream";

import { consumerShortfalls } from "./consumer-shortfalls.ts";
import { coreConsumers, workConsumer } from "./consumers.ts";
import type { WorkConsumerOptions } from "./consumers.ts";
import { TopologyUpdateError } from "./errors.ts";
import { bucketSpecs, ensureBucket, kvStreamName } from "./kv-buckets.ts";
import { resolveTopologyOptions } from "./options.ts";
import type { TopologyOptions } from "./options.ts";
import {
  consumerInfo,
  reconcileConsumer,
  reconcileConsumerConfig,
  reconcileStream,
  streamInfo,
} from "./reconcile.ts";
import { streamShortfalls, withShortfallsMade } from "./stream-shortfalls.ts";
import { streamSpecs } from "./streams.ts";

/**
 * Creates or updates every stream, core consumer and KV bucket (job types, cancellations, schedules'
 * runs). Idempotent: running it
 * again with the same options changes nothing; changed options update the streams in place.
 * @throws {TopologyUpdateError} naming each resource the server refused, with its reason, once
 *   every other one is provisioned; a `RangeError` naming an option out of range.
 */
export async function ensureTopology(
  jsm: JetStreamManager,
  options?: TopologyOptions,
): Promise<void> {
  const resolved = resolveTopologyOptions(options);
  const failures: string[] = [];
  const causes: unknown[] = [];
  // One resource the server refuses (a stream on the wrong storage) must not leave the others
  // unprovisioned, nor hide which one it was.
  const provision = async (what: string, step: () => Promise<unknown>) => {
    try {
      await step();
    } catch (err) {
      failures.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      causes.push(err);
    }
  };
  for (const spec of streamSpecs(resolved)) {
    await provision(`stream ${spec.name}`, () => reconcileStream(jsm, spec));
  }
  for (const placement of coreConsumers()) {
    const name = `consumer ${placement.stream}/${placement.config.durable_name ?? ""}`;
    await provision(name, () => reconcileConsumer(jsm, placement));
  }
  for (const bucket of bucketSpecs) {
    await provision(`kv bucket ${bucket.name}`, () => ensureBucket(jsm, bucket, resolved.replicas));
  }
  if (failures.length > 0) throw new TopologyUpdateError(failures, causes);
}

/**
 * Creates every stream, core consumer and KV bucket that does not exist, as {@link ensureTopology}
 * would, and adds to an existing stream only the subjects (and direct gets) this release needs,
 * and to an existing core consumer only its delivery limit, leaving the rest as it is (replicas,
 * retention and limits are its owner's): for servers someone
 * else provisioned. Returns what it created, named as
 * {@link verifyTopology} names what is missing (`stream WORK`); empty when all was there.
 */
export async function createMissingTopology(
  jsm: JetStreamManager,
  options?: TopologyOptions,
): Promise<string[]> {
  const resolved = resolveTopologyOptions(options);
  const created: string[] = [];
  for (const spec of streamSpecs(resolved)) {
    const info = await streamInfo(jsm, spec.name);
    if (info === undefined) {
      await reconcileStream(jsm, spec);
      created.push(`stream ${spec.name}`);
      continue;
    }
    // A stream of an older release: its new subjects are added, its settings kept.
    const shortfalls = streamShortfalls(spec, info.config);
    if (shortfalls.length > 0) {
      await jsm.streams.update(spec.name, withShortfallsMade(spec, info.config));
      created.push(...shortfalls);
    }
  }
  for (const placement of coreConsumers()) {
    const { stream, config } = placement;
    const durable = config.durable_name ?? "";
    const info = await consumerInfo(jsm, stream, durable);
    if (info === undefined) {
      await reconcileConsumer(jsm, placement);
      created.push(`consumer ${stream}/${durable}`);
      continue;
    }
    // A consumer of an older release: its delivery limit is made this release's, the rest kept.
    const shortfalls = consumerShortfalls(placement, info.config);
    if (shortfalls.length > 0) {
      await jsm.consumers.update(stream, durable, {
        ...info.config,
        max_deliver: config.max_deliver,
      });
      created.push(...shortfalls);
    }
  }
  for (const bucket of bucketSpecs) {
    const name = kvStreamName(bucket.name);
    const info = await streamInfo(jsm, name);
    if (info === undefined) {
      await ensureBucket(jsm, bucket, resolved.replicas);
      created.push(`kv bucket ${bucket.name}`);
    } else if (!info.config.allow_direct) {
      // Its settings kept, but the direct gets services read it with.
      await jsm.streams.update(name, { ...info.config, allow_direct: true });
      created.push(`allow_direct of kv bucket ${bucket.name}`);
    }
  }
  return created;
}

/**
 * Creates or updates the durable pull consumers of a type's lanes on the work stream, one per
 * priority: `work_<type>` filtered to `work.<type>` for the default priority, `work_<type>__p<N>`
 * filtered to `work.<type>._p<N>` for the others. Types never overlap: `work.email.send` and
 * `work.json.analyze` are distinct subjects. A lane created while the type is paused (its default
 * lane's pause) is paused until the same time, so that a worker of a release with more lanes does
 * not run a paused type's jobs. Resolves with the longest lease in force on any lane.
 */
export async function ensureWorkConsumer(
  jsm: JetStreamManager,
  type: string,
  options?: WorkConsumerOptions,
): Promise<{ ackWaitMs: number }> {
  const main = await reconcileConsumerConfig(jsm, workConsumer(type, options));
  const created: number[] = [];
  const others = await Promise.all(
    prioritiesHighestFirst
      .filter((priority) => priority !== JobPriority.default)
      .map(async (priority) => {
        const lane = await reconcileConsumerConfig(jsm, workConsumer(type, options, priority));
        if (lane.outcome === "created") created.push(priority);
        return lane;
      }),
  );
  // Read once the lanes exist: a pause or resume from then on finds them and acts on them too.
  const pausedUntil = created.length > 0 ? await pauseInForce(jsm, type) : undefined;
  if (pausedUntil !== undefined) {
    await Promise.all(
      created.map((priority) =>
        jsm.consumers.pause(StreamName.Work, workConsumerName(type, priority), pausedUntil),
      ),
    );
  }
  const leases = [main, ...others].map(({ config }) => (config.ack_wait ?? 0) / 1_000_000);
  return { ackWaitMs: Math.max(...leases) };
}

/** Until when the type's default lane is paused, or undefined when it is not. */
async function pauseInForce(jsm: JetStreamManager, type: string): Promise<Date | undefined> {
  const info = await consumerInfo(jsm, StreamName.Work, workConsumerName(type));
  const until = info?.config.pause_until;
  if (info?.paused !== true || until === undefined) return undefined;
  return new Date(until);
}

/**
 * Creates or updates durable consumers that read what the status projector's read (`EVENTS`'
 * events, the `DLQ`'s letters and log) from the start, under other names: for a second projector
 * that rebuilds the read model into another database while the first goes on serving. Nothing is
 * done for a name that is the projector's own (`ensureTopology` provisions those).
 */
export async function ensureProjectorConsumers(
  jsm: JetStreamManager,
  names: { events: string; deadLetters: string },
): Promise<void> {
  const renamed = new Map<string, string>([
    [ConsumerName.Projector, names.events],
    [ConsumerName.ProjectorDeadLetters, names.deadLetters],
  ]);
  for (const placement of coreConsumers()) {
    const own = placement.config.durable_name;
    const name = own === undefined ? undefined : renamed.get(own);
    if (name === undefined || name === own) continue;
    await reconcileConsumerConfig(jsm, {
      ...placement,
      config: { ...placement.config, durable_name: name },
    });
  }
}
