import { parseArgs } from "node:util";

import { defaultReadModelNiceness, parseNiceness } from "@conveyor/stack";

import { UsageError } from "./errors.ts";
import { Mode } from "./profiles.ts";

/** What `npm run bench -- ...` asked for. */
export interface CliOptions {
  mode: Mode;
  /** Only the workloads whose id starts with one of these (all when empty). */
  only: string[];
  /** Overrides the mode's repetitions. */
  repetitions: number | undefined;
  /** Full mode: add the 1M-job backlog. */
  million: boolean;
  /** Write `.cpuprofile` files of every service and worker process to `bench/results/tmp/profiles`. */
  cpuProf: boolean;
  /** `LOG_LEVEL` of Conveyor's services. */
  logLevel: string;
  /**
   * JetStream's `sync_interval` for the bench's nats-server: `1s` by default, the same window as
   * Redis's `appendfsync everysec` under BullMQ; `always` for the shipped local config.
   */
  natsSync: string;
  /**
   * Run Conveyor's services from their TypeScript sources instead of the `nx build` output: asked
   * for, or a quick run (compiling a fresh checkout would take it past its 2 minutes).
   */
  fromSource: boolean;
  /** Diagnosis: run Conveyor without its status-projector (no read model, no FerretDB writes). */
  withoutProjector: boolean;
  /** Serve Go's pprof handlers from Conveyor's nats-server and FerretDB, on ports the run prints. */
  serverPprof: boolean;
  /** How much nicer the status-projector and FerretDB run than the rest (`READ_MODEL_NICENESS`). */
  readModelNiceness: number;
  help: boolean;
}

export const usage = `npm run bench [-- options]

  --quick           small sizes, the services from their sources (no build), finishes in under
                    2 minutes (default: full)
  --only a,b        run only workloads whose id starts with a or b (rest-submit, rest-rate-2k,
                    submit-single, submit-batched, saturated, steady-200, steady-2k, steady-10k,
                    io-1w, io-2w, io-4w, growth-, idle-first, idle-last)
  --reps N          repetitions per workload and system (default 3; at least 3
                    for figures worth quoting)
  --million         full mode: add a backlog of 1,000,000 jobs
  --cpu-prof        write V8 CPU profiles of every Node process to bench/results/tmp/profiles
  --log-level L     LOG_LEVEL of Conveyor's services (default info, as shipped)
  --nats-sync S     JetStream sync_interval: 1s (default; the same window as the Redis
                    appendfsync everysec BullMQ runs on) or always (fsync before every PubAck,
                    as deploy/nats/local.conf ships)
  --from-source     run Conveyor's services from their TypeScript sources, as npm start does
                    (default in --quick; otherwise the nx build output, as the container image
                    runs them)
  --without-projector
                    diagnosis: run Conveyor without its status-projector, to see what the rest
                    costs (results go to bench/results/tmp only)
  --server-pprof    serve Go's pprof handlers from Conveyor's nats-server and FerretDB, on
                    free ports printed at the start, to profile them while a workload runs
  --read-model-niceness N
                    how much nicer than the rest Conveyor's status-projector and FerretDB run,
                    0-19 (default ${defaultReadModelNiceness}, as npm start runs them; results of
                    another value go to bench/results/tmp only)
  --help`;

/** Parses the command line; throws a {@link UsageError} naming a bad option. */
export function parseCli(argv: readonly string[]): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        quick: { type: "boolean", default: false },
        only: { type: "string" },
        reps: { type: "string" },
        million: { type: "boolean", default: false },
        "cpu-prof": { type: "boolean", default: false },
        "log-level": { type: "string", default: "info" },
        "without-projector": { type: "boolean", default: false },
        "nats-sync": { type: "string", default: "1s" },
        "from-source": { type: "boolean", default: false },
        "server-pprof": { type: "boolean", default: false },
        "read-model-niceness": { type: "string", default: String(defaultReadModelNiceness) },
        help: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), { cause: err });
  }
  const { values } = parsed;
  let repetitions: number | undefined;
  if (values.reps !== undefined) {
    repetitions = Number(values.reps);
    if (!Number.isInteger(repetitions) || repetitions < 1) {
      throw new UsageError(`--reps must be a whole number of at least 1, got "${values.reps}"`);
    }
  }
  const levels = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];
  if (!levels.includes(values["log-level"])) {
    throw new UsageError(
      `--log-level must be one of ${levels.join(", ")}, got "${values["log-level"]}"`,
    );
  }
  const natsSync = values["nats-sync"];
  if (natsSync !== "always" && !/^\d+(ms|s|m)$/.test(natsSync)) {
    throw new UsageError(
      `--nats-sync must be "always" or a duration such as 1s or 200ms, got "${natsSync}"`,
    );
  }
  const readModelNiceness = parseNiceness(values["read-model-niceness"]);
  if (readModelNiceness === undefined) {
    throw new UsageError(
      `--read-model-niceness must be a whole number from 0 to 19, got "${values["read-model-niceness"]}"`,
    );
  }
  if (values.million && values.quick)
    throw new UsageError("--million needs full mode (drop --quick)");
  return {
    mode: values.quick ? Mode.Quick : Mode.Full,
    only: (values.only ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
    repetitions,
    million: values.million,
    cpuProf: values["cpu-prof"],
    logLevel: values["log-level"],
    withoutProjector: values["without-projector"],
    natsSync,
    fromSource: values["from-source"] || values.quick,
    serverPprof: values["server-pprof"],
    readModelNiceness,
    help: values.help,
  };
}
