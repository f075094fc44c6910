import {
  CommandVerb,
  DeadLetterLogEntry,
  JobStatus,
  StreamName,
  Subject,
} from "@conveyor/contracts";
import type { DiscardCommand, ReplayCommand } from "@conveyor/contracts";
import {
  findDeadLetter,
  isOpenDeadLetter,
  listDeadLetters,
  listReplayableDeadLetters,
} from "@conveyor/read-model";
import type {
  OpenDeadLetterDocument,
  ReadDeadline,
  ReplayableDeadLetter,
} from "@conveyor/read-model";
import Router from "@koa/router";
import { millis } from "@nats-io/transport-node";
import ms from "ms";

import type { GatewayDeps } from "../deps.ts";
import { isReplayable, toDeadLetterView } from "../dlq/dead-letter-view.ts";
import { conflict, errorMessage, natsNotConnected, notFound, unavailable } from "../errors.ts";
import { jsonBody } from "../http/json-body.ts";
import { withTimeout } from "../http/with-timeout.ts";
import { inRequestSpan } from "../http/request-span.ts";
import { parseBody } from "../http/parse-body.ts";
import { parseParams } from "../http/parse-params.ts";
import type { NatsOut } from "../jobs/nats-out.ts";
import { publishCommand } from "../jobs/publish-command.ts";
import type { OutgoingCommand } from "../jobs/publish-command.ts";
import { defaultReadTimeoutMs, queryReadModel } from "../jobs/query-read-model.ts";
import { readJob } from "../jobs/read-job.ts";
import {
  BulkReplayRequest,
  DeadLetterIdParams,
  DiscardRequest,
  ListDeadLettersQuery,
  maxBulkReplay,
} from "../schemas/dlq.ts";

/**
 * The dead-letter API over the `dead_letters` read model (which the status projector keeps from
 * the `DLQ` stream): list and read letters, replay a job (`jobs.cmd.replay.<jobId>`), discard a
 * letter (`jobs.cmd.discard.<jobId>`), replay every letter of a type. A letter is addressed by its
 * job id; the commands name its place in the `DLQ`, which the document holds.
 */
