import { GetJobQuery, JobIdParams, ListJobsQuery } from "../schemas/jobs.ts";
import { DeadLetterIdParams, ListDeadLettersQuery, maxBulkReplay } from "../schemas/dlq.ts";
import { ListRejectionsQuery, RejectionIdParams } from "../schemas/rejections.ts";
import { JobTypeParams } from "../schemas/job-types.ts";
import { ListSchedulesQuery, ScheduleParams } from "../schemas/schedules.ts";
import { parametersOf } from "./parameters.ts";

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function json(description: string, schema: object) {
  return { description, content: { "application/json": { schema } } };
}

const error = (description: string) => json(description, ref("ErrorBody"));

const unavailable = error("A dependency (NATS or MongoDB) did not answer in time; retry later");
const badParameter = error("A query or path parameter is invalid; `issues` names it");
/** What every route that reads a JSON body may answer about the body itself. */
const bodyLimits = {
  "413": error(
    "The body is larger than the gateway's limit, or the message it makes larger than the " +
      "`JOBS` stream's `max_msg_size` (`payload_too_large`)",
  ),
  "415": error("A `Content-Encoding` the gateway cannot decode (`unsupported_media_type`)"),
};
const locationHeader = {
  description: "`/v1/jobs/<id>` of the job, when its id is known",
  schema: { type: "string" },
};

