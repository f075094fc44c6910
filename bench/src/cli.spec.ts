import { describe, expect, it } from "vitest";

import { parseCli } from "./cli.ts";
import { UsageError } from "./errors.ts";

describe("parseCli", () => {
  it("defaults to a full run of everything with the mode's repetitions", () => {
    expect(parseCli([])).toEqual({
      mode: "full",
      only: [],
      repetitions: undefined,
      million: false,
      cpuProf: false,
      logLevel: "info",
      withoutProjector: false,
      natsSync: "1s",
      fromSource: false,
      serverPprof: false,
      readModelNiceness: 10,
      help: false,
    });
  });

  it("reads --read-model-niceness from 0 to 19, and names it when it is out of range", () => {
    expect(parseCli(["--read-model-niceness", "0"]).readModelNiceness).toBe(0);
    expect(parseCli(["--read-model-niceness", "19"]).readModelNiceness).toBe(19);
    for (const bad of ["20", "-1", "low", "", "1e1"]) {
      expect(() => parseCli(["--read-model-niceness", bad])).toThrow(/--read-model-niceness/);
    }
  });

  it("reads --server-pprof", () => {
    expect(parseCli(["--server-pprof"]).serverPprof).toBe(true);
  });

  it("reads --nats-sync as always or a duration, and names it when it is neither", () => {
    expect(parseCli(["--nats-sync", "always"]).natsSync).toBe("always");
    expect(parseCli(["--nats-sync", "200ms"]).natsSync).toBe("200ms");
    expect(() => parseCli(["--nats-sync", "sometimes"])).toThrow(/--nats-sync/);
  });

  it("reads --quick, --only, --reps, --cpu-prof and --log-level", () => {
    const options = parseCli([
      "--quick",
      "--only",
      "steady, io-",
      "--reps",
      "4",
      "--cpu-prof",
      "--log-level",
      "warn",
    ]);
    expect(options).toMatchObject({
      mode: "quick",
      only: ["steady", "io-"],
      repetitions: 4,
      cpuProf: true,
      logLevel: "warn",
    });
  });

  it("runs a quick run's services from their sources, a full run's from the build unless told", () => {
    // A fresh checkout has no build: compiling the services would take a quick run past 2 minutes.
    expect(parseCli(["--quick"]).fromSource).toBe(true);
    expect(parseCli([]).fromSource).toBe(false);
    expect(parseCli(["--from-source"]).fromSource).toBe(true);
  });

  it("names the bad option", () => {
    expect(() => parseCli(["--reps", "two"])).toThrow(/--reps/);
    expect(() => parseCli(["--fast"])).toThrow(UsageError);
    expect(() => parseCli(["--log-level", "loud"])).toThrow(/--log-level/);
    expect(() => parseCli(["--quick", "--million"])).toThrow(/--million/);
  });
});
