import type { HandlerEntry } from "@conveyor/worker-sdk";

import { echo } from "./handlers/echo.ts";
import { flaky } from "./handlers/flaky.ts";
import { jsonAnalyze } from "./handlers/json-analyze.ts";
import { sleep } from "./handlers/sleep.ts";

/** The job types the reference worker handles. */
export const builtinHandlers = {
  echo,
  sleep,
  flaky,
  "json.analyze": jsonAnalyze,
} satisfies Record<string, HandlerEntry>;
