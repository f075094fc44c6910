import { createLogger } from "@conveyor/service-kit";
import type { Logger } from "@conveyor/service-kit";
import { vi } from "vitest";

type Level = "info" | "warn" | "error";

/** What a {@link recordingLogger} was told at one level with one message: each call's fields. */
type Logged = (message: string) => object[];

/**
 * A logger that records what it is told at info, warn and error level, without printing anything,
 * so that a test can check what a component logs.
 */
export function recordingLogger(name = "test"): {
  logger: Logger;
  infos: Logged;
  warnings: Logged;
  errors: Logged;
} {
  const logger = createLogger(name, "info");
  const spies = {
    info: vi.spyOn(logger, "info").mockImplementation(() => undefined),
    warn: vi.spyOn(logger, "warn").mockImplementation(() => undefined),
    error: vi.spyOn(logger, "error").mockImplementation(() => undefined),
  };
  const logged = (level: Level) => (message: string) =>
    spies[level].mock.calls
      .filter(([, msg]) => msg === message)
      .map(([fields]) => fields as object);
  return { logger, infos: logged("info"), warnings: logged("warn"), errors: logged("error") };
}
