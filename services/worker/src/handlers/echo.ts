import { defineHandler } from "@conveyor/worker-sdk";
import { z } from "zod";

/** Any JSON value. */
export const EchoPayload = z.json();

/** `echo`: returns its payload unchanged. */
export const echo = defineHandler({
  description: "Returns its payload unchanged.",
  schema: EchoPayload,
  handler: (job) => job.payload,
});
