// Compares a rerun with an earlier run (the JSON `npm run bench` writes next to every table), to
// tell a rerun's noise from a change: which figures' min–max ranges overlap, how far the
// Conveyor/BullMQ ratios moved, and whether the ratios taken repetition by repetition (on one
// speed of the machine each) overlap.
//   npx node --conditions=conveyor-source bench/src/compare.ts <earlier.json> <later.json>
import { readFile } from "node:fs/promises";
import { basename } from "node:path";

import type { FigureResult } from "./report/figures.ts";
import { compareRepetitionRatios, renderRepetitionRatios } from "./report/repetition-ratios.ts";
import type { SampledWorkload } from "./report/repetition-ratios.ts";
import { compareRuns, renderComparison } from "./report/run-comparison.ts";

interface SavedRun {
  mode: string;
  startedAt: string;
  results: FigureResult[];
  workloads: SampledWorkload[];
}

const [beforeFile, afterFile] = process.argv.slice(2);
if (beforeFile === undefined || afterFile === undefined) {
  process.stderr.write("usage: compare.ts <earlier.json> <later.json>\n");
  process.exit(2);
}

async function load(file: string): Promise<SavedRun> {
  return JSON.parse(await readFile(file, "utf8")) as SavedRun;
}

const [before, after] = await Promise.all([load(beforeFile), load(afterFile)]);
if (before.mode !== after.mode) {
  // A quick run's workloads are smaller under the same ids: their figures are not comparable.
  process.stderr.write(`cannot compare a ${before.mode} run with a ${after.mode} run\n`);
  process.exit(2);
}
const name = (file: string, run: SavedRun) => `${basename(file)} (${run.startedAt})`;
process.stdout.write(
  renderComparison(compareRuns(before.results, after.results), {
    before: name(beforeFile, before),
    after: name(afterFile, after),
  }),
);
process.stdout.write(
  `\n${renderRepetitionRatios(compareRepetitionRatios(before.workloads, after.workloads))}`,
);
