import {
  LifecycleKind,
  StreamName,
  Subject,
  jsonOrUndefined,
  parseJobEventJson,
} from "@conveyor/contracts";
import type { Logger } from "@conveyor/service-kit";
import type { TraceContext, Tracing } from "@conveyor/telemetry";
import type { JetStreamManager } from "@nats-io/jetstream";

/** The trace context a run of a job carries, or undefined when it cannot be found. */
export type JobTraceLookup = (jobId: string, run: number) => Promise<TraceContext | undefined>;

/**
 * Looks a job's trace up in the headers of its newest `queued` event (`events.<jobId>.queued`,
 * one direct get), when that event queued `run` (after a replay it is a later run's). Tracing is
 * best effort and this never rejects: a job whose event has aged out or is another run's, a
 * message without a `traceparent`, or NATS failing to answer (logged) gives undefined, and what
 * asked goes on in a trace of its own.
 */
export function queuedEventTrace(
  jsm: JetStreamManager,
  tracing: Tracing,
  logger: Logger,
): JobTraceLookup {
  return async (jobId, run) => {
    try {
      const queued = await jsm.direct.getMessage(StreamName.Events, {
        last_by_subj: Subject.event(jobId, LifecycleKind.Queued),
      });
      if (queued === null || runOf(queued.data) !== run) return undefined;
      const context = tracing.extract(queued.header);
      return tracing.traceIdOf(context) === undefined ? undefined : context;
    } catch (err) {
      logger.warn(
        { err, jobId },
        "could not read the job's trace from its queued event; its cancel is traced apart",
      );
      return undefined;
    }
  };
}

/** The run a stored `queued` event queued; undefined for a body that is no lifecycle event. */
function runOf(data: Uint8Array): number | undefined {
  const parsed = parseJobEventJson(jsonOrUndefined(data));
  return parsed.success ? parsed.data.run : undefined;
}
