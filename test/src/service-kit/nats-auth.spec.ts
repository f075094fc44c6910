import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import {
  createAccount,
  createOperator,
  createUser,
  encodeAccount,
  encodeOperator,
  encodeUser,
  fmtCreds,
} from "@nats-io/jwt";
import { JobClient, SubmissionNotConfirmedError } from "@conveyor/client";
import { ensureTopology } from "@conveyor/topology";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats, createLogger, natsAuthenticator, natsAuthOf } from "@conveyor/service-kit";
import type { NatsAuth, NatsAuthEnv } from "@conveyor/service-kit";
import {
  findBinary,
  freePort,
  jetStreamServerArgs,
  spawnServer,
  waitUntilReady,
  workspaceRoot,
} from "@conveyor/testing";
import { describe, expect, it } from "vitest";

const logger = createLogger("test", "silent");

/** A nats-server with JetStream that requires `auth`, started with `args` (flags or `-c file`). */
async function securedNats(
  args: (port: number, storeDir: string) => string[] | Promise<string[]>,
  auth: NatsAuth,
) {
  const port = await freePort();
  const storeDir = await mkdtemp(join(tmpdir(), "conveyor-nats-auth-"));
  const server = spawnServer("nats-server", findBinary("nats-server"), await args(port, storeDir));
  const url = `nats://127.0.0.1:${String(port)}`;
  await waitUntilReady(
    server,
    async () => {
      const nc = await connect({
        servers: url,
        reconnect: false,
        authenticator: natsAuthenticator(auth),
      });
      await nc.close();
      return true;
    },
    20_000,
  );
  return {
    url,
    [Symbol.asyncDispose]: async () => {
      await server.stop();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

/** Whether a connection made with `env`'s authentication can use JetStream. */
async function jetStreamAnswers(url: string, env: NatsAuthEnv): Promise<void> {
  const nc: NatsConnection = await connectNats({
    url,
    name: "auth-test",
    logger,
    auth: natsAuthOf(env),
  });
  try {
    await (await jetstreamManager(nc)).getAccountInfo();
  } finally {
    await nc.close();
  }
}

/** A directory of its own, removed with everything in it when disposed. */
async function tempDir(prefix: string) {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }) };
}

/** A nats-server requiring `env`'s user and password. */
const userPasswordNats = (env: { NATS_USER: string; NATS_PASSWORD: string }) =>
  securedNats(
    (port, storeDir) => [
      ...jetStreamServerArgs(port, storeDir),
      ...["--user", env.NATS_USER, "--pass", env.NATS_PASSWORD],
    ],
    natsAuthOf(env)!,
  );

/** Connecting without credentials is refused by the server. */
async function refusedWithout(url: string): Promise<void> {
  await expect(connect({ servers: url, reconnect: false, timeout: 2000 })).rejects.toThrow(/auth/i);
}

