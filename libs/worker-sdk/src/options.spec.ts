import { describe, expect, it } from "vitest";
import { z } from "zod";

import { WorkerConfigError } from "./errors.ts";
import { defineHandler } from "./handler.ts";
import type { HandlerEntry } from "./handler.ts";
import { compileWorkerOptions } from "./options.ts";
import type { WorkerOptions } from "./options.ts";

const noop = () => null;

function configError(options: WorkerOptions): WorkerConfigError {
  try {
    compileWorkerOptions(options);
  } catch (err) {
    if (err instanceof WorkerConfigError) return err;
    throw err;
  }
  throw new Error("expected a WorkerConfigError");
}

describe("compileWorkerOptions", () => {
  it("fills in the defaults", () => {
    const resolved = compileWorkerOptions({ handlers: { echo: noop } });
    expect(resolved).toMatchObject({
      ackWaitMs: 30_000,
      heartbeatMs: 10_000,
      shutdownGraceMs: 10_000,
    });
    expect(resolved.types[0]).toMatchObject({ type: "echo", concurrency: 4, schema: undefined });
    expect(resolved.types[0]!.retry.maxAttempts).toBe(4);
    expect(resolved.workerId).toMatch(/-\d+$/);
  });

  it("resolves a handler definition: concurrency, retry, JSON Schema of the payload input", () => {
    const resolved = compileWorkerOptions({
      concurrency: 2,
      handlers: {
        sleep: defineHandler({
          schema: z.object({ ms: z.int().min(0), note: z.string().default("") }),
          handler: (job) => job.payload.ms,
          retry: { maxAttempts: 5, initialDelayMs: 50 },
          concurrency: 8,
        }),
        echo: noop,
      },
    });
    const [sleep, echo] = resolved.types;
    expect(sleep).toMatchObject({
      concurrency: 8,
      retryOverrides: { maxAttempts: 5, initialDelayMs: 50 },
    });
    expect(sleep!.retry).toMatchObject({ maxAttempts: 5, initialDelayMs: 50, factor: 2 });
    expect(sleep!.payloadSchema).toMatchObject({
      type: "object",
      properties: { ms: { type: "integer", minimum: 0 } },
      required: ["ms"],
    });
    expect(echo!.concurrency).toBe(2);
  });

  it("names a bad type name", () => {
    expect(configError({ handlers: { "Bad Type": noop } }).option).toBe("handlers.Bad Type");
  });

  it("names a bad per-type option", () => {
    const error = configError({ handlers: { echo: { handler: noop, concurrency: 0 } } });
    expect(error.option).toBe("handlers.echo.concurrency");
  });

  it("names a bad retry field", () => {
    const error = configError({ handlers: { echo: { handler: noop, retry: { factor: 0 } } } });
    expect(error.option).toBe("handlers.echo.retry.factor");
  });

  it("refuses a heartbeat longer than half the lease, whose renewals would arrive too late", () => {
    // Renewals are timed from when the worker took the job, after the server started the lease.
    for (const heartbeatMs of [2000, 1999, 1001]) {
      const error = configError({ handlers: { echo: noop }, ackWaitMs: 2000, heartbeatMs });
      expect(error.option).toBe("heartbeatMs");
      expect(error.message).toContain("half of ackWaitMs");
    }
    expect(
      compileWorkerOptions({ handlers: { echo: noop }, ackWaitMs: 2000, heartbeatMs: 1000 })
        .heartbeatMs,
    ).toBe(1000);
  });

  it("refuses a time longer than a timer can wait (2^31 - 1 ms), which Node would fire at once", () => {
    for (const option of [
      "shutdownGraceMs",
      "ackWaitMs",
      "heartbeatMs",
      "pullExpiresMs",
      "progressIntervalMs",
    ]) {
      const error = configError({ handlers: { echo: noop }, [option]: 2 ** 31 });
      expect(error.option).toBe(option);
      expect(error.message).toContain("2147483647");
    }
  });

  it("refuses a definition without a handler function, naming it", () => {
    const entry = { description: "no handler" } as unknown as HandlerEntry;
    expect(configError({ handlers: { echo: entry } }).option).toBe("handlers.echo.handler");
  });

  it("accepts a definition with fields of its own, such as a class instance", () => {
    class Mailer {
      readonly sent: string[] = [];
      handler(): null {
        return null;
      }
    }
    const options = compileWorkerOptions({ handlers: { echo: new Mailer() } });
    expect(options.types.map((t) => t.type)).toEqual(["echo"]);
  });

  it("refuses an empty handler map", () => {
    expect(configError({ handlers: {} }).option).toBe("handlers");
  });

  it("turns a synchronous throw of a handler into a rejection", async () => {
    const resolved = compileWorkerOptions({
      handlers: {
        echo: () => {
          throw new Error("sync");
        },
      },
    });
    const job = {} as Parameters<(typeof resolved.types)[number]["handle"]>[0];
    const ctx = {} as Parameters<(typeof resolved.types)[number]["handle"]>[1];
    await expect(resolved.types[0]!.handle(job, ctx)).rejects.toThrow("sync");
  });
});
