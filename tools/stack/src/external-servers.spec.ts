import { describe, expect, it } from "vitest";

import { checkExternalMongo, connectStackNats } from "./external-servers.ts";
import { StackError } from "./errors.ts";

// Nothing listens on port 1 of the loopback: connections are refused at once.
const refused = { nats: "nats://app:s3cret@127.0.0.1:1", mongo: "mongodb://u:pw@127.0.0.1:1/" };

describe("servers npm start is pointed at", () => {
  it("names NATS_URL, without its password, when nats-server does not answer", async () => {
    const err = await connectStackNats(refused.nats, undefined, true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StackError);
    expect((err as Error).message).toMatch(/NATS_URL/);
    expect((err as Error).message).toContain("127.0.0.1:1");
    expect((err as Error).message).not.toContain("s3cret");
  });

  it("names MONGO_URL, without its password, when MongoDB does not answer", async () => {
    const err = await checkExternalMongo(refused.mongo).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StackError);
    expect((err as Error).message).toMatch(/MONGO_URL/);
    expect((err as Error).message).not.toContain("pw@");
  });
});
