import { Tracing } from "@conveyor/telemetry";
import { startNatsServer, waitFor } from "@conveyor/testing";
import type { NatsServerHandle, WaitForOptions } from "@conveyor/testing";
import { ensureTopology } from "@conveyor/topology";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll } from "vitest";

import { started } from "./started.ts";

/**
 * What a suite of a service's real-server tests shares: a NATS server of its own with Conveyor's
 * topology, one connection to it, and tracing. Read the fields inside tests and hooks: they are
 * set by the suite's `beforeAll`, and reading one earlier throws rather than hand out `undefined`.
 */
export class NatsSuite {
  #server: NatsServerHandle | undefined;
  #nc: NatsConnection | undefined;
  #js: JetStreamClient | undefined;
  #jsm: JetStreamManager | undefined;
  #tracing: Tracing | undefined;

  get server(): NatsServerHandle {
    return started(this.#server, "NatsSuite.server");
  }
  get nc(): NatsConnection {
    return started(this.#nc, "NatsSuite.nc");
  }
  get js(): JetStreamClient {
    return started(this.#js, "NatsSuite.js");
  }
  get jsm(): JetStreamManager {
    return started(this.#jsm, "NatsSuite.jsm");
  }
  get tracing(): Tracing {
    return started(this.#tracing, "NatsSuite.tracing");
  }

  /** Starts the server, connects, creates the topology. */
  async start(serviceName: string): Promise<void> {
    this.#server = await startNatsServer();
    this.#nc = await connect({ servers: this.#server.url });
    this.#js = jetstream(this.#nc);
    this.#jsm = await jetstreamManager(this.#nc);
    await ensureTopology(this.#jsm);
    this.#tracing = Tracing.create({ serviceName });
  }

  /** Closes what `start` opened, in reverse order. */
  async stop(): Promise<void> {
    await this.#nc?.close();
    await this.#tracing?.shutdown();
    await this.#server?.[Symbol.asyncDispose]();
  }
}

/**
 * A {@link NatsSuite} for the enclosing `describe`: started before its first test and stopped
 * after its last. Hooks the suite registers after this call run after the start and, since
 * vitest runs `afterAll` hooks in reverse, before the stop (so they can still use the connection).
 */
export function useNatsSuite(serviceName: string): NatsSuite {
  const suite = new NatsSuite();
  beforeAll(() => suite.start(serviceName));
  afterAll(() => suite.stop());
  return suite;
}

/** Options of {@link consumerSettled}. */
export interface ConsumerSettledOptions extends Omit<WaitForOptions, "intervalMs"> {
  /**
   * The stream sequence of the last message published for the consumer (its PubAck's `seq`). The
   * server counts a stored message into a consumer's pending messages a moment after the PubAck,
   * so right after a publish the consumer can look settled without having seen it; with `through`
   * it is settled only once it has delivered that message too.
   */
  through?: number;
}

/**
 * Waits until a consumer has nothing left to deliver and nothing awaiting acknowledgement: every
 * message published so far (through `options.through`) has been handled.
 */
export async function consumerSettled(
  jsm: JetStreamManager,
  stream: string,
  consumer: string,
  options: ConsumerSettledOptions = {},
): Promise<void> {
  const { through = 0, ...wait } = options;
  await waitFor(
    async () => {
      const info = await jsm.consumers.info(stream, consumer);
      const counted = info.delivered.stream_seq >= through;
      return counted && info.num_pending === 0 && info.num_ack_pending === 0;
    },
    { ...wait, message: wait.message ?? `consumer ${stream}/${consumer} never settled` },
  );
}