export function dlqRouter(deps: GatewayDeps, out: NatsOut): Router {
  const router = new Router();
  const timeoutMs = deps.options.readTimeoutMs ?? defaultReadTimeoutMs;
  const read = <T>(query: (deadline: ReadDeadline) => Promise<T>) =>
    queryReadModel(query, timeoutMs);
  const dlqNow = () => dlqState(deps, out);

  /**
   * The job's open letter, or a 404 saying why there is none: also for a letter the `DLQ` no
   * longer holds (past its max age, or purged), which the read model keeps a while longer and
   * which a replay or discard could not find.
   */
  const letterOf = async (id: string): Promise<OpenDeadLetterDocument> => {
    const doc = await read((deadline) => findDeadLetter(deps.db, id, deadline));
    if (doc !== null && isOpenDeadLetter(doc)) {
      const dlq = await dlqNow();
      if (dlq !== undefined && doc.source.seq < dlq.firstSeq) {
        // Settled a moment ago, its log entry not projected yet: the letter was removed, and was
        // the DLQ's oldest.
        const settled = await settledInLog(deps, out, id, doc.run);
        if (settled !== undefined) {
          throw notFound(
            `the dead letter of job ${id} (run ${doc.run}) was ${settled.action} at ${settled.at}`,
          );
        }
        throw notFound(
          `the dead letter of job ${id} (run ${doc.run}) is no longer in the DLQ, which keeps letters for ${dlq.maxAge}`,
        );
      }
      return doc;
    }
    if (doc !== null) {
      throw notFound(
        `the dead letter of job ${id} (run ${doc.run}) was ${doc.state} at ${doc.settledAt}`,
      );
    }
    // Known the same way GET /v1/jobs/:id knows it, so the two never disagree on whether it exists.
    const job = await readJob(deps, id, timeoutMs, out.link);
    if (!job) throw notFound(`no job with id ${id}`);
    if (job.status === JobStatus.Dead) {
      const gone = letterAgedOut(await dlqNow(), job.finishedAt);
      if (gone !== undefined) {
        throw notFound(
          `job ${id} died at ${job.finishedAt}, and its dead letter is gone: the DLQ keeps letters for ${gone}`,
        );
      }
      // The projector writes the letter from DLQ, which can be a moment behind the job's events.
      throw notFound(`job ${id} is dead and its dead letter is not shown yet; retry shortly`);
    }
    throw notFound(`job ${id} has no dead letter (status ${job.status})`);
  };

  router.get("/v1/dlq", async (ctx) => {
    const query = parseParams(ListDeadLettersQuery, ctx.query);
    const firstSeq = (await dlqNow())?.firstSeq;
    const page = await read((deadline) =>
      listDeadLetters(deps.db, { ...query, firstSeq, ...deadline }),
    );
    ctx.body = {
      items: page.items.filter(isOpenDeadLetter).map(toDeadLetterView),
      nextCursor: page.nextCursor,
    };
  });

  router.get("/v1/dlq/:id", async (ctx) => {
    const { id } = parseParams(DeadLetterIdParams, ctx.params);
    ctx.body = toDeadLetterView(await letterOf(id));
  });

  router.post("/v1/dlq/replay", jsonBody(deps.options.maxBodyBytes), async (ctx) => {
    const { type } = parseBody(BulkReplayRequest, ctx.request.body);
    await inRequestSpan(deps, ctx, "POST", "/v1/dlq/replay", async (trace) => {
      const firstSeq = await dlqFirstSeq(deps, out);
      const { letters, more, unreplayable } = await read((deadline) =>
        listReplayableDeadLetters(deps.db, { type, limit: maxBulkReplay, firstSeq, ...deadline }),
      );
      const requestedAt = new Date().toISOString();
      const commands = letters.map((letter) => replayCommand(letter, requestedAt));
      // All at once, so the request takes one publish deadline, not one per letter. A client
      // repeating the request after a 503 replays nothing twice: each command names its letter's
      // place in the DLQ, and a letter replayed is gone from there.
      await Promise.all(commands.map((command) => publishCommand(deps, out, command, trace)));
      const replaying = commands.length;
      ctx.status = 202;
      ctx.body = { type, replaying, skipped: unreplayable, more };
    });
  });

  router.post("/v1/dlq/:id/replay", async (ctx) => {
    const { id } = parseParams(DeadLetterIdParams, ctx.params);
    await inRequestSpan(deps, ctx, "POST", "/v1/dlq/:id/replay", async (trace) => {
      const letter = await letterOf(id);
      // A replay given up on after it stored the new run's work item leaves the letter open
      // while that run goes on; another replay would run the job again once WORK's duplicate
      // window has passed.
      const job = await readJob(deps, id, timeoutMs, out.link);
      if (job !== undefined && job.run > letter.run) {
        throw conflict(
          `job ${id} was replayed already (it is on run ${job.run}); discard the dead letter of run ${letter.run} to settle it`,
        );
      }
      const command = replayCommandFor(letter, new Date().toISOString());
      if (command === undefined) {
        throw conflict(`the dead letter of job ${id} holds no readable work item; discard it`);
      }
      await publishCommand(deps, out, command, trace);
      ctx.status = 202;
      ctx.body = { id, status: "replaying", run: command.run + 1 };
    });
  });

  router.delete("/v1/dlq/:id", jsonBody(deps.options.maxBodyBytes), async (ctx) => {
    const { id } = parseParams(DeadLetterIdParams, ctx.params);
    const request = parseBody(DiscardRequest, ctx.request.body);
    await inRequestSpan(deps, ctx, "DELETE", "/v1/dlq/:id", async (trace) => {
      const { run, type, source } = await letterOf(id);
      const requestedAt = new Date().toISOString();
      const body: DiscardCommand = { jobId: id, run, seq: source.seq, requestedAt };
      if (request.reason !== undefined) body.reason = request.reason;
      await publishCommand(
        deps,
        out,
        { verb: CommandVerb.Discard, jobId: id, type, run, body },
        trace,
      );
      ctx.status = 202;
      ctx.body = { id, status: "discarding" };
    });
  });
  return router;
}

