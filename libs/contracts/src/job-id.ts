import { randomFillSync } from "node:crypto";

import { v7 as uuidv7 } from "uuid";
import { z } from "zod";

/**
 * A job id is one NATS subject token (it appears in event subjects), so it is restricted to
 * letters, digits, `-` and `_`. Generated ids are UUIDv7: they sort by creation time, which gives
 * list endpoints a stable, time-ordered cursor.
 */
export const JobId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, "id must be 1-64 characters of A-Z, a-z, 0-9, '-' and '_'");
export type JobId = z.infer<typeof JobId>;

/** Ids whose random bytes one draw from the system provides. */
const idsPerDraw = 256;
const randomPool = Buffer.alloc(16 * idsPerDraw);
let nextInPool = idsPerDraw;
/** The last id's time and counter: ids made in one millisecond count up from a random start. */
const clock = { msecs: -Infinity, seq: 0 };

/**
 * A new UUIDv7, greater than every id this process made before. The random bytes come from a pool
 * refilled 4 KiB at a time: drawing 16 bytes per id costs a system call each, which at thousands of
 * submissions a second was a noticeable share of the gateway's CPU.
 */
export function newJobId(): string {
  if (nextInPool === idsPerDraw) {
    randomFillSync(randomPool);
    nextInPool = 0;
  }
  const start = 16 * nextInPool++;
  const random = randomPool.subarray(start, start + 16);
  // uuid keeps this clock itself only when it draws the random bytes; this is its rule.
  const now = Date.now();
  if (now > clock.msecs) {
    clock.msecs = now;
    clock.seq = randomPool.readUInt32BE(start + 6) & 0x7fffffff;
  } else {
    clock.seq = (clock.seq + 1) | 0;
    if (clock.seq === 0) clock.msecs++;
  }
  return uuidv7({ msecs: clock.msecs, seq: clock.seq, random });
}
