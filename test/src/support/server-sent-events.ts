/** One server-sent event: its name (`message` when unnamed) and its data. */
export interface ServerSentEvent {
  name: string;
  data: string;
}

/**
 * The events of a `text/event-stream` response as they arrive (comments and `retry:` apart),
 * ending when the response ends.
 */
export async function* serverSentEvents(response: Response): AsyncGenerator<ServerSentEvent> {
  if (response.body === null) return;
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let end = buffered.indexOf("\n\n");
    while (end >= 0) {
      const event = parseEvent(buffered.slice(0, end));
      buffered = buffered.slice(end + 2);
      if (event !== undefined) yield event;
      end = buffered.indexOf("\n\n");
    }
  }
}

function parseEvent(block: string): ServerSentEvent | undefined {
  let name = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event: ")) name = line.slice("event: ".length);
    else if (line.startsWith("data: ")) data.push(line.slice("data: ".length));
  }
  return data.length === 0 ? undefined : { name, data: data.join("\n") };
}

/** The next event of `events`, or undefined when the stream ended; fails after `timeoutMs`. */
export async function nextEvent(
  events: AsyncGenerator<ServerSentEvent>,
  timeoutMs = 10_000,
): Promise<ServerSentEvent | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no event and no end of the stream within ${String(timeoutMs)} ms`));
    }, timeoutMs);
  });
  try {
    const next = await Promise.race([events.next(), late]);
    return next.done === true ? undefined : next.value;
  } finally {
    clearTimeout(timer);
  }
}
