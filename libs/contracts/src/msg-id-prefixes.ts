/**
 * The `Nats-Msg-Id` prefixes of what `JOBS` stores besides single submissions: commands
 * (`cmd:<verb>:<jobId>:<run>:<requestId>`) and bulk submissions (`bulk:<hash>`). Submissions are deduplicated
 * by their job id (which holds no `:`) or idempotency key in the same window, so a key may not
 * start with one of these: it would swallow a later command or bulk of the same id.
 */
export const MsgIdPrefix = { Command: "cmd:", Bulk: "bulk:" } as const;

export const reservedMsgIdPrefixes: readonly string[] = Object.values(MsgIdPrefix);
