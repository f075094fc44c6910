import {
  CancelCommand,
  CommandVerb,
  DiscardCommand,
  ReplayCommand,
  parseCommandSubject,
  toValidationIssues,
} from "@conveyor/contracts";
import type { ValidationIssue } from "@conveyor/contracts";
import type { z } from "zod";

/** A command the dispatcher understands, read from its subject and body. */
export type Command =
  | { verb: typeof CommandVerb.Cancel; body: CancelCommand }
  | { verb: typeof CommandVerb.Replay; body: ReplayCommand }
  | { verb: typeof CommandVerb.Discard; body: DiscardCommand };

export type ParsedCommand =
  { ok: true; command: Command } | { ok: false; message: string; issues: ValidationIssue[] };

const decoder = new TextDecoder();

/**
 * Reads a message on `jobs.cmd.<verb>.<jobId>`: the verb must be known, the body must match the
 * verb's schema, and the body's `jobId` must be the subject's. A refusal names the fields at fault.
 */
export function parseCommand(subject: string, data: Uint8Array): ParsedCommand {
  const target = parseCommandSubject(subject);
  if (target === undefined) {
    return refuse(`expected jobs.cmd.<verb>.<jobId>, got ${subject}`, "(subject)");
  }
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(data));
  } catch (err) {
    return refuse(`command body is not JSON: ${(err as Error).message}`, "(root)");
  }
  const parsed = parseBody(target.verb, json);
  if (parsed === undefined) {
    const verbs = Object.values(CommandVerb).join(", ");
    return refuse(`unknown command "${target.verb}"; known: ${verbs}`, "(subject)");
  }
  if (!parsed.ok) return parsed;
  if (parsed.command.body.jobId !== target.jobId) {
    return refuse(`jobId differs from the subject's ${target.jobId}`, "jobId");
  }
  return parsed;
}

function parseBody(verb: string, json: unknown): ParsedCommand | undefined {
  switch (verb) {
    case CommandVerb.Cancel:
      return check(CancelCommand, json, (body) => ({ verb, body }));
    case CommandVerb.Replay:
      return check(ReplayCommand, json, (body) => ({ verb, body }));
    case CommandVerb.Discard:
      return check(DiscardCommand, json, (body) => ({ verb, body }));
    default:
      return undefined;
  }
}

function check<S extends z.ZodType>(
  schema: S,
  json: unknown,
  wrap: (body: z.output<S>) => Command,
): ParsedCommand {
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, command: wrap(result.data) };
  const issues = toValidationIssues(result.error);
  const summary = issues.map((i) => `${i.path}: ${i.message}`).join("; ");
  return { ok: false, message: `invalid command: ${summary}`, issues };
}

function refuse(message: string, path: string): ParsedCommand {
  return { ok: false, message, issues: [{ path, message }] };
}
