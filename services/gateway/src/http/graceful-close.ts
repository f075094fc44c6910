import type { Server, ServerResponse } from "node:http";

/** Closes an HTTP server without cutting requests short; see {@link closeGracefully}. */
export interface GracefulClose {
  /**
   * Stops accepting connections and resolves once every request in flight is answered, at most
   * `graceMs` later: then the connections still open are cut.
   */
  close(graceMs: number): Promise<void>;
}

/**
 * Follows `server`'s responses so that it can be closed gracefully. `server.close()` alone ends
 * idle keep-alive connections, but one busy at that moment keeps taking new requests after its
 * answer (answered `keep-alive` too), so a client that keeps sending holds the server open until
 * the grace period ends, and then its request in flight is cut: stored perhaps, but never
 * answered. Once closing, every answer (those in flight, and any request a busy connection still
 * brings) says `Connection: close`, so each connection ends after its current answer.
 */
export function closeGracefully(server: Server): GracefulClose {
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  server.on("request", (_request, response: ServerResponse) => {
    if (closing) {
      closeAfter(response);
      return;
    }
    inFlight.add(response);
    response.once("close", () => inFlight.delete(response));
  });
  return {
    async close(graceMs) {
      closing = true;
      for (const response of inFlight) closeAfter(response);
      const closed = new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
      server.closeIdleConnections();
      const grace = setTimeout(() => {
        server.closeAllConnections();
      }, graceMs);
      try {
        await closed;
      } finally {
        clearTimeout(grace);
      }
    },
  };
}

function closeAfter(response: ServerResponse): void {
  if (!response.headersSent) response.setHeader("Connection", "close");
}
