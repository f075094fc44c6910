import { readFileSync } from "node:fs";

import {
  credsAuthenticator,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
} from "@nats-io/transport-node";
import type { Authenticator } from "@nats-io/transport-node";
import { z } from "zod";

import { ConfigError } from "./errors.ts";

/**
 * How a service authenticates to NATS besides credentials in `NATS_URL`: at most one way, each
 * from its own variables so that a secret need not sit in a URL (on Kubernetes, in a Secret rather
 * than the ConfigMap).
 */
export const natsAuthEnv = {
  /** Path of a `.creds` file (a user JWT and its nkey seed), as the `nats` CLI's `--creds`. */
  NATS_CREDS: z.string().optional(),
  NATS_USER: z.string().optional(),
  NATS_PASSWORD: z.string().optional(),
  NATS_TOKEN: z.string().optional(),
} as const;

export type NatsAuthEnv = { [K in keyof typeof natsAuthEnv]?: string | undefined };

/** One way to authenticate to NATS, as {@link natsAuthOf} reads it from the environment. */
export type NatsAuth =
  | { kind: "creds"; file: string }
  | { kind: "user"; user: string; password: string }
  | { kind: "token"; token: string };

/**
 * The authentication the environment names, `undefined` for none.
 *
 * @throws {ConfigError} naming the variables when more than one way is given, a user comes
 *   without a password or a password without a user, or the creds file cannot be read.
 */
export function natsAuthOf(env: NatsAuthEnv): NatsAuth | undefined {
  const { NATS_CREDS: file, NATS_USER: user, NATS_PASSWORD: password, NATS_TOKEN: token } = env;
  const given = [
    file !== undefined && "NATS_CREDS",
    (user !== undefined || password !== undefined) && "NATS_USER/NATS_PASSWORD",
    token !== undefined && "NATS_TOKEN",
  ].filter((name) => name !== false);
  if (given.length > 1) {
    throw new ConfigError(
      `invalid configuration: give one way to authenticate to NATS, not ${given.join(" and ")}`,
      given.flatMap((name) => name.split("/")),
    );
  }
  if (file !== undefined) {
    checkCreds(file);
    return { kind: "creds", file };
  }
  if (user !== undefined || password !== undefined) {
    if (user === undefined || password === undefined) {
      const missing = user === undefined ? "NATS_USER" : "NATS_PASSWORD";
      throw new ConfigError(
        `invalid configuration: ${missing}: required with ${user === undefined ? "NATS_PASSWORD" : "NATS_USER"}`,
        [missing],
      );
    }
    return { kind: "user", user, password };
  }
  return token === undefined ? undefined : { kind: "token", token };
}

/**
 * The nats.js authenticator of `auth`. A creds file is read again at every connect and reconnect,
 * so that credentials rotated in place (a Secret's mounted file) are picked up.
 */
export function natsAuthenticator(auth: NatsAuth): Authenticator {
  switch (auth.kind) {
    case "creds":
      return credsAuthenticator(() => readCreds(auth.file));
    case "user":
      return usernamePasswordAuthenticator(auth.user, auth.password);
    case "token":
      return tokenAuthenticator(auth.token);
  }
}

/** Reads the creds file and signs a test nonce with it, as the server's challenge will be. */
function checkCreds(file: string): void {
  const bytes = readCreds(file);
  try {
    credsAuthenticator(bytes)("conveyor");
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError(
      `invalid configuration: NATS_CREDS: ${file} is not a creds file (a user JWT and its nkey seed): ${reason}`,
      ["NATS_CREDS"],
    );
  }
}

function readCreds(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError(`invalid configuration: NATS_CREDS: cannot read ${file}: ${reason}`, [
      "NATS_CREDS",
    ]);
  }
}
