import { mkdir } from "node:fs/promises";
import { join } from "node:path";

import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { MongoClient } from "mongodb";

import type { ServiceCode } from "@conveyor/stack";
import { freePort } from "@conveyor/testing";
import { ensureTopology } from "@conveyor/topology";

import { startFerretdb } from "../servers/ferretdb.ts";
import { startNats } from "../servers/nats.ts";
import { ConveyorDriver } from "./conveyor-driver.ts";
import type { SystemDriver } from "./system.ts";

/** Names of Conveyor's processes in the per-process figures (with one worker). */
export const conveyorProcessNames = [
  "gateway",
  "dispatcher",
  "worker",
  "status-projector",
  "nats-server",
  "ferretdb",
] as const;

/** Options of {@link startConveyor}. */
export interface ConveyorOptions {
  /** A fresh directory for the JetStream store and the SQLite files. */
  dataDir: string;
  /** `WORKER_CONCURRENCY` of every worker process: handlers of one type at once per process. */
  workerConcurrency: number;
  /** `LOG_LEVEL` of the services. */
  logLevel: string;
  /** Run the services from their sources or from the `nx build` output (as the image does). */
  code: ServiceCode;
  /** JetStream's `sync_interval`: `always`, or a Go duration such as `1s`. */
  natsSyncInterval: string;
  /** `NODE_OPTIONS` for the services (e.g. `--cpu-prof`); empty for none. */
  nodeOptions: string;
  /**
   * Run the status-projector (the read model). Off only to diagnose what the rest costs: jobs
   * then never read as succeeded.
   */
  readModel: boolean;
  /**
   * How much nicer than the bench the status-projector and FerretDB run (`READ_MODEL_NICENESS`
   * of `npm start`; its default unless `--read-model-niceness`).
   */
  readModelNiceness: number;
  /** Serve Go's pprof handlers from nats-server and FerretDB, on free ports that are logged. */
  serverPprof: boolean;
  log: (line: string) => void;
}

const mongoDb = "bench";
/**
 * The projector's shipped default. (FerretDB 1.24.2 hangs on a bulk write of 100 or more
 * replacements; the projector now writes at most 50 per command, so the default is safe.)
 */
export const projectorBatchSize = 500;

/** The read model's retention sweep interval in a run: a day, longer than any run. */
const benchSweepIntervalMs = String(24 * 3_600_000);

/**
 * Starts nats-server and FerretDB as `npm start` does, creates the topology, and runs gateway,
 * dispatcher, status-projector and one reference worker, each its own process, exactly as
 * `npm start` runs them. Resolves once the gateway is ready and a first job went through.
 */
export async function startConveyor(options: ConveyorOptions): Promise<SystemDriver> {
  const cleanup = new AsyncDisposableStack();
  try {
    const natsDir = join(options.dataDir, "nats");
    const mongoDir = join(options.dataDir, "ferretdb");
    await Promise.all([mkdir(natsDir, { recursive: true }), mkdir(mongoDir, { recursive: true })]);
    const [natsPprof, ferretdbPprof] = options.serverPprof
      ? [await freePort(), await freePort()]
      : [undefined, undefined];
    const [nats, ferretdb] = await Promise.all([
      startNats(natsDir, options.natsSyncInterval, natsPprof),
      startFerretdb({
        dataDir: mongoDir,
        niceness: options.readModelNiceness,
        pprofPort: ferretdbPprof,
      }),
    ]);
    if (natsPprof !== undefined && ferretdbPprof !== undefined) {
      options.log(
        `conveyor pprof: nats-server http://127.0.0.1:${natsPprof}/debug/pprof/, ` +
          `ferretdb http://127.0.0.1:${ferretdbPprof}/debug/pprof/`,
      );
    }
    cleanup.defer(() => nats.process.stop());
    cleanup.defer(() => ferretdb.process.stop());

    // The bench's connection is a direct publisher's. Without `noAsyncTraces` nats.js captures a
    // stack for every request (each JetStream publish): 15 % of the bench process's busy time at
    // 2,000 jobs/s, CPU taken from the two cores the system under test runs on.
    const nc = await connect({ servers: nats.url, name: "conveyor-bench", noAsyncTraces: true });
    cleanup.defer(() => nc.close());
    const jsm = await jetstreamManager(nc);
    await ensureTopology(jsm);
    const mongo = new MongoClient(ferretdb.url);
    cleanup.defer(() => mongo.close());

    const gatewayPort = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NATS_URL: nats.url,
      MONGO_URL: ferretdb.url,
      MONGO_DB: mongoDb,
      GATEWAY_PORT: String(gatewayPort),
      LOG_LEVEL: options.logLevel,
      WORKER_CONCURRENCY: String(options.workerConcurrency),
      NODE_OPTIONS: options.nodeOptions,
      PROJECTOR_BATCH_SIZE: String(projectorBatchSize),
      // No retention sweep within a run (nothing expires in it, at the shipped ages): on FerretDB
      // a sweep reads every job document (about 0.1 ms each), which MongoDB's index spares it.
      READ_MODEL_SWEEP_INTERVAL_MS:
        process.env["READ_MODEL_SWEEP_INTERVAL_MS"] ?? benchSweepIntervalMs,
      // No metrics endpoints (one port in the environment would be taken four times), and so
      // none of the process metrics they collect, which BullMQ's processes do not pay either.
      METRICS_PORT: undefined,
    };
    const driver = new ConveyorDriver({
      nc,
      jsm,
      db: mongo.db(mongoDb),
      gatewayUrl: `http://127.0.0.1:${gatewayPort}`,
      env,
      servers: { "nats-server": nats, ferretdb },
      readModel: options.readModel,
      readModelNiceness: options.readModelNiceness,
      code: options.code,
    });
    cleanup.defer(() => driver.stopServices());
    await driver.startServices();
    await driver.warmUp();
    options.log(`conveyor ready: gateway ${driver.http.url}, NATS ${nats.url}`);
    const disposer = cleanup.move();
    driver.onDispose(() => disposer.disposeAsync());
    return driver;
  } catch (err) {
    await cleanup.disposeAsync();
    throw err;
  }
}
