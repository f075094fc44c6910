import { natsAuthenticator, redactUrls } from "@conveyor/service-kit";
import type { NatsAuth } from "@conveyor/service-kit";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { MongoClient } from "mongodb";

import { StackError } from "./errors.ts";

/** How long a server npm start was pointed at may take to answer, in milliseconds. */
const answerTimeoutMs = 5000;

/**
 * Connects to the stack's nats-server: `NATS_URL`'s (`external`) or its own. A refusal of
 * `NATS_URL`'s names the variables that choose the server and authenticate to it, instead of
 * nats.js's bare error.
 */
export async function connectStackNats(
  url: string,
  auth: NatsAuth | undefined,
  external: boolean,
): Promise<NatsConnection> {
  try {
    return await connect({
      servers: url.split(","),
      timeout: answerTimeoutMs,
      name: "conveyor-stack",
      ...(auth === undefined ? {} : { authenticator: natsAuthenticator(auth) }),
    });
  } catch (err) {
    const advice = external
      ? ` (NATS_URL): ${message(err)}. Check that the server runs and NATS_URL is right, and ` +
        `its credentials (NATS_CREDS, NATS_USER / NATS_PASSWORD or NATS_TOKEN); unset NATS_URL ` +
        `to have npm start run its own nats-server`
      : `, the nats-server npm start runs: ${message(err)}`;
    throw new StackError(`cannot connect to NATS at ${redactUrls(url)}${advice}`, { cause: err });
  }
}

/**
 * Checks that `MONGO_URL`'s server answers before the services start: they would each fail
 * after their own timeouts, the status-projector restarting, with no word of the variable.
 */
export async function checkExternalMongo(url: string): Promise<void> {
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: answerTimeoutMs,
    connectTimeoutMS: answerTimeoutMs,
  });
  try {
    await client.db("admin").command({ ping: 1 });
  } catch (err) {
    throw new StackError(
      `MongoDB at ${redactUrls(url)} (MONGO_URL) does not answer: ${message(err)}. Check that ` +
        `the server runs and MONGO_URL is right; unset MONGO_URL to have npm start run FerretDB`,
      { cause: err },
    );
  } finally {
    await client.close();
  }
}

function message(err: unknown): string {
  return redactUrls(err instanceof Error ? err.message : String(err));
}
