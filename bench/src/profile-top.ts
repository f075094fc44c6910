// Prints the hottest functions of V8 CPU profiles, e.g. those `npm run bench -- --cpu-prof` writes:
//   npx node --conditions=conveyor-source bench/src/profile-top.ts bench/results/tmp/profiles/<run>/*.cpuprofile
import { readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

import { busySeconds, hotFunctions, hotPackages } from "./report/cpu-profile.ts";
import type { CpuProfile } from "./report/cpu-profile.ts";

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write("usage: profile-top.ts <file.cpuprofile>...\n");
  process.exit(2);
}
/** `<pid> <name>` lines the bench writes next to the profiles. */
async function processNames(dir: string): Promise<Map<string, string>> {
  const text = await readFile(join(dir, "processes.txt"), "utf8").catch(() => "");
  return new Map(
    text
      .split("\n")
      .filter((l) => l.includes(" "))
      .map((l) => [l.slice(0, l.indexOf(" ")), l.slice(l.indexOf(" ") + 1)]),
  );
}

for (const file of files) {
  const profile = JSON.parse(await readFile(file, "utf8")) as CpuProfile;
  const seconds = (profile.endTime - profile.startTime) / 1e6;
  // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile
  const pid = basename(file).split(".")[3] ?? "";
  const name = (await processNames(dirname(file))).get(pid) ?? "unknown process";
  process.stdout.write(
    `\n${name}: ${basename(file)}, ${seconds.toFixed(1)} s, ${busySeconds(profile).toFixed(1)} s busy\n`,
  );
  process.stdout.write("  busy time by package:\n");
  for (const { where, selfPercent } of hotPackages(profile, 10)) {
    process.stdout.write(`  ${selfPercent.toFixed(1).padStart(5)} %  ${where}\n`);
  }
  process.stdout.write("  busy time by function:\n");
  for (const { where, selfPercent } of hotFunctions(profile, 15)) {
    process.stdout.write(`  ${selfPercent.toFixed(1).padStart(5)} %  ${where}\n`);
  }
}
