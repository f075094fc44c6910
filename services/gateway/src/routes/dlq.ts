import { CommandVerb } from "@conveyor/contracts";
import type { DiscardCommand, ReplayCommand } from "@conveyor/contracts";
import { findJob } from "@conveyor/read-model";
import Router from "@koa/router";

import type { GatewayDeps } from "../deps.ts";
import { DeadLetterReader } from "../dlq/dead-letter-reader.ts";
import type { StoredLetter } from "../dlq/dead-letter-reader.ts";
import { toDeadLetterView } from "../dlq/dead-letter-view.ts";
import { decodeDlqCursor, encodeDlqCursor } from "../dlq/dlq-cursor.ts";
import { ApiError, conflict, notFound, unavailable } from "../errors.ts";
import { jsonBody } from "../http/json-body.ts";
import { parseBody } from "../http/parse-body.ts";
import { parseParams } from "../http/parse-params.ts";
import { withTimeout } from "../http/with-timeout.ts";
import type { NatsLink } from "../jobs/nats-link.ts";
import { publishCommand } from "../jobs/publish-command.ts";
import { defaultReadTimeoutMs, queryReadModel } from "../jobs/query-read-model.ts";
import {
  BulkReplayRequest,
  DeadLetterIdParams,
  DiscardRequest,
  ListDeadLettersQuery,
  maxBulkReplay,
} from "../schemas/dlq.ts";

/**
 * The dead-letter API, read straight from the `DLQ` stream: list and read letters, replay a job
 * (`jobs.cmd.replay.<jobId>`), discard a letter (`jobs.cmd.discard.<jobId>`), replay every letter
 * of a type. A letter is addressed by its job id; the read model names the job's type, whose
 * letters are searched.
 */
export function dlqRouter(deps: GatewayDeps, link: NatsLink): Router {
  const router = new Router();
  const reader = new DeadLetterReader(deps.jsm, deps.logger);
  const timeoutMs = deps.options.readTimeoutMs ?? defaultReadTimeoutMs;
  const readStream = <T>(read: () => Promise<T>) => readJetStream(link, read, timeoutMs);

  /** The job's letter, or a 404 saying why there is none. */
  const letterOf = async (id: string): Promise<StoredLetter> => {
    const doc = await queryReadModel(() => findJob(deps.db, id), timeoutMs);
    if (!doc) throw notFound(`no job with id ${id}`);
    const found = await readStream(() => reader.findByJob(id, doc.type));
    if (found) return found;
    const logged = await readStream(() => reader.lastLogEntry(id));
    if (logged) {
      throw notFound(
        `the dead letter of job ${id} (run ${logged.run}) was ${logged.action} at ${logged.at}`,
      );
    }
    throw notFound(`job ${id} has no dead letter (status ${doc.status})`);
  };

  router.get("/v1/dlq", async (ctx) => {
    const query = parseParams(ListDeadLettersQuery, ctx.query);
    const afterSeq = query.cursor === undefined ? undefined : decodeDlqCursor(query.cursor);
    const page = await readStream(() =>
      reader.list({ type: query.type, limit: query.limit, afterSeq }),
    );
    ctx.body = {
      items: page.items.map(toDeadLetterView),
      nextCursor: page.lastSeq === null ? null : encodeDlqCursor(page.lastSeq),
    };
  });

  router.get("/v1/dlq/:id", async (ctx) => {
    const { id } = parseParams(DeadLetterIdParams, ctx.params);
    ctx.body = toDeadLetterView(await letterOf(id));
  });

  router.post("/v1/dlq/replay", jsonBody(deps.options.maxBodyBytes), async (ctx) => {
    const { type } = parseBody(BulkReplayRequest, ctx.request.body);
    const attributes = { "http.request.method": "POST", "http.route": "/v1/dlq/replay" };
    await deps.tracing.server("POST /v1/dlq/replay", attributes, async (trace) => {
      const { letters, more } = await readStream(() => reader.allOfType(type, maxBulkReplay));
      const requestedAt = new Date().toISOString();
      let replaying = 0;
      for (const stored of letters) {
        const command = replayCommandFor(stored, requestedAt);
        if (command === undefined) continue;
        await publishCommand(deps, link, command, trace);
        replaying++;
      }
      ctx.status = 202;
      ctx.body = { type, replaying, skipped: letters.length - replaying, more };
    });
  });

  router.post("/v1/dlq/:id/replay", async (ctx) => {
    const { id } = parseParams(DeadLetterIdParams, ctx.params);
    const attributes = { "http.request.method": "POST", "http.route": "/v1/dlq/:id/replay" };
    await deps.tracing.server("POST /v1/dlq/:id/replay", attributes, async (trace) => {
      const stored = await letterOf(id);
      const command = replayCommandFor(stored, new Date().toISOString());
      if (command === undefined) {
        throw conflict(`the dead letter of job ${id} holds no readable work item; discard it`);
      }
      await publishCommand(deps, link, command, trace);
      ctx.status = 202;
      ctx.body = { id, status: "replaying", run: command.run + 1 };
    });
  });

  router.delete("/v1/dlq/:id", jsonBody(deps.options.maxBodyBytes), async (ctx) => {
    const { id } = parseParams(DeadLetterIdParams, ctx.params);
    const request = parseBody(DiscardRequest, ctx.request.body);
    const attributes = { "http.request.method": "DELETE", "http.route": "/v1/dlq/:id" };
    await deps.tracing.server("DELETE /v1/dlq/:id", attributes, async (trace) => {
      const { seq, letter } = await letterOf(id);
      const run = letter.run ?? 1;
      const body: DiscardCommand = { jobId: id, run, seq, requestedAt: new Date().toISOString() };
      if (request.reason !== undefined) body.reason = request.reason;
      await publishCommand(
        deps,
        link,
        { verb: CommandVerb.Discard, jobId: id, type: letter.type, run, body },
        trace,
      );
      ctx.status = 202;
      ctx.body = { id, status: "discarding" };
    });
  });
  return router;
}

/** The replay command for a letter, or undefined when it cannot be replayed. */
function replayCommandFor(
  { seq, letter }: StoredLetter,
  requestedAt: string,
): { verb: "replay"; jobId: string; type: string; run: number; body: ReplayCommand } | undefined {
  if (letter.jobId === undefined || letter.workItem === undefined) return undefined;
  const run = letter.run ?? 1;
  return {
    verb: CommandVerb.Replay,
    jobId: letter.jobId,
    type: letter.type,
    run,
    body: { jobId: letter.jobId, run, seq, requestedAt },
  };
}

/** Runs a JetStream read within the deadline; NATS away or slow is a 503. */
async function readJetStream<T>(
  link: NatsLink,
  read: () => Promise<T>,
  timeoutMs: number,
): Promise<T> {
  if (!link.up) throw unavailable("NATS is not connected; the dead letters cannot be read");
  try {
    return await withTimeout(read(), timeoutMs, "JetStream");
  } catch (err) {
    if (err instanceof ApiError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw unavailable(`the dead letters cannot be read: ${message}`, err);
  }
}
