// `npm start`: the whole stack on this machine, from source.
//
// 1. Provisions the pinned servers into .tools/bin (builds them with Go when missing).
// 2. Starts nats-server (JetStream, deploy/nats/local.conf, data in .data/nats) unless NATS_URL is
//    set, and FerretDB (data in .data/ferretdb) unless MONGO_URL is set. Both keep their data, so
//    queued jobs survive a restart of the stack. A lock file in .data (stack.lock, the pid) keeps
//    a second stack of the same checkout off those directories.
// 3. Creates or updates the JetStream topology (prepareStackTopology: on servers of NATS_URL a
//    complete topology is kept as it is).
// 4. Runs gateway, dispatcher, worker and status-projector as separate processes, each line of
//    their output prefixed with the service's name, and waits for the gateway's /readyz.
//
// A service that exits on its own is reported loudly and restarted with backoff (1 s, 2 s, 4 s,
// ... 15 s), like an orchestrator would; at the 6th crash in a row each within 30 s of starting
// (a broken config will not fix itself) the whole stack stops with exit code 1.
// Ctrl-C, SIGTERM or SIGHUP (the terminal closed) stops the services first (SIGTERM, they drain), then the servers; exit 0.
// A second Ctrl-C kills everything at once.
import { dirname } from "node:path";
import { styleText } from "node:util";

import { jetstreamManager } from "@nats-io/jetstream";

import { ConfigError, redactUrls } from "@conveyor/service-kit";
import { ServerStartError, WaitTimeoutError, waitFor, workspaceRoot } from "@conveyor/testing";

import { lockDataDir } from "./data-dir-lock.ts";
import { ProvisionError, StackError } from "./errors.ts";
import { checkExternalMongo, connectStackNats } from "./external-servers.ts";
import { createLineSplitter } from "./line-splitter.ts";
import { startLocalFerretdb, startLocalNats, assertPortFree } from "./local-servers.ts";
import { createPrefixer, formatLogLine } from "./log-format.ts";
import { provisionTools } from "./provision-tools.ts";
import { serviceNiceness } from "./read-model-priority.ts";
import { serviceEnvironment } from "./service-env.ts";
import { serviceNames } from "./service-process.ts";
import { signalAction } from "./signal-action.ts";
import { prepareStackTopology } from "./stack-topology.ts";
import type { StackTopology } from "./stack-topology.ts";
import type { ServiceName } from "./service-process.ts";
import { readStackConfig } from "./stack-config.ts";
import { superviseService } from "./supervisor.ts";
import type { Supervisor } from "./supervisor.ts";

const workspace = workspaceRoot(import.meta.dirname);
/** How long every service must have run before the stack reports ready, in milliseconds. */
const settleMs = 2000;
const prefixer = createPrefixer(Math.max(...serviceNames.map((n) => n.length)));
const cleanup = new AsyncDisposableStack();
let shuttingDown = false;
let giveUp: (reason: string) => void = () => {};
const gaveUp = new Promise<never>((_, reject) => {
  giveUp = (reason) => {
    reject(new StackError(reason));
  };
});
gaveUp.catch(() => {});

process.stdout.on("error", () => {});

function print(source: string, text: string): void {
  process.stdout.write(`${prefixer.prefix(source, text)}\n`);
}
const say = (text: string) => {
  print("stack", text);
};
const shout = (text: string) => {
  print("stack", styleText(["red", "bold"], `!!! ${text}`, { validateStream: true }));
};

/** Prints a process's output line by line, JSON log records made readable. */
function lineOutput(source: string) {
  const splitters = {
    stdout: createLineSplitter((line) => {
      print(source, formatLogLine(line));
    }),
    stderr: createLineSplitter((line) => {
      print(source, formatLogLine(line));
    }),
  };
  return (text: string, stream: "stdout" | "stderr") => {
    splitters[stream].write(text);
  };
}

async function shutdown(code: number): Promise<never> {
  shuttingDown = true;
  say("stopping: services first, then servers");
  try {
    await cleanup.disposeAsync();
  } catch (err) {
    shout(`error while stopping: ${String(err)}`);
    code = code || 1;
  }
  say(code === 0 ? "stopped" : `stopped (exit ${code})`);
  process.exit(code);
}

const topologyNotes: Record<StackTopology, string> = {
  ensured: "JetStream topology ready",
  kept: "JetStream topology in place on NATS_URL's servers: kept as it is",
  completed: "JetStream topology completed on NATS_URL's servers: what was missing is created",
};

let firstSignalAt: number | undefined;

function onSignal(signal: NodeJS.Signals): void {
  // A signal while stopping for another reason (a service that keeps crashing) means: now.
  const action =
    shuttingDown && firstSignalAt === undefined ? "kill" : signalAction(firstSignalAt, Date.now());
  if (action === "ignore") return;
  if (action === "kill") {
    shout(`second ${signal}: killing everything now`);
    // The harness's exit hook SIGKILLs every child still running.
    process.exit(1);
  }
  firstSignalAt = Date.now();
  say(`${signal} received`);
  void shutdown(0);
}
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);
// A closed terminal: the servers and services run in sessions of their own, so they would outlive it.
process.on("SIGHUP", onSignal);

