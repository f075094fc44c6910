import { defineHandler } from "@conveyor/worker-sdk";
import { z } from "zod";

/**
 * Any value: a payload is JSON (the dispatcher checks its shape). Not `z.json()`, whose records
 * are rebuilt key by key, so a key `__proto__` (data, as everywhere in Conveyor) was dropped.
 */
export const EchoPayload = z.unknown();

/** `echo`: returns its payload unchanged. */
export const echo = defineHandler({
  description: "Returns its payload unchanged.",
  schema: EchoPayload,
  // 1: the schema became `{}` (it was z.json()'s).
  version: 1,
  handler: (job) => job.payload,
});
