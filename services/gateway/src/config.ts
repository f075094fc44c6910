import { defaultMaxSubmissionBytes } from "@conveyor/contracts";
import { commonEnv, envInt, envMs, mongoEnv, parseEnv } from "@conveyor/service-kit";
import type { Env } from "@conveyor/service-kit";
import { z } from "zod";

import { minTokenLength } from "./http/bearer-auth.ts";

/** The gateway's environment variables. */
export const gatewayEnv = z.object({
  ...commonEnv,
  ...mongoEnv,
  /** TCP port of the REST API. @default 8080 */
  GATEWAY_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  /** Address the REST API listens on. @default 127.0.0.1 */
  GATEWAY_HOST: z.string().min(1).default("127.0.0.1"),
  /** Largest `POST /v1/jobs` body, in bytes. @default 262144 */
  MAX_SUBMISSION_BYTES: envInt(1, defaultMaxSubmissionBytes),
  /** Largest `POST /v1/jobs/bulk` body, in bytes (1,000 jobs at most). @default 1048576 */
  MAX_BULK_BODY_BYTES: envInt(1, 1024 * 1024),
  /** How long a submission waits for JetStream's PubAck, in milliseconds. @default 2000 */
  PUBLISH_TIMEOUT_MS: envMs(1, 2000),
  /**
   * Whether `POST /v1/jobs` submissions without id or key that arrive together are stored together
   * as bulk submissions; `false` while dispatchers older than this gateway still run. @default true
   */
  GATEWAY_GATHER_SUBMISSIONS: z.stringbool().default(true),
  /**
   * Whether a request's W3C `traceparent` is continued (its caller's trace and sampling decision)
   * or ignored (every request starts a trace of its own): `false` where untrusted clients reach
   * the gateway and should not choose how their jobs are traced. @default true
   */
  GATEWAY_CONTINUE_TRACES: z.stringbool().default(true),
  /**
   * Bearer tokens the REST API accepts, separated by commas: when set, every request but the
   * probes and `/openapi.json` needs `Authorization: Bearer <one of them>`. Several at once let a
   * token be rotated without downtime. @default none (no authentication)
   */
  GATEWAY_API_TOKENS: z
    .string()
    .optional()
    .transform((value) => (value ?? "").trim())
    // Unset and empty alike mean no authentication (compose passes an unset variable as empty);
    // anything else must name tokens, so that a typo (`,`) cannot leave the API open unseen.
    .transform((value) => (value === "" ? [] : value.split(",").map((token) => token.trim())))
    .pipe(
      z.array(
        z
          .string()
          .min(minTokenLength, `each token needs at least ${String(minTokenLength)} characters`)
          // RFC 6750's token68: what may follow `Bearer ` as it is.
          .regex(
            /^[A-Za-z0-9._~+/-]+=*$/,
            "a token is made of letters, digits and - . _ ~ + / (then = padding), without spaces",
          ),
      ),
    ),
});
export type GatewayConfig = z.output<typeof gatewayEnv>;

/** Reads the gateway's configuration; throws a ConfigError naming every bad variable. */
export function loadConfig(env?: Env): GatewayConfig {
  return parseEnv(gatewayEnv, env);
}