describe("connecting to a nats-server that requires authentication", () => {
  it("authenticates with NATS_USER and NATS_PASSWORD", async () => {
    const env = { NATS_USER: "conveyor", NATS_PASSWORD: "s3cret pass" };
    await using nats = await userPasswordNats(env);
    await refusedWithout(nats.url);
    await jetStreamAnswers(nats.url, env);
  });

  it("provisions the topology with the environment's credentials (the topology Job's entry point)", async () => {
    const env = { NATS_USER: "provisioner", NATS_PASSWORD: "an0ther" };
    await using nats = await userPasswordNats(env);
    const script = join(workspaceRoot(), "tools", "stack", "src", "provision-topology.ts");
    const child = spawn(process.execPath, ["--conditions=conveyor-source", script], {
      env: { PATH: process.env["PATH"], NATS_URL: nats.url, ...env, LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, "exit")) as [number | null];
    expect(code, output).toBe(0);
    const nc = await connectNats({ url: nats.url, name: "check", logger, auth: natsAuthOf(env) });
    try {
      const streams = await (await jetstreamManager(nc)).streams.names().next();
      expect(streams).toContain("WORK");
    } finally {
      await nc.close();
    }
  });

  it("authenticates with NATS_TOKEN", async () => {
    const env = { NATS_TOKEN: "t0ken-of-conveyor" };
    await using nats = await securedNats(
      (port, storeDir) => [...jetStreamServerArgs(port, storeDir), "--auth", env.NATS_TOKEN],
      natsAuthOf(env)!,
    );
    await refusedWithout(nats.url);
    await jetStreamAnswers(nats.url, env);
  });

  it("authenticates with a NATS_CREDS file against a server in operator mode", async () => {
    const operator = createOperator();
    // JetStream needs a system account in operator mode.
    const system = createAccount();
    const account = createAccount();
    const user = createUser();
    const operatorJwt = await encodeOperator("conveyor-op", operator, {
      system_account: system.getPublicKey(),
    });
    const systemJwt = await encodeAccount("SYS", system, {}, { signer: operator });
    // Unlimited (-1) connections, subscriptions and data, with JetStream enabled (no limit given
    // is a limit of 0).
    const limits = {
      ...{ conn: -1, subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true },
      ...{ mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 },
    };
    const accountJwt = await encodeAccount("conveyor", account, { limits }, { signer: operator });
    const userJwt = await encodeUser("conveyor-services", user, account);
    // Holds the user's seed: removed with the test.
    await using temp = await tempDir("conveyor-nats-op-");
    const { dir } = temp;
    const credsFile = join(dir, "services.creds");
    await writeFile(credsFile, fmtCreds(userJwt, user));
    const env = { NATS_CREDS: credsFile };
    await using nats = await securedNats(async (port, storeDir) => {
      const config = join(dir, "server.conf");
      await writeFile(
        config,
        [
          `listen: "127.0.0.1:${String(port)}"`,
          `jetstream: { store_dir: "${storeDir}" }`,
          `operator: "${operatorJwt}"`,
          `system_account: "${system.getPublicKey()}"`,
          "resolver: MEMORY",
          "resolver_preload: {",
          `  "${system.getPublicKey()}": "${systemJwt}"`,
          `  "${account.getPublicKey()}": "${accountJwt}"`,
          "}",
        ].join("\n"),
      );
      return ["-c", config];
    }, natsAuthOf(env)!);
    await refusedWithout(nats.url);
    await jetStreamAnswers(nats.url, env);
  });
});

const admin = { user: "admin", pass: "adm1n" };
const app = { user: "app", pass: "app-pass" };

/**
 * A server with two users, an admin and `app` with the given permissions (nats-server's config
 * syntax), whose topology the admin has provisioned.
 */
async function provisionedWithApp(
  appPermissions: string,
): Promise<AsyncDisposable & { url: string }> {
  const nats = await securedNats(
    async (port, storeDir) => {
      const config = join(storeDir, "nats.conf");
      await writeFile(
        config,
        [
          `listen: "127.0.0.1:${String(port)}"`,
          `jetstream { store_dir: "${storeDir}" }`,
          "authorization { users = [",
          `  { user: "${admin.user}", password: "${admin.pass}" }`,
          `  { user: "${app.user}", password: "${app.pass}", permissions: ${appPermissions} }`,
          "] }",
        ].join("\n"),
      );
      return ["-c", config];
    },
    { kind: "user", user: admin.user, password: admin.pass },
  );
  try {
    const adminNc = await connect({ servers: nats.url, ...admin });
    await ensureTopology(await jetstreamManager(adminNc));
    await adminNc.close();
    return nats;
  } catch (err) {
    await nats[Symbol.asyncDispose]();
    throw err;
  }
}

describe("a user allowed to receive replies only under its connection's inbox prefix", () => {
  it("submits with a JobClient that was not told the prefix: the client uses the connection's", async () => {
    await using nats = await provisionedWithApp('{ publish: [">"], subscribe: ["_INBOX_app.>"] }');
    const nc = await connect({ servers: nats.url, ...app, inboxPrefix: "_INBOX_app" });
    const client = new JobClient(nc, { timeoutMs: 2000 });
    try {
      await expect(client.submit({ type: "echo" })).resolves.toMatchObject({ duplicate: false });
    } finally {
      await client.close();
      await nc.close();
    }
    // Without the prefix its replies' subscription is refused: the error says so, not only that
    // something closed.
    const refused = await connect({ servers: nats.url, ...app });
    const unprefixed = new JobClient(refused, { timeoutMs: 2000 });
    try {
      // The first submission was sent (and may be stored); the ones after it are not sent.
      const first = await unprefixed.submit({ type: "echo" }).catch((e: unknown) => e);
      expect((first as Error).message).toMatch(/permissions violation.*_INBOX\./i);
      expect(first).toMatchObject({ maybeStored: true });
      const later = await unprefixed.submit({ type: "echo" }).catch((e: unknown) => e);
      expect(later).toBeInstanceOf(SubmissionNotConfirmedError);
      expect(later).toMatchObject({ maybeStored: false });
      expect((later as Error).message).toMatch(
        /was not stored: it was not sent, as the server refused the subscription for acknowledgements: permissions violation.*_INBOX\./i,
      );
    } finally {
      await unprefixed.close();
      await refused.close();
    }
  });
});

describe("a user the server does not allow to publish a job type's subject", () => {
  it("is told at once that the submission was not stored, not after the deadline that it may be", async () => {
    await using nats = await provisionedWithApp(
      '{ publish: { allow: [">"], deny: ["jobs.submit.secret"] } }',
    );
    const nc = await connect({ servers: nats.url, ...app });
    const timeoutMs = 10_000;
    const client = new JobClient(nc, { timeoutMs });
    try {
      const started = Date.now();
      const [denied, allowed] = await Promise.all([
        client.submit({ type: "secret" }).catch((e: unknown) => e),
        client.submit({ type: "echo" }),
      ]);
      expect(Date.now() - started).toBeLessThan(timeoutMs / 2);
      expect(denied).toBeInstanceOf(SubmissionNotConfirmedError);
      expect(denied).toMatchObject({ maybeStored: false });
      expect((denied as Error).message).toMatch(
        /was not stored: the server refused it: .*permissions violation.*jobs\.submit\.secret/i,
      );
      expect(allowed).toMatchObject({ duplicate: false });
    } finally {
      await client.close();
      await nc.close();
    }
  });
});

describe("a user the server does not allow to hear a job's events", () => {
  it("is told by JobClient.waitFor at once, not after waiting out its time", async () => {
    await using nats = await provisionedWithApp(
      '{ publish: [">"], subscribe: { allow: [">"], deny: ["events.>"] } }',
    );
    const nc = await connect({ servers: nats.url, ...app });
    const client = new JobClient(nc, { timeoutMs: 2000 });
    try {
      const started = Date.now();
      const waited = await client
        .waitFor("some-job", { timeoutMs: 20_000 })
        .catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect((waited as Error).message).toMatch(/permissions violation.*events\.some-job/i);
      await expect(client.waitFor("*")).rejects.toBeInstanceOf(RangeError);
    } finally {
      await client.close();
      await nc.close();
    }
  });
});
