// Diagnostic: how much of what short-lived jobs allocate V8 keeps through young-generation
// collections, depending on where each job is registered while it runs. Each scenario
// (scenarios.ts) runs in its own Node process with the services' heap settings and
// --trace-gc-nvp; the table shows what the young collections found alive (and so copied)
// and what they promoted to the old generation (kept until a full collection), the young and
// full collections, and their total pause. A long-lived Map or Set under add/delete
// churn, or an object literal with a getter per job, keeps far more alive than the reference,
// and makes full collections frequent (bench/README.md, "What changed").
//
// Usage: node --conditions=conveyor-source bench/src/retention/main.ts
import { runCommand } from "@conveyor/stack";

import { summarizeNvp } from "./nvp.ts";
import type { GcSummary } from "./nvp.ts";
import { scenarios } from "./scenarios.ts";
import type { Scenario } from "./scenarios.ts";

const scenarioEntry = new URL("./scenario.ts", import.meta.url).pathname;

async function run(scenario: Scenario): Promise<GcSummary> {
  const result = await runCommand(process.execPath, [
    "--conditions=conveyor-source",
    "--single-threaded-gc",
    "--max-semi-space-size=16",
    "--trace-gc-nvp",
    scenarioEntry,
    scenario,
  ]);
  if (result.code !== 0) throw new Error(`scenario ${scenario} failed:\n${result.output}`);
  return summarizeNvp(result.output);
}

console.log(
  `Node ${process.version}; 300,000 jobs, 32 at once, each a few turns of the event loop\n`,
);
console.log(
  "| registered in | alive at young GCs (MiB) | promoted (MiB) | young GCs | full GCs | GC pause (ms) |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
for (const [scenario, description] of Object.entries(scenarios) as [Scenario, string][]) {
  const s = await run(scenario);
  console.log(
    `| ${description} | ${s.survivedMiB.toFixed(0)} | ${s.promotedMiB.toFixed(0)} | ${s.young} | ${s.full} | ${s.pauseMs.toFixed(0)} |`,
  );
}
