import type { NatsConnection } from "@nats-io/transport-node";

/**
 * Whether the NATS connection is up, followed from its status events. A submission made while the
 * link is down is refused at once instead of being buffered: a buffered publish could still be
 * stored after the client was told 503, and a retry without an idempotency key would then store
 * the job twice.
 */
export class NatsLink {
  readonly #nc: NatsConnection;
  #up = true;

  private constructor(nc: NatsConnection) {
    this.#nc = nc;
  }

  /** Starts following `nc`'s status; stops by itself when the connection closes. */
  static watch(nc: NatsConnection): NatsLink {
    const link = new NatsLink(nc);
    void link.#follow();
    return link;
  }

  /** The version of the nats-server connected to (or last connected to), as its INFO gives it. */
  get serverVersion(): string | undefined {
    return this.#nc.info?.version;
  }

  get up(): boolean {
    return this.#up && !this.#nc.isClosed() && !this.#nc.isDraining();
  }

  async #follow(): Promise<void> {
    for await (const status of this.#nc.status()) {
      if (status.type === "disconnect") this.#up = false;
      else if (status.type === "reconnect") this.#up = true;
    }
  }
}
