/** Where a job of the retention diagnostic is registered while it runs (scenario.ts). */
export const scenarios = {
  none: "nowhere (the reference)",
  map: "a long-lived Map, set and deleted per job",
  set: "a long-lived Set, added and deleted per job",
  "churn-table": "a long-lived ChurnTable (@conveyor/service-kit), set and deleted per job",
  "literal-getter": "nowhere, but each job makes an object literal with a getter",
  "class-getter": "nowhere, but each job makes a class instance with a prototype getter",
} as const;

export type Scenario = keyof typeof scenarios;

export function isScenario(name: unknown): name is Scenario {
  return typeof name === "string" && Object.hasOwn(scenarios, name);
}
