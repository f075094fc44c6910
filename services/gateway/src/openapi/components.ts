import { JobSubmission, JobTypeDescriptor, RecurringScheduleInput } from "@conveyor/contracts";
import { z } from "zod";

import { CancelAccepted, CancelRequest } from "../schemas/commands.ts";
import { ErrorBody, JsonValue } from "../schemas/common.ts";
import {
  BulkReplayAccepted,
  BulkReplayRequest,
  DeadLetterList,
  DeadLetterView,
  DiscardAccepted,
  DiscardRequest,
  ReplayAccepted,
} from "../schemas/dlq.ts";
import { Health, NotReady, Ready } from "../schemas/health.ts";
import {
  AttemptView,
  BulkSubmitAccepted,
  BulkSubmitRequest,
  BulkSubmitTooLarge,
  BulkSubmitUnavailable,
  JobList,
  JobView,
  ProgressView,
  SubmitAccepted,
  SubmitDuplicate,
} from "../schemas/jobs.ts";
import { RejectionList, RejectionView } from "../schemas/rejections.ts";
import { JobTypeList, PauseRequest, PauseState } from "../schemas/job-types.ts";
import { ScheduleList, ScheduleView } from "../schemas/schedules.ts";
import { Stats } from "../schemas/stats.ts";
import { rebaseRefs, withoutRootKeywords } from "./json-schema-refs.ts";
import type { JsonSchemaObject } from "./json-schema-refs.ts";

export const componentsPointer = "#/components/schemas/";

/**
 * The `components.schemas` generated from the zod schemas the gateway validates requests with and
 * answers with: requests in zod's input form (defaults optional), responses in output form.
 */
export function componentSchemas(): Record<string, JsonSchemaObject> {
  return {
    ...generate("input", {
      JobSubmission,
      BulkSubmitRequest,
      CancelRequest,
      DiscardRequest,
      BulkReplayRequest,
      RecurringScheduleInput,
      PauseRequest,
    }),
    ...generate("output", {
      JsonValue,
      ErrorBody,
      SubmitAccepted,
      SubmitDuplicate,
      BulkSubmitAccepted,
      BulkSubmitTooLarge,
      BulkSubmitUnavailable,
      CancelAccepted,
      DeadLetterView,
      DeadLetterList,
      ReplayAccepted,
      DiscardAccepted,
      BulkReplayAccepted,
      JobView,
      AttemptView,
      ProgressView,
      JobList,
      RejectionView,
      RejectionList,
      JobTypeDescriptor,
      JobTypeList,
      ScheduleView,
      ScheduleList,
      PauseState,
      Stats,
      Health,
      Ready,
      NotReady,
    }),
  };
}

function generate(
  io: "input" | "output",
  schemas: Record<string, z.ZodType>,
): Record<string, JsonSchemaObject> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const generated = z.toJSONSchema(registry, {
    io,
    target: "draft-2020-12",
    unrepresentable: "any",
    uri: (id) => `${componentsPointer}${id}`,
  }).schemas;
  // Definitions zod shares between several schemas (unnamed recursive ones) land in `__shared`,
  // referenced as `.../__shared#/$defs/x`: give them a component of their own and JSON pointers.
  const sharedName = io === "input" ? "SharedInputDefinitions" : "SharedOutputDefinitions";
  const sharedRef = `${componentsPointer}__shared#/`;
  const result: Record<string, JsonSchemaObject> = {};
  for (const [id, schema] of Object.entries(generated)) {
    result[id === "__shared" ? sharedName : id] = rebaseRefs(withoutRootKeywords(schema), (ref) =>
      ref.startsWith(sharedRef)
        ? `${componentsPointer}${sharedName}/${ref.slice(sharedRef.length)}`
        : ref,
    );
  }
  return result;
}
