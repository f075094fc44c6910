import type { JetStreamManager, StreamConfig } from "@nats-io/jetstream";

/**
 * Seals `stream`: from then on it refuses every message with an answer about the request (a 400,
 * "invalid operation on sealed stream"), which the services take as a failure of their own to
 * give up on, not as an outage to wait out. A stream cannot be unsealed: delete it and provision
 * it again afterwards.
 */
export async function sealStream(jsm: JetStreamManager, stream: string): Promise<void> {
  const { config } = await jsm.streams.info(stream);
  // Sealing is not an update nats.js's types offer; the server takes it as one.
  const sealed: StreamConfig = { ...config, sealed: true };
  await jsm.streams.update(stream, sealed);
}
