import { describe, expect, it } from "vitest";

import { signalAction, signalCopyWindowMs } from "./signal-action.ts";

describe("signalAction", () => {
  it("stops gracefully on the first signal", () => {
    expect(signalAction(undefined, 5000)).toBe("stop");
  });

  it("ignores the copy of one Ctrl-C that npm passes on under bash", () => {
    expect(signalAction(5000, 5000)).toBe("ignore");
    expect(signalAction(5000, 5000 + signalCopyWindowMs - 1)).toBe("ignore");
  });

  it("kills everything on a second Ctrl-C pressed later", () => {
    expect(signalAction(5000, 5000 + signalCopyWindowMs)).toBe("kill");
  });
});
