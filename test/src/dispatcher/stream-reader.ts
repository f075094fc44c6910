import type { JetStreamManager, StoredMsg } from "@nats-io/jetstream";

/** Every message a stream currently stores whose subject passes `match`, oldest first. */
export async function storedMessages(
  jsm: JetStreamManager,
  stream: string,
  match: (subject: string) => boolean = () => true,
): Promise<StoredMsg[]> {
  const { state } = await jsm.streams.info(stream);
  const found: StoredMsg[] = [];
  if (state.messages === 0) return found;
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    const msg = await jsm.streams.getMessage(stream, { seq });
    if (msg && match(msg.subject)) found.push(msg);
  }
  return found;
}

/** A stored event: its subject and its JSON body. */
export interface StoredEvent<T> {
  subject: string;
  body: T;
}

/** The stored messages on `events.*.<kind>`, with their JSON bodies. */
export async function storedEvents<T>(
  jsm: JetStreamManager,
  kind: string,
): Promise<StoredEvent<T>[]> {
  const messages = await storedMessages(jsm, "EVENTS", (s) => s.endsWith(`.${kind}`));
  return messages.map((m) => ({ subject: m.subject, body: m.json<T>() }));
}
