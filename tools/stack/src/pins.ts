/**
 * The one place the server versions Conveyor develops and tests against are pinned.
 * `npm run provision` builds exactly these into `<workspace>/.tools/bin`.
 */
export const Pins = {
  /** nats-server: 2.14.3 or later carries the 2026 authorization fixes; 2.14 adds cron schedules. */
  natsServer: {
    binary: "nats-server",
    module: "github.com/nats-io/nats-server/v2",
    version: "v2.14.9",
  },
  /** The `nats` CLI, for inspecting streams and consumers by hand. Latest v0.x release. */
  natsCli: {
    binary: "nats",
    module: "github.com/nats-io/natscli/nats",
    version: "v0.5.1",
  },
  /**
   * FerretDB on SQLite, the MongoDB-compatible server for local runs and tests. Built from
   * `deploy/ferretdb`, a small module embedding the library; its go.mod must require this version.
   */
  ferretdb: {
    binary: "ferretdb",
    module: "github.com/FerretDB/FerretDB",
    version: "v1.24.2",
    sourceDir: "deploy/ferretdb",
  },
  /**
   * vegeta, the constant-rate HTTP load generator of the bench's REST workload at an offered rate
   * (autocannon's rate limit sends each connection's share of a second back to back). Built only
   * by `npm run bench`.
   */
  vegeta: {
    binary: "vegeta",
    module: "github.com/tsenart/vegeta/v12",
    version: "v12.13.0",
  },
} as const;
