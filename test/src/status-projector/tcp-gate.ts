import { once } from "node:events";
import { connect, createServer } from "node:net";
import type { AddressInfo, Socket } from "node:net";

/** A TCP proxy that a test can close to simulate a server that went away. */
export interface TcpGate extends AsyncDisposable {
  port: number;
  /** Drops every open connection and refuses new ones. */
  block(): void;
  unblock(): void;
  /**
   * Holds back the next data a client sends that contains `marker`, and whatever that connection
   * sends after it, as a server that received a command but has not run it yet: the held bytes
   * reach the server only on {@link HeldCommand.release}, even when the client has given up on
   * the connection by then.
   */
  holdNext(marker: string): HeldCommand;
}

/** A command {@link TcpGate.holdNext} holds back. */
export interface HeldCommand {
  /** Resolves once the command has been caught. */
  caught: Promise<void>;
  /** Lets the command through; resolves when the server has answered it. */
  release(): Promise<void>;
}

interface Hold {
  marker: string;
  caught: () => void;
  connection?: ConnectionHold;
}

interface ConnectionHold {
  chunks: Buffer[];
  release: () => Promise<void>;
}

export async function startTcpGate(targetHost: string, targetPort: number): Promise<TcpGate> {
  const open = new Set<Socket>();
  let blocked = false;
  let pendingHold: Hold | undefined;
  const server = createServer((client) => {
    if (blocked) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, targetHost);
    let held: ConnectionHold | undefined;
    /** Resolves the wait of a released command for the server's answer. */
    let answered: (() => void) | undefined;
    const close = () => {
      // A held command must still reach the server after the client gave up on it.
      if (held !== undefined) {
        client.destroy();
        return;
      }
      for (const socket of [client, upstream]) {
        socket.destroy();
        open.delete(socket);
      }
    };
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on("error", close).on("close", close);
    }
    client.on("data", (chunk: Buffer) => {
      if (held !== undefined) {
        held.chunks.push(chunk);
        return;
      }
      const hold = pendingHold;
      if (hold !== undefined && chunk.includes(hold.marker)) {
        pendingHold = undefined;
        const connection: ConnectionHold = {
          chunks: [chunk],
          release: async () => {
            const reply = Promise.withResolvers<undefined>();
            answered = () => {
              reply.resolve(undefined);
            };
            // A server gone before answering fails the wait rather than hanging it.
            upstream.once("close", () => {
              reply.reject(new Error("the server closed the connection before answering"));
            });
            held = undefined;
            for (const data of connection.chunks) upstream.write(data);
            await reply.promise;
            if (client.destroyed) close();
          },
        };
        held = connection;
        hold.connection = connection;
        hold.caught();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      answered?.();
      answered = undefined;
      if (!client.destroyed) client.write(chunk);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    block() {
      blocked = true;
      for (const socket of open) socket.destroy();
      open.clear();
    },
    unblock() {
      blocked = false;
    },
    holdNext(marker) {
      const caught = Promise.withResolvers<undefined>();
      const hold: Hold = {
        marker,
        caught: () => {
          caught.resolve(undefined);
        },
      };
      pendingHold = hold;
      return {
        caught: caught.promise.then(() => undefined),
        async release() {
          await caught.promise;
          await hold.connection?.release();
        },
      };
    },
    async [Symbol.asyncDispose]() {
      for (const socket of open) socket.destroy();
      server.close();
      await once(server, "close");
    },
  };
}
