/**
 * `value`, set by a suite's `beforeAll`; read earlier (while tests are being declared) it throws,
 * naming `what`, instead of handing out `undefined`.
 */
export function started<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is read before the suite started`);
  return value;
}