/** Every path of the REST API, their parameters and responses (success and error shapes). */
export function paths(submissionSchema: object): Record<string, object> {
  return {
    "/v1/jobs": {
      post: {
        operationId: "submitJob",
        summary: "Submit a job",
        description:
          "Validates the envelope and the payload against the type's registered schema, stores the " +
          "submission in the JOBS stream and answers after JetStream's PubAck. The idempotency key " +
          "(body `idempotencyKey` or `Idempotency-Key` header, else the job id) deduplicates " +
          "submissions within the intake stream's duplicate window.",
        parameters: [
          {
            name: "Idempotency-Key",
            in: "header",
            required: false,
            description:
              "Alternative to the body's `idempotencyKey`; they must agree when both are given",
            schema: { type: "string", minLength: 1, maxLength: 256 },
          },
        ],
        requestBody: {
          required: true,
          content: { "application/json": { schema: submissionSchema } },
        },
        responses: {
          "202": {
            ...json("Stored; the job will be dispatched", ref("SubmitAccepted")),
            headers: { Location: locationHeader },
          },
          "200": {
            ...json(
              "A submission with the same idempotency key (or id) was already stored",
              ref("SubmitDuplicate"),
            ),
            headers: { Location: locationHeader },
          },
          "400": error(
            "Not JSON (`invalid_json`), or a bad envelope or payload; `issues` name the fields",
          ),
          "413": error(
            "The body, or the job's envelope as stored (with its id and defaults), is larger " +
              "than the gateway's limit, or the `JOBS` stream refused the job for its " +
              "`max_msg_size`",
          ),
          "415": error("A `Content-Encoding` the gateway cannot decode (`unsupported_media_type`)"),
          "422": error("No worker has registered the job type (`unknown_type`)"),
          "503": error(
            "JetStream did not acknowledge in time; retry with the same idempotency key",
          ),
        },
      },
      get: {
        operationId: "listJobs",
        summary: "List jobs, newest first",
        parameters: parametersOf(ListJobsQuery, "query"),
        responses: {
          "200": json("One page of jobs", ref("JobList")),
          "400": badParameter,
          "503": unavailable,
        },
      },
    },
    "/v1/jobs/bulk": {
      post: {
        operationId: "submitJobs",
        summary: "Submit up to 1,000 jobs at once",
        description:
          "Checks every job as `POST /v1/jobs` checks one, then stores them as bulk submissions " +
          "(`jobs.bulk.<type>`: one stored message per type, within NATS's `max_payload`) and " +
          "answers after JetStream's PubAcks. When any job is refused, none is submitted and the " +
          "error names each refused job by its place (`jobs[3].payload.ms`). A job's `id` " +
          "deduplicates it (generated when absent); `idempotencyKey` and the `Idempotency-Key` " +
          "header are refused. The jobs share the request's trace.",
        requestBody: {
          required: true,
          content: { "application/json": { schema: ref("BulkSubmitRequest") } },
        },
        responses: {
          "202": json(
            "Every job is stored; their ids in the order given",
            ref("BulkSubmitAccepted"),
          ),
          "400": error(
            "Not JSON, not `{ jobs: [...] }` with 1 to 1,000 jobs, or a bad job; `issues` name the fields",
          ),
          "413": json(
            "The body, or one job, is larger than the gateway's limit (nothing was sent); or the " +
              "jobs not stored were each refused by the `JOBS` stream for its `max_msg_size`: " +
              "each job's id and whether it is stored",
            { oneOf: [ref("BulkSubmitTooLarge"), ref("ErrorBody")] },
          ),
          "415": error("A `Content-Encoding` the gateway cannot decode (`unsupported_media_type`)"),
          "422": error("No worker has registered a job's type (`unknown_type`)"),
          "503": json(
            "JetStream did not confirm every message of the bulk: each job's id and whether it " +
              "is stored; submit the others again with their ids. NATS disconnected: the shared " +
              "error body, nothing was sent",
            { oneOf: [ref("BulkSubmitUnavailable"), ref("ErrorBody")] },
          ),
        },
      },
    },
    "/v1/jobs/{id}": {
      get: {
        operationId: "getJob",
        summary: "Read a job's status, attempts, progress, result or error, timings and trace id",
        description:
          "With `waitMs`, answers once the job has finished (succeeded, dead or cancelled), or " +
          "as it is when that time runs out: check `status`.",
        parameters: [...parametersOf(JobIdParams, "path"), ...parametersOf(GetJobQuery, "query")],
        responses: {
          "200": json("The job", ref("JobView")),
          "400": badParameter,
          "404": error(
            "No such job (yet: a just-submitted job appears once the dispatcher has queued it)",
          ),
          "503": unavailable,
        },
      },
    },
    "/v1/jobs/{id}/events": {
      get: {
        operationId: "streamJobEvents",
        summary: "Follow a job live: its status, attempts and progress as server-sent events",
        description:
          "A `text/event-stream` (open it with `EventSource`): a `job` event carrying the job " +
          "as `GET /v1/jobs/{id}` answers it, again each time it changes (status, attempt, " +
          "progress report), until the job has finished (succeeded, dead or cancelled): then an " +
          "`end` event (`{ id, status }`) and the stream ends; close the `EventSource` on `end`. " +
          "A stream ended without `end` (its 30 minutes ran out, the gateway stopped) is to be " +
          "reconnected, as `EventSource` does by itself; each connection starts with the job as " +
          "it is. Comments (`: keep-alive`) every 15 s keep proxies from closing an idle stream.",
        parameters: parametersOf(JobIdParams, "path"),
        responses: {
          "200": {
            description: "The stream of the job's changes",
            content: {
              "text/event-stream": {
                schema: {
                  type: "string",
                  description: "`event: job` with `data:` a JobView; last `event: end`",
                },
              },
            },
          },
          "400": badParameter,
          "404": error(
            "No such job, after waiting 10 s for it (a just-submitted job appears once the " +
              "dispatcher has queued it)",
          ),
          "503": error(
            "NATS is not connected, the job could not be read, or the gateway follows as many " +
              "jobs as it may (`maxJobWaits`, shared with `waitMs`); retry later",
          ),
        },
      },
    },
    "/v1/jobs/{id}/cancel": {
      post: {
        operationId: "cancelJob",
        summary: "Cancel a queued or running job",
        description:
          "Stores a cancel command for the dispatcher and answers after JetStream's PubAck. A " +
          "queued (or failed, waiting to retry) job shows `cancelled` at once; a running one " +
          "when its handler has stopped: its `ctx.signal` is aborted with a `JobCancelledError`.",
        parameters: parametersOf(JobIdParams, "path"),
        requestBody: {
          required: false,
          content: { "application/json": { schema: ref("CancelRequest") } },
        },
        responses: {
          "202": json("The cancel is stored and will be carried out", ref("CancelAccepted")),
          "400": error("A bad id (`invalid_parameter`) or body (`invalid_body`, `invalid_json`)"),
          "404": error(
            "No such job (yet: a just-submitted job appears once the dispatcher has queued it)",
          ),
          "409": error("The job already finished: succeeded, dead or cancelled (`conflict`)"),
          ...bodyLimits,
          "503": error("NATS or MongoDB did not answer in time; retry later"),
        },
      },
    },
    "/v1/dlq": {
      get: {
        operationId: "listDeadLetters",
        summary:
          "List the dead letters still to be dealt with, oldest job first, from the read model",
        parameters: parametersOf(ListDeadLettersQuery, "query"),
        responses: {
          "200": json("One page of dead letters", ref("DeadLetterList")),
          "400": badParameter,
          "503": error("MongoDB did not answer in time; retry later"),
        },
      },
    },
    "/v1/dlq/replay": {
      post: {
        operationId: "replayDeadLettersOfType",
        summary: "Replay every dead letter of a job type",
        description: `Sends a replay command for each replayable letter of the type (at most ${maxBulkReplay} per call; \`more\` says whether to call again once they are replayed).`,
        requestBody: {
          required: true,
          content: { "application/json": { schema: ref("BulkReplayRequest") } },
        },
        responses: {
          "202": json("The replay commands are stored", ref("BulkReplayAccepted")),
          "400": error("A bad body (`invalid_body`, `invalid_json`); `issues` names the field"),
          ...bodyLimits,
          "503": error(
            "MongoDB or NATS did not answer in time; retry later (commands are deduplicated)",
          ),
        },
      },
    },
    "/v1/dlq/{id}": {
      get: {
        operationId: "getDeadLetter",
        summary: "Read a job's dead letter: its work item, last error, reason and attempts",
        parameters: parametersOf(DeadLetterIdParams, "path"),
        responses: {
          "200": json("The dead letter", ref("DeadLetterView")),
          "400": badParameter,
          "404": error(
            "No such job, or it has no dead letter (the message says if it was replayed or discarded)",
          ),
          "503": unavailable,
        },
      },
      delete: {
        operationId: "discardDeadLetter",
        summary: "Discard a job's dead letter; the job stays dead and the discard is logged",
        parameters: parametersOf(DeadLetterIdParams, "path"),
        requestBody: {
          required: false,
          content: { "application/json": { schema: ref("DiscardRequest") } },
        },
        responses: {
          "202": json("The discard command is stored", ref("DiscardAccepted")),
          "400": error("A bad id (`invalid_parameter`) or body (`invalid_body`, `invalid_json`)"),
          "404": error("No such job, or it has no dead letter"),
          ...bodyLimits,
          "503": unavailable,
        },
      },
    },
    "/v1/dlq/{id}/replay": {
      post: {
        operationId: "replayDeadLetter",
        summary: "Run a dead job again as its next run, keeping its id and history",
        parameters: parametersOf(DeadLetterIdParams, "path"),
        responses: {
          "202": json("The replay command is stored", ref("ReplayAccepted")),
          "400": badParameter,
          "404": error("No such job, or it has no dead letter"),
          "409": error("The letter holds no readable work item (`conflict`); discard it instead"),
          "503": unavailable,
        },
      },
    },
    "/v1/stats": {
      get: {
        operationId: "getStats",
        summary: "Job counts by status and type; work-queue depth and consumer counters per type",
        responses: { "200": json("The counts", ref("Stats")), "503": unavailable },
      },
    },
    "/v1/rejections": {
      get: {
        operationId: "listRejections",
        summary: "List submissions the dispatcher refused, newest first",
        parameters: parametersOf(ListRejectionsQuery, "query"),
        responses: {
          "200": json("One page of rejections", ref("RejectionList")),
          "400": badParameter,
          "503": unavailable,
        },
      },
    },
    "/v1/rejections/{id}": {
      get: {
        operationId: "getRejection",
        summary: "Read one rejection",
        parameters: parametersOf(RejectionIdParams, "path"),
        responses: {
          "200": json("The rejection", ref("RejectionView")),
          "400": badParameter,
          "404": error("No such rejection"),
          "503": unavailable,
        },
      },
    },
    "/v1/schedules": {
      get: {
        operationId: "listSchedules",
        summary: "The recurring schedules, by name, a page at a time",
        parameters: parametersOf(ListSchedulesQuery, "query"),
        responses: {
          "200": json("One page of schedules", ref("ScheduleList")),
          "400": badParameter,
          "503": unavailable,
        },
      },
    },
    "/v1/schedules/{name}": {
      put: {
        operationId: "putSchedule",
        summary: "Create or replace a recurring schedule",
        description:
          "Stores the schedule in the SCHEDULES stream, where nats-server's scheduler ticks it " +
          "(`cron`: six fields with seconds, or `@hourly`...; `every`: a Go duration such as " +
          "`5m`; UTC). At each tick the dispatcher submits its job, checked as `POST /v1/jobs` " +
          "checks one, under the id `<name>-<tick time in ms>` and the batch id `<name>` unless " +
          "the job names one.",
        parameters: parametersOf(ScheduleParams, "path"),
        requestBody: {
          required: true,
          content: { "application/json": { schema: ref("RecurringScheduleInput") } },
        },
        responses: {
          "200": json("Stored (with its latest run, when left unchanged)", ref("ScheduleView")),
          "400": error(
            "The name, the body, the schedule (`cron`, `every`) or the job's envelope or payload is invalid; `issues` names it",
          ),
          "422": error("No worker has registered the job's type (`unknown_type`)"),
          ...bodyLimits,
          "501": error(
            "nats-server is older than 2.14, whose message schedules read no cron or `every` pattern (`not_implemented`)",
          ),
          "503": unavailable,
        },
      },
      get: {
        operationId: "getSchedule",
        summary: "Read one recurring schedule",
        parameters: parametersOf(ScheduleParams, "path"),
        responses: {
          "200": json("The schedule, with its latest run once it has ticked", ref("ScheduleView")),
          "400": badParameter,
          "404": error("No schedule of that name"),
          "503": unavailable,
        },
      },
      delete: {
        operationId: "deleteSchedule",
        summary: "Delete a recurring schedule: it ticks no more",
        parameters: parametersOf(ScheduleParams, "path"),
        responses: {
          "204": { description: "Deleted" },
          "400": badParameter,
          "404": error("No schedule of that name"),
          "503": unavailable,
        },
      },
    },
    "/v1/job-types": {
      get: {
        operationId: "listJobTypes",
        summary: "The registered job types with their payload schemas",
        responses: { "200": json("The registered types", ref("JobTypeList")) },
      },
    },
    "/v1/job-types/{type}/pause": {
      post: {
        operationId: "pauseJobType",
        summary: "Stop handing a type's jobs to workers, until resumed or until a time",
        description:
          "Pauses the type's work consumer (nats-server's consumer pause): submissions are still " +
          "taken and queued, jobs already running finish, and no worker is handed another job of " +
          "the type until `POST /v1/job-types/{type}/resume` or the `until` time. The pause holds " +
          "for every worker and survives restarts.",
        parameters: parametersOf(JobTypeParams, "path"),
        requestBody: {
          required: false,
          content: { "application/json": { schema: ref("PauseRequest") } },
        },
        responses: {
          "200": json("Paused", ref("PauseState")),
          "400": error(
            "The type, `until` (unreadable, not in the future, or more than a year ahead) or an unknown field is invalid",
          ),
          "404": error(
            "The type has no work consumer (no worker has created it, or it was deleted)",
          ),
          ...bodyLimits,
          "503": unavailable,
        },
      },
    },
    "/v1/job-types/{type}/resume": {
      post: {
        operationId: "resumeJobType",
        summary: "Hand a paused type's jobs to workers again",
        parameters: parametersOf(JobTypeParams, "path"),
        responses: {
          "200": json("Resumed", ref("PauseState")),
          "400": badParameter,
          "404": error(
            "The type has no work consumer (no worker has created it, or it was deleted)",
          ),
          "503": unavailable,
        },
      },
    },
    "/healthz": {
      get: {
        operationId: "health",
        summary: "Liveness: the process is up",
        responses: { "200": json("Up", ref("Health")) },
      },
    },
    "/readyz": {
      get: {
        operationId: "ready",
        summary: "Readiness to take submissions: NATS connected",
        responses: {
          "200": json(
            "Ready; `degraded` when MongoDB does not answer (reads answer 503, submissions are accepted)",
            ref("Ready"),
          ),
          "503": json("NATS is down; `checks` says what else is", ref("NotReady")),
        },
      },
    },
    "/openapi.json": {
      get: {
        operationId: "openApi",
        summary: "This document",
        responses: { "200": { description: "The OpenAPI 3.1 document" } },
      },
    },
  };
}
