import { spawnSync } from "node:child_process";
import { connect } from "node:net";

import { findBinary, MissingBinaryError, spawnServer, waitUntilReady } from "@conveyor/testing";
import type { ServerProcess } from "@conveyor/testing";

import { RedisMissingError } from "../errors.ts";
import { onFreePort } from "./free-port-retry.ts";

/** A Redis the bench started: host and port for BullMQ's connection. */
export interface RedisServer {
  host: string;
  port: number;
  process: ServerProcess;
}

const installCommand = "apt-get update && apt-get install -y redis-server";

/**
 * Finds `redis-server`; when it is missing and this process runs as root with apt-get, installs
 * Debian's package (`apt-get update && apt-get install -y redis-server`), otherwise throws a
 * {@link RedisMissingError} with that command.
 */
export function ensureRedisBinary(log: (line: string) => void): string {
  try {
    return findBinary("redis-server");
  } catch (err) {
    if (!(err instanceof MissingBinaryError)) throw err;
    const canInstall = process.getuid?.() === 0 && spawnSync("which", ["apt-get"]).status === 0;
    if (!canInstall) throw new RedisMissingError(installCommand, { cause: err });
    log(`redis-server is missing; installing Debian's package: ${installCommand}`);
    const result = spawnSync("sh", ["-c", installCommand], { stdio: "inherit" });
    if (result.status !== 0) throw new RedisMissingError(installCommand, { cause: err });
    return findBinary("redis-server");
  }
}

/** True when the Redis at `port` answers PING. */
export function pingRedis(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("no answer to PING"));
    }, timeoutMs);
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(data.toString("utf8").startsWith("+PONG"));
    });
  });
}

/**
 * Starts redis-server on a free loopback port with its files in `dir`, configured as BullMQ's
 * "Going to production" guide recommends: AOF persistence with a flush every second and
 * `maxmemory-policy noeviction`.
 */
export async function startRedis(binary: string, dir: string): Promise<RedisServer> {
  return onFreePort(async (port) => {
    const proc = spawnServer("redis-server", binary, [
      "--bind",
      "127.0.0.1",
      "--port",
      String(port),
      "--dir",
      dir,
      "--appendonly",
      "yes",
      "--appendfsync",
      "everysec",
      "--maxmemory-policy",
      "noeviction",
      "--daemonize",
      "no",
    ]);
    await waitUntilReady(proc, () => pingRedis(port), 30_000);
    return { host: "127.0.0.1", port, process: proc };
  });
}
