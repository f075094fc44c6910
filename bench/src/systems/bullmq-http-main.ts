// The HTTP front of the BullMQ side: what a BullMQ user writes to accept jobs over REST. Koa (the
// framework Conveyor's gateway uses), `POST /v1/jobs` with `{ type, payload }`, `Queue.add`, 202.
import { bodyParser } from "@koa/bodyparser";
import Router from "@koa/router";
import { Queue } from "bullmq";
import Koa from "koa";

import { parseEnv } from "@conveyor/service-kit";

import { benchJobOptions, benchQueueName, bullmqChildEnv } from "./bullmq-protocol.ts";
import type { ChildMessage } from "./bullmq-protocol.ts";

const env = parseEnv(bullmqChildEnv);
const queue = new Queue(benchQueueName, {
  connection: { host: env.REDIS_HOST, port: env.REDIS_PORT },
  defaultJobOptions: benchJobOptions,
});
const jobTypes = new Set(["echo", "sleep"]);

const router = new Router();
router.post("/v1/jobs", async (ctx) => {
  const body = ctx.request.body as { type?: unknown; payload?: unknown } | undefined;
  const type = body?.type;
  if (typeof type !== "string" || !jobTypes.has(type)) {
    ctx.status = 400;
    ctx.body = { error: "invalid_envelope", message: "type: must be echo or sleep" };
    return;
  }
  const job = await queue.add(type, body?.payload ?? null);
  ctx.status = 202;
  ctx.body = { id: job.id, status: "queued" };
});

const app = new Koa();
app.use(bodyParser());
app.use(router.routes());
const server = app.listen(0, "127.0.0.1", () => {
  const address = server.address();
  const message: ChildMessage = {
    listening: typeof address === "object" && address !== null ? address.port : 0,
  };
  process.send?.(message);
});

async function stop(): Promise<void> {
  server.close();
  await queue.close();
  process.exit(0);
}
process.on("SIGTERM", () => void stop());
process.on("disconnect", () => void stop());
