import { setTimeout as sleep } from "node:timers/promises";

import type { JobTypeDescriptor } from "@conveyor/contracts";
import { JobTypeName, KvBucket } from "@conveyor/contracts";
import { KvFollower, createLogger, isWrongRevision } from "@conveyor/service-kit";
import type { KvChange, Logger } from "@conveyor/service-kit";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";

import { buildDescriptor, readStoredDescriptor, sameDeclaration } from "./descriptor.ts";
import type { JobTypeRegistration } from "./descriptor.ts";
import { JobTypeLookupError, RegistryUnavailableError } from "./errors.ts";
import { backtrackingPatterns, payloadValidator } from "./payload-schema.ts";
import type { JobTypeSource } from "./submission-check.ts";

const decoder = new TextDecoder();

/** How long {@link JobTypeRegistry.lookup} answers a type absent from the bucket without asking. */
export const missRememberedMs = 1000;
/** Most misses remembered at once. */
const maxRememberedMisses = 10_000;

export interface JobTypeRegistryOptions {
  /** Receives warnings about unreadable entries and a watch that ended and is reopened. */
  logger?: Logger | undefined;
}

interface Known {
  revision: number;
  /** Absent when the latest revision deleted the type or could not be read. */
  descriptor: JobTypeDescriptor | undefined;
  /** The declaration's `version`, read as bare JSON when the descriptor could not be read. */
  version: number | undefined;
}

/**
 * The registered job types, read from the `conveyor-job-types` KV bucket and kept current by a
 * watch (reopened with backoff, and the view reset, whenever it ends), so `get` answers from memory. Workers `register` their types; gateway and dispatcher
 * `get` them to validate submissions.
 */
export class JobTypeRegistry implements JobTypeSource {
  readonly #kv: KV;
  readonly #logger: Logger | undefined;
  readonly #nc: NatsConnection;
  readonly #known = new Map<string, Known>();
  /** When {@link lookup} last found each type absent from the bucket. */
  readonly #misses = new Map<string, number>();
  /** The bucket reads {@link lookup} has in flight, by type. */
  readonly #lookups = new Map<string, Promise<JobTypeDescriptor | undefined>>();
  /**
   * What this process registered, by type, with its declaration's version: put back when the
   * bucket loses it or holds an older version (see {@link #restoreIfLost}).
   */
  readonly #registered = new Map<string, { registration: JobTypeRegistration; version: number }>();
  /** The types {@link #restore} is putting back, and how far it is. */
  readonly #restoring = new Map<string, Promise<void>>();
  readonly #closed = new AbortController();
  #follower: KvFollower | undefined;

  private constructor(nc: NatsConnection, kv: KV, logger: Logger | undefined) {
    this.#nc = nc;
    this.#kv = kv;
    this.#logger = logger;
  }