/** The replay command for a letter (naming its run and `DLQ` sequence), or undefined when it cannot be replayed. */
function replayCommandFor(
  doc: OpenDeadLetterDocument,
  requestedAt: string,
): (OutgoingCommand & { body: ReplayCommand }) | undefined {
  if (!isReplayable(doc)) return undefined;
  const { jobId, run, type } = doc;
  return replayCommand({ jobId, run, type, seq: doc.source.seq }, requestedAt);
}

function replayCommand(
  { jobId, run, type, seq }: ReplayableDeadLetter,
  requestedAt: string,
): OutgoingCommand & { body: ReplayCommand } {
  return { verb: CommandVerb.Replay, jobId, type, run, body: { jobId, run, seq, requestedAt } };
}

/**
 * The `DLQ`'s max age, as `ms` says it (`30 days`), when a job that died at `diedAt` has outlived it:
 * its letter is gone from the stream, and from the read model, which keeps letters about as long.
 * Undefined when it has not, when the `DLQ` keeps letters for good, or when NATS cannot say.
 */
function letterAgedOut(dlq: DlqState | undefined, diedAt: string | undefined): string | undefined {
  if (diedAt === undefined || dlq === undefined || dlq.maxAgeMs <= 0) return undefined;
  return Date.now() - Date.parse(diedAt) > dlq.maxAgeMs ? dlq.maxAge : undefined;
}

/** What the routes need to know of the `DLQ` stream. */
interface DlqState {
  firstSeq: number;
  /** 0: no max age. */
  maxAgeMs: number;
  /** The max age as `ms` says it. */
  maxAge: string;
}

/**
 * The `DLQ`'s first sequence (the letters below it are gone) and its max age (0: none), also as
 * `ms` says it, when NATS answers within the publish deadline; undefined otherwise, and then
 * letters are shown as the read model has them.
 */
async function dlqState(deps: GatewayDeps, out: NatsOut): Promise<DlqState | undefined> {
  if (!out.link.up) return undefined;
  try {
    const { state, config } = await withTimeout(
      deps.jsm.streams.info(StreamName.Dlq),
      deps.options.publishTimeoutMs,
      "JetStream",
    );
    const maxAgeMs = millis(config.max_age);
    return {
      firstSeq: state.first_seq,
      maxAgeMs,
      maxAge: maxAgeMs > 0 ? ms(maxAgeMs, { long: true }) : "as long as it is not purged",
    };
  } catch {
    return undefined;
  }
}

/**
 * The newest entry of the job's dead-letter log (`dlq-log.<jobId>`) when it settled the letter of
 * `run`; undefined when there is none, or it cannot be read.
 */
async function settledInLog(
  deps: GatewayDeps,
  out: NatsOut,
  id: string,
  run: number,
): Promise<DeadLetterLogEntry | undefined> {
  if (!out.link.up) return undefined;
  try {
    const stored = await withTimeout(
      deps.jsm.streams.getMessage(StreamName.Dlq, { last_by_subj: Subject.deadLetterLog(id) }),
      deps.options.publishTimeoutMs,
      "JetStream",
    );
    if (stored === null) return undefined;
    const entry = DeadLetterLogEntry.safeParse(stored.json()).data;
    return entry?.run === run ? entry : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `DLQ`'s first sequence: the letters below it are gone (its max age removes the oldest
 * first). A bulk replay publishes commands next, so NATS being away fails it the same way.
 */
async function dlqFirstSeq(deps: GatewayDeps, out: NatsOut): Promise<number> {
  if (!out.link.up) throw natsNotConnected("no letter was replayed");
  try {
    const info = await deps.jsm.streams.info(StreamName.Dlq);
    return info.state.first_seq;
  } catch (err) {
    throw unavailable(`the DLQ could not be read from NATS: ${errorMessage(err)}`, err);
  }
}
