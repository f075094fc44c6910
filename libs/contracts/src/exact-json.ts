/**
 * An integer in JSON text that a JavaScript number cannot hold as written (beyond 2^53, say a
 * 64-bit id): `JSON.parse` alone would read `1234567890123456789` as `1234567890123456800`, and the
 * job stored and run would differ from the one sent. {@link parseJsonExactly} leaves one of these
 * in its place, for the payload check to refuse by its path.
 */
export class InexactInteger {
  /** The integer as written in the JSON text. */
  readonly source: string;
  /** What `JSON.parse` makes of it. */
  readonly rounded: number;

  constructor(source: string, rounded: number) {
    this.source = source;
    this.rounded = rounded;
  }
}

/** A run of digits long enough to be an integer beyond 2^53 (16 digits): rare, cheap to look for. */
const longDigits = /\d{16}/;

/**
 * `JSON.parse`, except that an integer the parse would change is an {@link InexactInteger}.
 * Nearly every text is parsed as it is: one without 16 digits in a row at once, one with them
 * (in a string, or a large number that reads back as written) after a scan of its numbers. Only
 * a text that holds an integer the parse would change is parsed again with a reviver that reads
 * each number's source (Node 22+), to tell where it is.
 *
 * @throws {SyntaxError} as `JSON.parse` does.
 */
export function parseJsonExactly(text: string): unknown {
  const value = JSON.parse(text) as unknown;
  if (!longDigits.test(text) || !holdsInexactInteger(text)) return value;
  return JSON.parse(text, markInexact);
}

/**
 * Whether an integer written as `source` would be changed by reading it as a number: neither
 * written back the same (`1234567890123456800`, as `JSON.stringify` wrote it, is kept) nor held
 * exactly (`10000000000000000000000` is 1e22 exactly, though written back as `1e+22`).
 */
function isInexact(source: string, value: number): boolean {
  return String(value) !== source && BigInt(source) !== BigInt(value);
}

/** Whether a number token of the text is a long integer the parse would change. */
function isInexactToken(token: string): boolean {
  return /^-?\d{16,}$/.test(token) && isInexact(token, Number(token));
}

/**
 * Whether valid JSON text holds, outside its strings, an integer the parse would change. One pass
 * over the text: strings are skipped from quote to quote (a card number or a trace id in one is no
 * number), and each number token is looked at once.
 */
function holdsInexactInteger(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === quote) {
      i = closingQuote(text, i);
    } else if (c === minus || isDigit(c)) {
      let end = i + 1;
      while (end < text.length && isNumberPart(text.charCodeAt(end))) end++;
      if (end - i >= 16 && isInexactToken(text.slice(i, end))) return true;
      i = end - 1;
    }
  }
  return false;
}

/** The index of the quote that ends the string opened at `open` (the text is valid JSON). */
function closingQuote(text: string, open: number): number {
  for (let at = text.indexOf('"', open + 1); at !== -1; at = text.indexOf('"', at + 1)) {
    // Escaped when an odd number of backslashes comes before it.
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === backslash) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
  return text.length;
}

const quote = 0x22;
const backslash = 0x5c;
const minus = 0x2d;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Digits, `.`, `e`, `E`, `+` and `-`: what follows the first character of a JSON number. */
function isNumberPart(c: number): boolean {
  return isDigit(c) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === minus;
}

function markInexact(
  this: unknown,
  _key: string,
  value: unknown,
  context?: { source?: string },
): unknown {
  if (typeof value !== "number" || Number.isSafeInteger(value)) return value;
  const source = context?.source;
  if (source === undefined || !isInexactToken(source)) return value;
  return new InexactInteger(source, value);
}
