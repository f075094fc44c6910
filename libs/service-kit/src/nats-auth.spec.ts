import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { nkeys } from "@nats-io/transport-node";
import { describe, expect, it, onTestFinished } from "vitest";

import { ConfigError } from "./errors.ts";
import { natsAuthOf } from "./nats-auth.ts";
import type { NatsAuthEnv } from "./nats-auth.ts";

function refusal(env: NatsAuthEnv): ConfigError {
  try {
    natsAuthOf(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("not refused");
}

describe("natsAuthOf", () => {
  it("names no authentication when no variable is set (credentials may still be in NATS_URL)", () => {
    expect(natsAuthOf({})).toBeUndefined();
  });

  it("reads a user with a password, or a token", () => {
    expect(natsAuthOf({ NATS_USER: "conveyor", NATS_PASSWORD: "s3cret" })).toEqual({
      kind: "user",
      user: "conveyor",
      password: "s3cret",
    });
    expect(natsAuthOf({ NATS_TOKEN: "t0ken" })).toEqual({ kind: "token", token: "t0ken" });
  });

  it("reads a creds file that can be read, and names NATS_CREDS for one that cannot", async () => {
    const dir = await mkdtemp(join(tmpdir(), "conveyor-creds-"));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "user.creds");
    expect(refusal({ NATS_CREDS: file })).toMatchObject({
      variables: ["NATS_CREDS"],
      message: expect.stringContaining(file) as string,
    });
    // Read, but not a creds file: refused at start rather than failing every connect.
    await writeFile(file, "-----BEGIN NATS USER JWT-----\n...");
    expect(refusal({ NATS_CREDS: file })).toMatchObject({
      variables: ["NATS_CREDS"],
      message: expect.stringContaining("not a creds file") as string,
    });
    const user = nkeys.createUser();
    const seed = new TextDecoder().decode(user.getSeed());
    await writeFile(
      file,
      [
        "-----BEGIN NATS USER JWT-----",
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.c2ln",
        "------END NATS USER JWT------",
        "",
        "-----BEGIN USER NKEY SEED-----",
        seed,
        "------END USER NKEY SEED------",
        "",
      ].join("\n"),
    );
    expect(natsAuthOf({ NATS_CREDS: file })).toEqual({ kind: "creds", file });
  });

  it("refuses a user without a password and a password without a user, naming what is missing", () => {
    expect(refusal({ NATS_USER: "conveyor" }).variables).toEqual(["NATS_PASSWORD"]);
    expect(refusal({ NATS_PASSWORD: "s3cret" }).variables).toEqual(["NATS_USER"]);
  });

  it("refuses two ways at once, naming them", () => {
    const error = refusal({ NATS_TOKEN: "t", NATS_USER: "u", NATS_PASSWORD: "p" });
    expect(error.variables).toEqual(["NATS_USER", "NATS_PASSWORD", "NATS_TOKEN"]);
    expect(error.message).toContain("one way");
  });
});
