import { LifecycleKind, StreamName, Subject } from "@conveyor/contracts";
import type { Logger } from "@conveyor/service-kit";
import type { TraceContext, Tracing } from "@conveyor/telemetry";
import type { JetStreamManager } from "@nats-io/jetstream";

/** The trace context a job's own messages carry, or undefined when it cannot be found. */
export type JobTraceLookup = (jobId: string) => Promise<TraceContext | undefined>;

/**
 * Looks a job's trace up in the headers of its newest `queued` event (`events.<jobId>.queued`,
 * one direct get). Tracing is best effort: a job whose event has aged out, a message without a
 * `traceparent`, or NATS failing to answer gives undefined (the failure logged at debug), so that
 * whatever asked goes on in a trace of its own.
 */
export function queuedEventTrace(
  jsm: JetStreamManager,
  tracing: Tracing,
  logger: Logger,
): JobTraceLookup {
  return async (jobId) => {
    try {
      const queued = await jsm.direct.getMessage(StreamName.Events, {
        last_by_subj: Subject.event(jobId, LifecycleKind.Queued),
      });
      if (queued === null) return undefined;
      const context = tracing.extract(queued.header);
      return tracing.traceIdOf(context) === undefined ? undefined : context;
    } catch (err) {
      logger.debug({ err, jobId }, "could not read the job's trace from its queued event");
      return undefined;
    }
  };
}