  /**
   * Opens the bucket, loads every registered type and follows later changes. Throws a
   * {@link RegistryUnavailableError} when the bucket has not been provisioned.
   */
  static async open(
    nc: NatsConnection,
    options: JobTypeRegistryOptions = {},
  ): Promise<JobTypeRegistry> {
    const kv = await new Kvm(nc).open(KvBucket.JobTypes);
    try {
      await kv.status();
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) {
        throw new RegistryUnavailableError(KvBucket.JobTypes, { cause: err });
      }
      throw err;
    }
    const registry = new JobTypeRegistry(nc, kv, options.logger);
    // The follower logs its reopens; without a logger of the caller's they go nowhere.
    await registry.#start(options.logger ?? createLogger("job-registry", "silent"));
    return registry;
  }

  /**
   * Stores a type's descriptor (defaults filled in) and returns the one in force. Registering the
   * same declaration again keeps the stored one, so restarting workers do not churn the bucket. A
   * declaration of a lower `version` than the stored one keeps the stored one (an old replica
   * restarting in a rolling deploy must not put its schema back); one of the same or a higher
   * version replaces it, with a warning when it differs. Each write expects the revision it read,
   * so two workers registering at once never overwrite each other unseen: the loser reads again.
   * A stored declaration this process cannot read (a newer release's field) but whose `version` is
   * higher stays too; the declaration given is then returned, not stored.
   * While this registry stays open, the type is registered again whenever the bucket loses it.
   * Throws an `InvalidJobTypeError` naming the bad fields.
   */
  async register(input: JobTypeRegistration): Promise<JobTypeDescriptor> {
    const registered = await this.#store(input);
    this.#registered.set(registered.type, {
      registration: input,
      version: buildDescriptor(input).version,
    });
    return registered;
  }

  async #store(input: JobTypeRegistration): Promise<JobTypeDescriptor> {
    const descriptor = buildDescriptor(input);
    const backtracking = descriptor.payloadSchema && backtrackingPatterns(descriptor.payloadSchema);
    if (backtracking?.length) {
      this.#logger?.warn(
        { type: descriptor.type, patterns: backtracking },
        "these payload patterns cannot run on RE2 (lookarounds, backreferences, repeats over " +
          "1,000), so they run on V8's backtracking engine, where a client's string can take " +
          "exponential time; the others run in linear time",
      );
    }
    for (;;) {
      const current = await this.#kv.get(descriptor.type);
      const stored =
        current?.operation === "PUT"
          ? this.#decode(current.key, current.revision, () => current.json())
          : undefined;
      if (current && stored && sameDeclaration(stored, descriptor)) {
        this.#apply(descriptor.type, current.revision, stored);
        return stored;
      }
      // A newer release's declaration this one cannot read (a field it does not know) is still
      // newer: an old replica restarting in a rolling deploy must not put its own back.
      const unreadableVersion =
        current?.operation === "PUT" && stored === undefined
          ? versionOf(current, descriptor.type)
          : undefined;
      if (current && unreadableVersion !== undefined && unreadableVersion > descriptor.version) {
        this.#logger?.warn(
          { type: descriptor.type, registered: unreadableVersion, declared: descriptor.version },
          "a newer declaration of the job type, which this worker cannot read, stays in force",
        );
        return descriptor;
      }
      if (current && stored && stored.version > descriptor.version) {
        this.#logger?.warn(
          { type: descriptor.type, registered: stored.version, declared: descriptor.version },
          "a newer declaration of the job type is registered: it stays in force",
        );
        this.#apply(descriptor.type, current.revision, stored);
        return stored;
      }
      const value = JSON.stringify(descriptor);
      let revision: number;
      try {
        revision = current
          ? await this.#kv.update(descriptor.type, value, current.revision)
          : await this.#kv.create(descriptor.type, value);
      } catch (err) {
        // Another worker wrote the type since it was read: decide again on what it wrote.
        if (isWrongRevision(err)) continue;
        throw err;
      }
      if (stored) {
        this.#logger?.warn(
          { type: descriptor.type, version: descriptor.version, replaced: stored.version },
          "the job type's declaration changed: the new one is in force",
        );
      }
      this.#apply(descriptor.type, revision, descriptor);
      return descriptor;
    }
  }

  /** The descriptor of a registered type, or undefined when no worker registered it. */
  get(type: string): JobTypeDescriptor | undefined {
    return this.#known.get(type)?.descriptor;
  }

  /**
   * The `version` of the declaration of `type` in force, also when this process cannot read that
   * declaration (a newer release's field), as far as the watch has shown it; undefined when none
   * is known. A worker whose own declaration is older learns so here.
   */
  versionInForce(type: string): number | undefined {
    return this.#known.get(type)?.version;
  }

  /**
   * The descriptor of `type`, read from the bucket itself when the watch has not shown it (yet):
   * a worker's registration reaches each watch a moment after its write, and a submission sent as
   * soon as `register` resolved must not be refused as of an unknown type. A miss is remembered
   * for {@link missRememberedMs}, so that a producer of a misspelled type does not have every
   * message read the bucket. Undefined when the type is not registered.
   * @throws {JobTypeLookupError} when the bucket cannot be read: whether the type is registered
   *   is then unknown (not remembered as a miss).
   */
  lookup(type: string): Promise<JobTypeDescriptor | undefined> {
    const known = this.get(type);
    if (known !== undefined || !JobTypeName.safeParse(type).success) return Promise.resolve(known);
    const missedAt = this.#misses.get(type);
    if (missedAt !== undefined && Date.now() - missedAt < missRememberedMs) {
      return Promise.resolve(undefined);
    }
    // Submissions of one type arriving together share one read.
    let reading = this.#lookups.get(type);
    if (reading === undefined) {
      reading = this.#read(type).finally(() => this.#lookups.delete(type));
      this.#lookups.set(type, reading);
    }
    return reading;
  }

  async #read(type: string): Promise<JobTypeDescriptor | undefined> {
    let entry: Awaited<ReturnType<KV["get"]>>;
    try {
      entry = await this.#kv.get(type);
    } catch (err) {
      throw new JobTypeLookupError(type, { cause: err });
    }
    if (entry?.operation === "PUT") {
      const descriptor = this.#decode(entry.key, entry.revision, () => entry.json());
      if (descriptor !== undefined) {
        this.#misses.delete(type);
        this.#apply(type, entry.revision, descriptor);
        return descriptor;
      }
    }
    // Bounded: a flood of distinct names starts the memory afresh.
    if (this.#misses.size >= maxRememberedMisses) this.#misses.clear();
    this.#misses.set(type, Date.now());
    return undefined;
  }

  /** Every registered type, sorted by name. */
  list(): JobTypeDescriptor[] {
    return [...this.#known.values()]
      .flatMap((k) => (k.descriptor ? [k.descriptor] : []))
      .sort((a, b) => a.type.localeCompare(b.type));
  }

  /** Stops following the bucket. The connection stays open: it belongs to the caller. */
  async close(): Promise<void> {
    this.#closed.abort();
    await this.#follower?.close();
    this.#follower = undefined;
    // A write already under way ends before the caller may close the connection.
    await Promise.all(this.#restoring.values());
  }

  /**
   * Puts a type this process registered back when the bucket no longer holds it: the bucket was
   * deleted and provisioned again (JetStream's state lost), or the key deleted, while this worker
   * still runs the type. Otherwise every submission of it would be refused as `unknown_type` until
   * the worker restarted. Also when the bucket holds an older version than this process's: after
   * such a loss, a replica of an older release may have put its own back first. Tried again with a
   * growing pause until it is stored or the registry is closed; replicas doing it at once store it
   * once, and one of an older version never replaces a newer one.
   */
  #restoreIfLost(type: string): void {
    const own = this.#registered.get(type);
    if (own === undefined || this.#restoring.has(type)) return;
    const inForce = this.#known.get(type)?.version;
    if (inForce !== undefined && inForce >= own.version) return;
    const restoring = this.#restore(type, own.registration).finally(() => {
      this.#restoring.delete(type);
    });
    this.#restoring.set(type, restoring);
  }

  async #restore(type: string, registration: JobTypeRegistration): Promise<void> {
    const signal = this.#closed.signal;
    for (let pauseMs = restorePauseMs.first; !signal.aborted;) {
      try {
        const inForce = await this.#store(registration);
        this.#logger?.warn(
          { type, version: inForce.version },
          "the job type was gone from the bucket, or older there: registered again",
        );
        return;
      } catch (err) {
        if (signal.aborted) return;
        this.#logger?.warn({ err, type, pauseMs }, "could not register the job type again");
      }
      await sleep(pauseMs, undefined, { signal }).catch(() => undefined);
      pauseMs = Math.min(pauseMs * 2, restorePauseMs.max);
    }
  }

  async #start(logger: Logger): Promise<void> {
    this.#follower = await KvFollower.open(
      this.#nc,
      KvBucket.JobTypes,
      {
        reset: (entries) => {
          this.#known.clear();
          for (const entry of entries) this.#accept(entry);
          for (const type of this.#registered.keys()) this.#restoreIfLost(type);
        },
        apply: (entry) => {
          this.#accept(entry);
          this.#restoreIfLost(entry.key);
        },
      },
      { logger },
    );
  }

  #accept(change: KvChange): void {
    if (change.operation !== "PUT") {
      this.#apply(change.key, change.revision, undefined);
      return;
    }
    const json = () => JSON.parse(decoder.decode(change.value)) as unknown;
    const descriptor = this.#decode(change.key, change.revision, json);
    const version = descriptor?.version ?? versionOf({ json }, change.key);
    this.#apply(change.key, change.revision, descriptor, version);
  }

  #apply(
    type: string,
    revision: number,
    descriptor: JobTypeDescriptor | undefined,
    version = descriptor?.version,
  ): void {
    const known = this.#known.get(type);
    if (known && known.revision >= revision) return;
    this.#known.set(type, { revision, descriptor, version });
  }

  /** The entry's descriptor, or undefined (with a warning) when it is unreadable. */
  #decode(type: string, revision: number, json: () => unknown): JobTypeDescriptor | undefined {
    try {
      const descriptor = readStoredDescriptor(json());
      // A key holding another type's declaration (written by hand) would accept jobs under it.
      if (descriptor.type !== type) {
        throw new Error(`the entry of ${type} declares the type ${descriptor.type}`);
      }
      payloadValidator(descriptor);
      return descriptor;
    } catch (err) {
      this.#logger?.warn({ err, type, revision }, "ignoring unreadable job type descriptor");
      return undefined;
    }
  }
}

/** Pauses between tries of putting a lost type back, in milliseconds. */
const restorePauseMs = { first: 1000, max: 30_000 };

/** The `version` of a stored descriptor of `type` read as bare JSON, when it has a number there. */
function versionOf(entry: { json: () => unknown }, type: string): number | undefined {
  try {
    const stored = entry.json() as { type?: unknown; version?: unknown };
    return stored.type === type && typeof stored.version === "number" ? stored.version : undefined;
  } catch {
    return undefined;
  }
}
