import { describe, expect, it } from "vitest";

import { decideRestart, defaultRestartPolicy } from "./restart-policy.ts";

describe("decideRestart", () => {
  it("backs off exponentially on quick crashes, capped, then gives up", () => {
    const decisions = [];
    let crashes = 0;
    for (let i = 0; i < 6; i++) {
      const decision = decideRestart(crashes, 100);
      crashes = decision.crashes;
      decisions.push(decision);
    }
    expect(decisions.map((d) => (d.action === "restart" ? d.delayMs : "give-up"))).toEqual([
      1000,
      2000,
      4000,
      8000,
      15_000,
      "give-up",
    ]);
  });

  it("a run longer than stableAfterMs resets the count", () => {
    const decision = decideRestart(4, defaultRestartPolicy.stableAfterMs);
    expect(decision).toEqual({ action: "restart", delayMs: 1000, crashes: 1 });
  });
});
