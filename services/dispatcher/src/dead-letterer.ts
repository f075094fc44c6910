import { setTimeout as sleep } from "node:timers/promises";

import { ConsumerName, StreamName } from "@conveyor/contracts";
import type { Logger } from "@conveyor/service-kit";
import type { Tracing } from "@conveyor/telemetry";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";

import { handleAdvisory } from "./advisory-mailbox.ts";
import type { DeadLetterObserver } from "./dead-letter-metrics.ts";
import { DeadLetterPublisher } from "./dead-letter-publisher.ts";
import { ExhaustedWork } from "./exhausted-work.ts";
import { PullLoop } from "./pull-loop.ts";
import { scanStrandedWork } from "./stranded-work-scan.ts";
import type { ScanReport } from "./stranded-work-scan.ts";

export interface DeadLettererOptions {
  /** Advisories handled at once. @default 8 */
  concurrency?: number;
  /**
   * Time between scans of the work stream for stranded messages, in milliseconds; the first scan
   * runs at start. 0 turns the periodic scan off (`reconcile()` still scans). @default 60000
   */
  scanIntervalMs?: number;
  /** Most work messages one scan looks at per work consumer. @default 100 */
  scanLimit?: number;
  /**
   * Pause before a scan looks again at the messages it found stranded, and dead-letters only those
   * still there, in milliseconds. @default 2000
   */
  confirmDelayMs?: number;
  /** How long one pull of advisories waits, in milliseconds (bounds how long `stop` waits). @default 1000 */
  pullExpiresMs?: number;
}

export interface DeadLettererDeps {
  js: JetStreamClient;
  /** Reads and deletes work messages by sequence and lists the work consumers. */
  jsm: JetStreamManager;
  tracing: Tracing;
  logger: Logger;
  options?: DeadLettererOptions;
  /** The clock, for dead-letter times. @default () => new Date() */
  now?: () => Date;
  /** Told of every job dead-lettered (metrics). */
  observer?: DeadLetterObserver | undefined;
}

export interface DeadLetterer {
  /** Scans the work stream for stranded messages now (the periodic scan calls the same). */
  reconcile(): Promise<ScanReport>;
  /** Stops pulling advisories and scanning, and resolves when what is in flight has finished. */
  stop(): Promise<void>;
}

export const defaultScanIntervalMs = 60_000;

/**
 * The dispatcher's second mailbox: max-deliveries advisories captured in `ADVISORIES`
 * (`dispatcher-advisories`). Each names a work message that JetStream will not deliver again; it
 * becomes a dead letter on `dlq.<type>` and a `dead` event, and is removed from the work stream.
 * Advisories captured while the dispatcher was down are handled when it starts. A periodic scan
 * catches the messages whose advisory was never captured.
 */
export async function createDeadLetterer(deps: DeadLettererDeps): Promise<DeadLetterer> {
  const { js, jsm, tracing, logger, observer } = deps;
  const options = deps.options ?? {};
  const log = logger.child({ actor: "dead-letterer" });
  const exhausted = new ExhaustedWork({
    jsm,
    publisher: new DeadLetterPublisher(js, tracing),
    tracing,
    now: deps.now ?? (() => new Date()),
    observer,
  });
  const consumer = await js.consumers.get(StreamName.Advisories, ConsumerName.DispatcherAdvisories);
  const loop = new PullLoop(
    consumer,
    (msg) => handleAdvisory(msg, { exhausted, logger: log }),
    log,
    {
      concurrency: options.concurrency ?? 8,
      pullExpiresMs: options.pullExpiresMs,
    },
  );
  const scanDeps = {
    jsm,
    exhausted,
    logger: log,
    scanLimit: options.scanLimit ?? 100,
    confirmDelayMs: options.confirmDelayMs,
  };
  let scanning: Promise<ScanReport> | undefined;
  // One scan at a time: a manual reconcile during a periodic one joins it.
  const reconcile = (): Promise<ScanReport> => {
    scanning ??= scanStrandedWork(scanDeps).finally(() => {
      scanning = undefined;
    });
    return scanning;
  };

  const stopped = new AbortController();
  const periodic = scanPeriodically(
    reconcile,
    options.scanIntervalMs ?? defaultScanIntervalMs,
    stopped.signal,
    log,
  );
  loop.start();
  log.info("dead-letterer consuming max-deliveries advisories");
  return {
    reconcile,
    stop: async () => {
      stopped.abort();
      await Promise.all([loop.stop(), periodic, scanning?.catch(() => undefined)]);
    },
  };
}

async function scanPeriodically(
  reconcile: () => Promise<ScanReport>,
  intervalMs: number,
  signal: AbortSignal,
  logger: Logger,
): Promise<void> {
  if (intervalMs <= 0) return;
  while (!signal.aborted) {
    try {
      const report = await reconcile();
      if (report.deadLettered + report.deferred + report.failed > 0) {
        logger.info({ report }, "scanned the work stream for stranded jobs");
      }
    } catch (err) {
      logger.warn({ err }, "scanning the work stream for stranded jobs failed");
    }
    await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
  }
}