async function main(): Promise<void> {
  const config = readStackConfig(process.env, workspace);
  const tools = await provisionTools({ workspace, log: say });
  if (config.natsUrl === undefined || config.mongoUrl === undefined) {
    // Released last: the servers writing the data directory stop before it.
    const lock = await lockDataDir(dirname(config.natsDataDir));
    cleanup.defer(() => lock.release());
  }

  let natsUrl = config.natsUrl;
  if (natsUrl === undefined) {
    say(`starting nats-server on port ${config.natsPort} (data in .data/nats)`);
    const nats = await startLocalNats({
      binary: tools.natsServer,
      port: config.natsPort,
      portVariable: "NATS_PORT",
      dataDir: config.natsDataDir,
      configFile: config.natsConfigFile,
      onOutput: lineOutput("nats-server"),
    });
    cleanup.defer(() => nats.process.stop());
    stopWhenServerExits("nats-server", nats.process.exited);
    natsUrl = nats.url;
  } else {
    say(`using NATS at ${redactUrls(natsUrl)} (NATS_URL)`);
  }

  let mongoUrl = config.mongoUrl;
  if (mongoUrl === undefined) {
    say(`starting FerretDB on port ${config.mongoPort} (data in .data/ferretdb)`);
    const ferretdb = await startLocalFerretdb({
      binary: tools.ferretdb,
      port: config.mongoPort,
      portVariable: "MONGO_PORT",
      dataDir: config.ferretdbDataDir,
      onOutput: lineOutput("ferretdb"),
      niceness: config.readModelNiceness,
    });
    cleanup.defer(() => ferretdb.process.stop());
    stopWhenServerExits("ferretdb", ferretdb.process.exited);
    mongoUrl = ferretdb.url;
  } else {
    say(`using MongoDB at ${redactUrls(mongoUrl)} (MONGO_URL)`);
  }

  if (config.mongoUrl !== undefined) await checkExternalMongo(config.mongoUrl);
  const nc = await connectStackNats(natsUrl, config.natsAuth, config.natsUrl !== undefined);
  try {
    const ownServer = config.natsUrl === undefined;
    const topology = await prepareStackTopology(
      await jetstreamManager(nc),
      config.retention,
      ownServer,
    );
    say(topologyNotes[topology]);
  } finally {
    await nc.close();
  }

  await assertPortFree(config.gatewayPort, "GATEWAY_PORT");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NATS_URL: natsUrl,
    MONGO_URL: mongoUrl,
    MONGO_DB: config.mongoDb,
    GATEWAY_PORT: String(config.gatewayPort),
  };
  const supervisors: Supervisor[] = [];
  cleanup.defer(async () => {
    await Promise.all(supervisors.map((s) => s.stop(config.serviceStopGraceMs)));
  });
  const metricsPorts = new Map(serviceNames.map((name, i) => [name, config.metricsPort + i]));
  for (const port of metricsPorts.values()) await assertPortFree(port, "METRICS_PORT");
  for (const name of serviceNames) {
    say(`starting ${name}`);
    // Each service its own metrics port: one METRICS_PORT in the environment would be taken four times.
    const serviceEnv = {
      ...serviceEnvironment(name, env),
      METRICS_PORT: String(metricsPorts.get(name)),
    };
    supervisors.push(
      startService(name, serviceEnv, serviceNiceness(name, config.readModelNiceness)),
    );
  }

  const gatewayUrl = `http://127.0.0.1:${config.gatewayPort}`;
  await Promise.race([
    // Ready when the gateway says so and every service has stayed up for a moment (a service
    // that fails at start-up crashes within that time).
    waitFor(
      async () =>
        supervisors.every((s) => s.uptimeMs() >= settleMs) &&
        (await fetch(`${gatewayUrl}/readyz`).then(
          (r) => r.ok,
          () => false,
        )),
      {
        timeoutMs: 120_000,
        intervalMs: 250,
        message: `not ready: ${gatewayUrl}/readyz must answer 200 and every service stay up ${settleMs} ms`,
      },
    ),
    gaveUp,
  ]);

  say(styleText("bold", "Conveyor is ready", { validateStream: true }));
  say(`  REST API  ${gatewayUrl}   (POST /v1/jobs, GET /v1/jobs/:id)`);
  say(`  NATS      ${redactUrls(natsUrl)}   (publish to jobs.submit.<type>)`);
  say(`  MongoDB   ${redactUrls(mongoUrl)}   (database ${config.mongoDb})`);
  say(
    `  metrics   ${[...metricsPorts].map(([name, port]) => `http://127.0.0.1:${port}/metrics (${name})`).join(", ")}`,
  );
  say(
    `  data      ${config.natsUrl && config.mongoUrl ? "(external servers)" : ".data/ (kept between runs; delete it for a clean slate)"}`,
  );
  say("Ctrl-C stops the stack.");
}

/**
 * Stops the stack when one of its servers exits on its own (killed, out of memory, a fatal error):
 * the services would otherwise retry their connections for ever under a banner saying all is well.
 */
function stopWhenServerExits(name: string, exited: Promise<number | string>): void {
  void exited.then((code) => {
    if (shuttingDown) return;
    const reason = `${name} exited (${String(code)}); its output is above`;
    shout(reason);
    giveUp(reason);
    void shutdown(1);
  });
}

function startService(name: ServiceName, env: NodeJS.ProcessEnv, niceness: number): Supervisor {
  const output = lineOutput(name);
  return superviseService({
    name,
    env,
    workspace,
    detached: true,
    niceness,
    onLine: (line, stream) => {
      output(`${line}\n`, stream);
    },
    report: shout,
    onGiveUp: (reason) => {
      giveUp(reason);
      if (!shuttingDown) void shutdown(1);
    },
  });
}

try {
  await main();
} catch (err) {
  if (!shuttingDown) {
    const known =
      err instanceof StackError ||
      err instanceof ProvisionError ||
      err instanceof ConfigError ||
      err instanceof ServerStartError ||
      err instanceof WaitTimeoutError;
    shout(`start failed: ${known ? err.message : String(err)}`);
    if (!known && err instanceof Error && err.stack !== undefined) print("stack", err.stack);
    await shutdown(1);
  }
}
