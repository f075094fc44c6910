import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";

import { serviceNames, spawnService } from "@conveyor/stack";
import type { ServiceName } from "@conveyor/stack";
import {
  freePort,
  startMongoServer,
  startNatsServer,
  uniqueName,
  waitFor,
} from "@conveyor/testing";
import type { MongoServerHandle, NatsServerHandle, ServerProcess } from "@conveyor/testing";
import { ensureTopology } from "@conveyor/topology";

/** The four services running as separate processes against harness servers. */
export interface ServiceStack extends AsyncDisposable {
  gatewayUrl: string;
  natsUrl: string;
  mongoUrl: string;
  /** A database of its own, so runs never see each other's documents. */
  mongoDb: string;
  processes: Record<ServiceName, ServerProcess>;
  /** The harness nats-server, e.g. to `restart()` it under load. */
  nats: NatsServerHandle;
  /** The harness FerretDB, e.g. to `restart()` it under load. */
  mongo: MongoServerHandle;
  /** Stops one service (SIGTERM; it drains) and waits until it has exited. */
  stopService(name: ServiceName): Promise<void>;
  /**
   * Sends `signal` to a service (SIGKILL for a crash, SIGTERM to watch a drain) without waiting,
   * and resolves with its exit code or signal name once it has exited. The service counts as
   * stopped, so {@link deadServices} does not report it.
   */
  signalService(name: ServiceName, signal: NodeJS.Signals): Promise<number | string>;
  /**
   * Starts one more process of a service (a second worker replica, say) with the stack's
   * environment plus `env` (e.g. its own `WORKER_ID`). It is stopped on dispose; it is not part of
   * {@link processes}, so watch it through the returned handle.
   */
  startReplica(name: ServiceName, env: Record<string, string>): ServerProcess;
  /** Starts a stopped service again with the same environment. */
  startService(name: ServiceName): void;
  /** Names of services whose process exited although it was not stopped with stopService. */
  deadServices(): ServiceName[];
  /** Every service's recent output, for failure messages. */
  logs(): string;
}

/** Options of {@link startServiceStack}. */
export interface ServiceStackOptions {
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /** How long the services may take until the gateway is ready, in milliseconds. @default 60000 */
  readyTimeoutMs?: number;
}

/**
 * Starts nats-server and FerretDB (harness), ensures the JetStream topology, then runs gateway,
 * dispatcher, worker and status-projector exactly as `npm start` does (one process each), and
 * waits until the gateway's /readyz answers. Dispose stops the services (SIGTERM) before the servers.
 */
export async function startServiceStack(options: ServiceStackOptions = {}): Promise<ServiceStack> {
  const cleanup = new AsyncDisposableStack();
  try {
    const nats = cleanup.use(await startNatsServer());
    const mongo = cleanup.use(await startMongoServer());
    const nc = await connect({ servers: nats.url });
    try {
      await ensureTopology(await jetstreamManager(nc));
    } finally {
      await nc.close();
    }

    const gatewayPort = await freePort();
    const mongoDb = uniqueName("e2e");
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NATS_URL: nats.url,
      MONGO_URL: mongo.url,
      MONGO_DB: mongoDb,
      GATEWAY_PORT: String(gatewayPort),
      LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
      ...options.env,
    };
    const processes = {} as Record<ServiceName, ServerProcess>;
    const stopped = new Set<ServiceName>();
    const start = (name: ServiceName) => {
      processes[name] = spawnService({ name, env });
    };
    const replicas: ServerProcess[] = [];
    for (const name of serviceNames) start(name);
    cleanup.defer(async () => {
      await Promise.all([...Object.values(processes), ...replicas].map((p) => p.stop(15_000)));
    });

    const stack: ServiceStack = {
      gatewayUrl: `http://127.0.0.1:${gatewayPort}`,
      natsUrl: nats.url,
      mongoUrl: mongo.url,
      mongoDb,
      processes,
      nats,
      mongo,
      stopService: async (name) => {
        stopped.add(name);
        await processes[name].stop(15_000);
      },
      signalService: (name, signal) => {
        const proc = processes[name];
        stopped.add(name);
        if (proc.pid !== undefined && proc.running()) process.kill(proc.pid, signal);
        return proc.exited;
      },
      startReplica: (name, replicaEnv) => {
        const replica = spawnService({ name, env: { ...env, ...replicaEnv } });
        replicas.push(replica);
        return replica;
      },
      startService: (name) => {
        if (processes[name].running()) throw new Error(`${name} is already running`);
        stopped.delete(name);
        start(name);
      },
      deadServices: () =>
        serviceNames.filter((name) => !stopped.has(name) && !processes[name].running()),
      logs: () =>
        serviceNames.map((name) => `--- ${name} ---\n${processes[name].output()}`).join("\n"),
      [Symbol.asyncDispose]: () => cleanup.disposeAsync(),
    };

    await waitWhileRunning(stack, async () => (await fetch(`${stack.gatewayUrl}/readyz`)).ok, {
      timeoutMs: options.readyTimeoutMs ?? 60_000,
      intervalMs: 200,
      message: "the services did not become ready (gateway /readyz)",
    });
    return stack;
  } catch (err) {
    await cleanup.disposeAsync();
    throw err;
  }
}

/**
 * {@link waitFor} for a condition the services bring about: gives up at once, with every service's
 * output, when a service process exits, and adds the output to a timeout too.
 */
export async function waitWhileRunning<T>(
  stack: ServiceStack,
  probe: () => Promise<T | undefined | null | false>,
  options: { timeoutMs?: number; intervalMs?: number; message: string },
): Promise<T> {
  const outcome = await waitFor(async () => {
    const dead = stack.deadServices();
    // A crash will not heal: stop waiting and show why.
    if (dead.length > 0) return { kind: "dead" as const, dead };
    const value = await probe();
    if (value === undefined || value === null || value === false) return undefined;
    return { kind: "done" as const, value };
  }, options).catch((err: unknown) => {
    throw new Error(`${options.message}\n${stack.logs()}`, { cause: err });
  });
  if (outcome.kind === "dead") {
    throw new Error(`${options.message}: ${outcome.dead.join(", ")} exited\n${stack.logs()}`);
  }
  return outcome.value;
}
