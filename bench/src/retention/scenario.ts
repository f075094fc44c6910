// One scenario of main.ts, run in a child process with V8's --trace-gc-nvp: jobs that each live a
// few turns of the event loop, 32 at once, like a worker's deliveries, each allocating a small
// object graph. The scenarios differ only in where a job is registered while it runs.
import { ChurnTable } from "@conveyor/service-kit";

import { isScenario } from "./scenarios.ts";
import type { Scenario } from "./scenarios.ts";

const scenario = process.argv[2];
if (!isScenario(scenario)) throw new Error(`unknown scenario ${String(scenario)}`);
const jobs = 300_000;
const inFlight = 32;

interface JobState {
  id: number;
  garbage: unknown;
  later?: unknown;
  context?: { readonly log: unknown };
}

class ContextWithSharedGetter {
  readonly #state: JobState;
  constructor(state: JobState) {
    this.#state = state;
  }
  get log(): unknown {
    return this.#state;
  }
}

/** A few dozen small objects, as parsing and handling one message allocates. */
function allocate(count: number): unknown {
  let chain: unknown;
  for (let i = 0; i < count; i++) chain = [chain, { i }];
  return chain;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function register(kind: Scenario): { add(state: JobState): void; remove(state: JobState): void } {
  if (kind === "map") {
    const map = new Map<number, JobState>();
    return { add: (s) => map.set(s.id, s), remove: (s) => map.delete(s.id) };
  }
  if (kind === "set") {
    const set = new Set<JobState>();
    return { add: (s) => set.add(s), remove: (s) => set.delete(s) };
  }
  if (kind === "churn-table") {
    const table = new ChurnTable<JobState>();
    return {
      add: (s) => {
        table.set(s.id, s);
      },
      remove: (s) => table.delete(s.id),
    };
  }
  return { add: () => undefined, remove: () => undefined };
}

const registry = register(scenario);

async function job(id: number): Promise<void> {
  const state: JobState = { id, garbage: allocate(20) };
  registry.add(state);
  if (scenario === "literal-getter") {
    state.context = {
      get log() {
        return state;
      },
    };
  } else if (scenario === "class-getter") {
    state.context = new ContextWithSharedGetter(state);
  }
  await nextTurn();
  state.later = allocate(20);
  await nextTurn();
  registry.remove(state);
}

let started = 0;
let running = 0;
let slotFreed = Promise.withResolvers<undefined>();
while (started < jobs) {
  while (running < inFlight && started < jobs) {
    running++;
    void job(started++).finally(() => {
      running--;
      slotFreed.resolve(undefined);
    });
  }
  await slotFreed.promise;
  slotFreed = Promise.withResolvers<undefined>();
}
