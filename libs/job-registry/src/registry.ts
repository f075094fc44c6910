import { JobTypeDescriptor, KvBucket } from "@conveyor/contracts";
import type { Logger } from "@conveyor/service-kit";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { KV, KvEntry } from "@nats-io/kv";
import type { NatsConnection, QueuedIterator } from "@nats-io/transport-node";

import { buildDescriptor, sameDeclaration } from "./descriptor.ts";
import type { JobTypeRegistration } from "./descriptor.ts";
import { RegistryUnavailableError } from "./errors.ts";
import { payloadValidator } from "./payload-schema.ts";
import type { JobTypeLookup } from "./submission-check.ts";

export interface JobTypeRegistryOptions {
  /** Receives warnings about unreadable entries and a failed watch. */
  logger?: Logger | undefined;
}

interface Known {
  revision: number;
  /** Absent when the latest revision deleted the type or could not be read. */
  descriptor?: JobTypeDescriptor;
}

/**
 * The registered job types, read from the `conveyor-job-types` KV bucket and kept current by a
 * watch, so `get` answers from memory. Workers `register` their types; gateway and dispatcher
 * `get` them to validate submissions.
 */
export class JobTypeRegistry implements JobTypeLookup {
  readonly #kv: KV;
  readonly #logger: Logger | undefined;
  readonly #known = new Map<string, Known>();
  #watch: QueuedIterator<KvEntry> | undefined;

  private constructor(kv: KV, logger: Logger | undefined) {
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
    const registry = new JobTypeRegistry(kv, options.logger);
    await registry.#start();
    return registry;
  }

  /**
   * Stores a type's descriptor (defaults filled in) and returns it. Registering the same
   * declaration again keeps the stored one, so restarting workers do not churn the bucket.
   * Throws an `InvalidJobTypeError` naming the bad fields.
   */
  async register(input: JobTypeRegistration): Promise<JobTypeDescriptor> {
    const descriptor = buildDescriptor(input);
    const current = await this.#kv.get(descriptor.type);
    const stored = current?.operation === "PUT" ? this.#decode(current) : undefined;
    if (current && stored && sameDeclaration(stored, descriptor)) {
      this.#apply(descriptor.type, current.revision, stored);
      return stored;
    }
    const revision = await this.#kv.put(descriptor.type, JSON.stringify(descriptor));
    this.#apply(descriptor.type, revision, descriptor);
    return descriptor;
  }

  /** The descriptor of a registered type, or undefined when no worker registered it. */
  get(type: string): JobTypeDescriptor | undefined {
    return this.#known.get(type)?.descriptor;
  }

  /** Every registered type, sorted by name. */
  list(): JobTypeDescriptor[] {
    return [...this.#known.values()]
      .flatMap((k) => (k.descriptor ? [k.descriptor] : []))
      .sort((a, b) => a.type.localeCompare(b.type));
  }

  /** Stops following the bucket. The connection stays open: it belongs to the caller. */
  close(): Promise<void> {
    this.#watch?.stop();
    this.#watch = undefined;
    return Promise.resolve();
  }

  async #start(): Promise<void> {
    // Watch first, then load: every change after the load arrives through the watch, and
    // revisions make the order in which the two report a key irrelevant.
    const watch = await this.#kv.watch();
    this.#watch = watch;
    void this.#follow(watch);
    for await (const key of await this.#kv.keys()) {
      const entry = await this.#kv.get(key);
      if (entry) this.#accept(entry);
    }
  }

  async #follow(watch: QueuedIterator<KvEntry>): Promise<void> {
    try {
      for await (const entry of watch) this.#accept(entry);
    } catch (err) {
      this.#logger?.error(
        { err },
        "job-types watch failed; registered types are no longer updated",
      );
    }
  }

  #accept(entry: KvEntry): void {
    const descriptor = entry.operation === "PUT" ? this.#decode(entry) : undefined;
    this.#apply(entry.key, entry.revision, descriptor);
  }

  #apply(type: string, revision: number, descriptor: JobTypeDescriptor | undefined): void {
    const known = this.#known.get(type);
    if (known && known.revision >= revision) return;
    this.#known.set(type, descriptor ? { revision, descriptor } : { revision });
  }

  /** The entry's descriptor, or undefined (with a warning) when it is unreadable. */
  #decode(entry: KvEntry): JobTypeDescriptor | undefined {
    try {
      const descriptor = JobTypeDescriptor.parse(entry.json());
      payloadValidator(descriptor);
      return descriptor;
    } catch (err) {
      this.#logger?.warn(
        { err, type: entry.key, revision: entry.revision },
        "ignoring unreadable job type descriptor",
      );
      return undefined;
    }
  }
}
