// A role of the ceiling diagnostic (see main.ts), in a process of its own as Conveyor's services
// are: `intake` (the dispatcher's part), `worker` or `projector`. Each does only the messaging
// its service does for a no-op job, none of the validation, tracing or storage: what is left is
// what the design's messages cost. It reports how many messages it has finished over IPC.
import { ConsumerName, StreamName, Subject, workConsumerName } from "@conveyor/contracts";
import { JetStreamPublisher } from "@conveyor/service-kit";
import { jetstream } from "@nats-io/jetstream";
import type { JsMsg } from "@nats-io/jetstream";
import { connect, headers } from "@nats-io/transport-node";

import {
  ceilingJobType,
  parseEventMode,
  parseSubmitMode,
  projectorMailboxes,
  workAsQueuedConsumers,
  workAsQueuedSubject,
} from "./event-mode.ts";

const role = process.env["CEILING_ROLE"];
const mode = parseEventMode(process.env["CEILING_EVENTS"]);
const submitMode = parseSubmitMode(process.env["CEILING_SUBMIT"]);
const nc = await connect({ servers: process.env["NATS_URL"], noAsyncTraces: true });
const js = jetstream(nc);
const publisher = new JetStreamPublisher(nc);
let done = 0;
const report = setInterval(() => process.send?.({ done }), 50);
process.once("SIGTERM", () => {
  clearInterval(report);
  void nc.close().then(() => process.exit(0));
});

/** Calls `handle` once per event-loop turn with the messages that turn delivered. */
function perTurn(handle: (batch: JsMsg[]) => void): (msg: JsMsg) => void {
  let batch: JsMsg[] = [];
  return (msg) => {
    if (batch.push(msg) > 1) return;
    setImmediate(() => {
      const taken = batch;
      batch = [];
      handle(taken);
    });
  };
}

const traced = (): ReturnType<typeof headers> => {
  const h = headers();
  h.append("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  return h;
};

const ackAll = (msgs: JsMsg[]) => {
  for (const msg of msgs) msg.ack();
  done += msgs.length;
};

/** The ids of the jobs an intake message submits: one, or a bulk's. */
function submittedIds(msg: JsMsg): string[] {
  if (submitMode === "single") return [msg.json<{ id: string }>().id];
  return msg.json<{ jobs: { id: string }[] }>().jobs.map((job) => job.id);
}

async function intake(): Promise<void> {
  const consumer = await js.consumers.get(
    StreamName.Jobs,
    submitMode === "bulk" ? ConsumerName.DispatcherBulkIntake : ConsumerName.DispatcherIntake,
  );
  await consumer.consume({
    max_messages: 512,
    callback: perTurn((batch) => {
      const stored: Promise<unknown>[] = [];
      const ids = batch.flatMap(submittedIds);
      for (const id of ids) {
        const at = new Date().toISOString();
        const item = JSON.stringify({
          jobId: id,
          type: ceilingJobType,
          payload: {},
          attempt: 1,
          queuedAt: at,
        });
        const workSubject =
          mode === "work-as-queued" ? workAsQueuedSubject(id) : Subject.work(ceilingJobType);
        stored.push(publisher.publish(workSubject, item, { msgID: id, headers: traced() }));
        if (mode === "per-job" || mode === "batched-outcomes") {
          const event = JSON.stringify({
            jobId: id,
            kind: "queued",
            type: ceilingJobType,
            payload: {},
            at,
          });
          stored.push(
            publisher.publish(Subject.event(id, "queued"), event, {
              msgID: `${id}:queued`,
              headers: traced(),
            }),
          );
        }
      }
      if (mode === "batched") {
        const event = JSON.stringify({
          kind: "queued",
          type: ceilingJobType,
          at: new Date().toISOString(),
          jobIds: ids,
        });
        stored.push(
          publisher.publish(Subject.event(`batch-${ids[0] ?? ""}`, "queued"), event, {
            headers: traced(),
          }),
        );
      }
      publisher.flush();
      void Promise.all(stored).then(() => {
        ackAll(batch);
      });
    }),
  });
}

async function worker(): Promise<void> {
  const consumer = await js.consumers.get(
    StreamName.Work,
    mode === "work-as-queued" ? workAsQueuedConsumers.worker : workConsumerName(ceilingJobType),
  );
  await consumer.consume({
    max_messages: 64,
    callback: perTurn((batch) => {
      if (mode === "none") {
        ackAll(batch);
        return;
      }
      const at = new Date().toISOString();
      const outcome = (jobId: string) => ({
        jobId,
        kind: "succeeded",
        attempt: 1,
        startedAt: at,
        at,
        result: null,
      });
      const ids = batch.map((msg) => msg.json<{ jobId: string }>().jobId);
      if (mode === "batched-outcomes" || mode === "batched") {
        const event = JSON.stringify({ kind: "succeeded", outcomes: ids.map(outcome) });
        void publisher
          .publish(Subject.event(`batch-${ids[0] ?? ""}`, "succeeded"), event, {
            headers: traced(),
          })
          .then(() => {
            ackAll(batch);
          });
        return;
      }
      batch.forEach((msg, i) => {
        const id = ids[i] ?? "";
        void publisher
          .publish(Subject.event(id, "succeeded"), JSON.stringify(outcome(id)), {
            headers: traced(),
          })
          .then(() => {
            ackAll([msg]);
          });
      });
    }),
  });
}

async function projector(): Promise<void> {
  const mailboxes = projectorMailboxes(mode);
  for (const [stream, name] of mailboxes) {
    const consumer = await js.consumers.get(stream, name);
    await consumer.consume({
      // As many messages buffered in all as the projector's one mailbox of the other modes.
      max_messages: 500 / mailboxes.length,
      callback: perTurn((batch) => {
        // Decoded as the projector would, then acknowledged one by one as it does after a write.
        for (const msg of batch) msg.json();
        ackAll(batch);
      }),
    });
  }
}

const roles: Record<string, () => Promise<void>> = { intake, worker, projector };
const run = role === undefined ? undefined : roles[role];
if (run === undefined)
  throw new Error(`CEILING_ROLE must be one of ${Object.keys(roles).join(", ")}`);
await run();
