/**
 * An integer in JSON text that a JavaScript number cannot hold exactly (beyond 2^53, say a 64-bit
 * id): `JSON.parse` alone would read `1234567890123456789` as `1234567890123456800`, and the job
 * stored and run would differ from the one sent. {@link parseJsonExactly} leaves one of these in
 * its place, for the payload check to refuse by its path.
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
 * `JSON.parse`, except that an integer the parse would round is an {@link InexactInteger}. Text
 * without 16 digits in a row (nearly every submission) is parsed as it is; other text is parsed
 * with a reviver that reads each number's source (Node 22+).
 *
 * @throws {SyntaxError} as `JSON.parse` does.
 */
export function parseJsonExactly(text: string): unknown {
  if (!longDigits.test(text)) return JSON.parse(text);
  return JSON.parse(text, exactInteger);
}

function exactInteger(
  this: unknown,
  _key: string,
  value: unknown,
  context?: { source?: string },
): unknown {
  if (typeof value !== "number" || Number.isSafeInteger(value)) return value;
  const source = context?.source;
  if (source === undefined || !/^-?\d+$/.test(source)) return value;
  // 2^53 and a few more integers beyond it are held exactly; only rounding is refused.
  return BigInt(source) === BigInt(value) ? value : new InexactInteger(source, value);
}
