/** Turns a stream of text chunks into whole lines; a trailing partial line waits for its end. */
export interface LineSplitter {
  /** Feeds a chunk; calls `onLine` for every line it completes (without the newline). */
  write(chunk: string): void;
  /** Emits a pending partial line, e.g. when the process exits. */
  flush(): void;
}

/** Longest partial line kept before it is emitted anyway, in characters. */
const maxPending = 64 * 1024;

export function createLineSplitter(onLine: (line: string) => void): LineSplitter {
  let pending = "";
  return {
    write(chunk) {
      pending += chunk;
      let newline = pending.indexOf("\n");
      while (newline !== -1) {
        onLine(pending.slice(0, newline).replace(/\r$/, ""));
        pending = pending.slice(newline + 1);
        newline = pending.indexOf("\n");
      }
      if (pending.length > maxPending) {
        onLine(pending);
        pending = "";
      }
    },
    flush() {
      if (pending !== "") onLine(pending);
      pending = "";
    },
  };
}
