import { styleText } from "node:util";

/** Options of {@link formatLogLine} and {@link createPrefixer}. */
export interface FormatOptions {
  /** Use ANSI colours. @default true when stdout is a colour terminal (honours NO_COLOR, FORCE_COLOR) */
  color?: boolean;
}

type Style = Parameters<typeof styleText>[0];

const levelNames: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};

const levelStyles: Record<string, Style> = {
  TRACE: "gray",
  DEBUG: "gray",
  INFO: "green",
  WARN: "yellow",
  ERROR: "red",
  FATAL: ["red", "bold"],
};

/** Fields the prefix or the layout already shows. */
const hiddenFields = new Set(["level", "time", "msg", "service", "name", "pid", "hostname", "err"]);

const prefixStyles: Style[] = [
  "cyan",
  "magenta",
  "yellow",
  "blue",
  "green",
  "redBright",
  "cyanBright",
];

function paint(style: Style, text: string, color: boolean | undefined): string {
  if (color === false) return text;
  return styleText(style, text, { validateStream: color === undefined });
}

function levelName(level: unknown): string {
  if (typeof level === "number") return levelNames[level] ?? String(level);
  if (typeof level === "string") return level.toUpperCase();
  return "LOG";
}

function clockTime(time: unknown): string | undefined {
  if (typeof time !== "string" && typeof time !== "number") return undefined;
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().slice(11, 23);
}

function formatValue(value: unknown): string {
  return typeof value === "string" && !/\s/.test(value) && value !== ""
    ? value
    : JSON.stringify(value);
}

function formatError(err: unknown): string[] {
  if (typeof err !== "object" || err === null) return [`err=${formatValue(err)}`];
  const { stack, message, type } = err as { stack?: unknown; message?: unknown; type?: unknown };
  if (typeof stack === "string") return stack.split("\n");
  return [`${typeof type === "string" ? type : "Error"}: ${String(message)}`];
}

/** nats-server's text format: `[pid] 2026/01/02 15:04:05.000000 [INF] message`. */
const natsLinePattern =
  /^\[\d+\] \d{4}\/\d{2}\/\d{2} (\d{2}:\d{2}:\d{2}\.\d{3})\d* \[(\w{3})\] ?(.*)$/;
const natsLevels: Record<string, string> = {
  TRC: "TRACE",
  DBG: "DEBUG",
  INF: "INFO",
  WRN: "WARN",
  ERR: "ERROR",
  FTL: "FATAL",
};

function formatNatsLine(match: RegExpExecArray, options: FormatOptions): string {
  const [, time = "", code = "", message = ""] = match;
  const level = natsLevels[code] ?? code;
  return `${time} ${paint(levelStyles[level] ?? "white", level.padEnd(5), options.color)} ${message}`.trimEnd();
}

/**
 * Renders a JSON log record (pino's or slog's) as `HH:MM:SS.mmm LEVEL message key=value ...`, with
 * an error's stack on the following lines, and nats-server's text lines in the same layout. Any
 * other line is returned unchanged, so nothing a process prints is lost.
 */
export function formatLogLine(line: string, options: FormatOptions = {}): string {
  const nats = natsLinePattern.exec(line);
  if (nats !== null) return formatNatsLine(nats, options);
  if (!line.startsWith("{")) return line;
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return line;
  }
  if (typeof record !== "object" || record === null || Array.isArray(record)) return line;
  const fields = record as Record<string, unknown>;
  if (!("msg" in fields) && !("level" in fields)) return line;

  const level = levelName(fields.level);
  const parts = [
    clockTime(fields.time),
    paint(levelStyles[level] ?? "white", level.padEnd(5), options.color),
    typeof fields.msg === "string" ? fields.msg : undefined,
    ...Object.entries(fields)
      .filter(([key]) => !hiddenFields.has(key))
      .map(([key, value]) => paint("gray", `${key}=${formatValue(value)}`, options.color)),
  ].filter((part) => part !== undefined && part !== "");
  const lines = [parts.join(" ")];
  if (fields.err !== undefined) lines.push(...formatError(fields.err).map((l) => `    ${l}`));
  return lines.join("\n");
}

/** Prefixes lines with a coloured, padded source name: `gateway          | ...`. */
export interface Prefixer {
  /** The prefixed text for one line (each line of a multi-line text gets the prefix). */
  prefix(source: string, text: string): string;
}

/** Sources get colours in the order they first appear; names are padded to `width`. */
export function createPrefixer(width: number, options: FormatOptions = {}): Prefixer {
  const styles = new Map<string, Style>();
  return {
    prefix(source, text) {
      let style = styles.get(source);
      if (style === undefined) {
        style = prefixStyles[styles.size % prefixStyles.length] ?? "white";
        styles.set(source, style);
      }
      const label = paint(style, `${source.padEnd(width)} |`, options.color);
      return text
        .split("\n")
        .map((line) => `${label} ${line}`)
        .join("\n");
    },
  };
}
