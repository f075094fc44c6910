import { once } from "node:events";
import { connect } from "node:net";

/**
 * Publishes a message with `headerLines` as its header block, byte for byte, over the NATS
 * protocol itself: nats.js refuses to send a header name such as `bad key`, while other clients
 * (nats.go, whose headers are a plain map) send it as given. Resolves once the server has read the
 * message (its answer to the PING that follows).
 */
export async function publishRawHeaders(
  natsUrl: string,
  subject: string,
  headerLines: readonly string[],
  body: string,
): Promise<void> {
  const { hostname, port } = new URL(natsUrl);
  const socket = connect(Number(port), hostname);
  try {
    await once(socket, "connect");
    const block = `NATS/1.0\r\n${headerLines.map((line) => `${line}\r\n`).join("")}\r\n`;
    const headerBytes = Buffer.byteLength(block);
    const totalBytes = headerBytes + Buffer.byteLength(body);
    let received = "";
    const ponged = new Promise<void>((resolve, reject) => {
      socket.on("data", (chunk: Buffer) => {
        received += chunk.toString();
        if (received.includes("-ERR")) reject(new Error(`server refused: ${received}`));
        if (received.includes("PONG")) resolve();
      });
    });
    socket.write(
      `CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\n` +
        `HPUB ${subject} ${headerBytes} ${totalBytes}\r\n${block}${body}\r\nPING\r\n`,
    );
    await ponged;
  } finally {
    socket.destroy();
  }
}
