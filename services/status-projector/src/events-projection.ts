import { StreamName } from "@conveyor/contracts";
import type { JobEvent, RejectedEvent } from "@conveyor/contracts";

import { decodeEvent } from "./decode-event.ts";
import { projectEvents } from "./project-events.ts";
import type { Projection } from "./projection.ts";

/** Lifecycle events (`events.>` on `EVENTS`) into the `jobs` and `rejections` collections. */
export const eventsProjection: Projection = {
  stream: StreamName.Events,
  label: "events",
  prepare(batch, logger) {
    const jobEvents: JobEvent[] = [];
    const rejections: RejectedEvent[] = [];
    for (const msg of batch) {
      const decoded = decodeEvent(msg.subject, msg.data);
      if (decoded.type === "job") jobEvents.push(decoded.event);
      else if (decoded.type === "rejection") rejections.push(decoded.event);
      else {
        const { reason, issues } = decoded;
        logger.warn(
          { subject: msg.subject, streamSeq: msg.seq, reason, issues },
          "invalid event skipped",
        );
      }
    }
    const first = jobEvents[0];
    return {
      span: {
        subject: batch[0]?.subject ?? "events",
        jobId: first?.jobId,
        jobType: first?.type,
      },
      store: (db) => projectEvents(db, jobEvents, rejections),
    };
  },
};
