import { randomBytes } from "node:crypto";

let counter = 0;

/**
 * A name no other test in this run uses: `<prefix>_<counter><random hex>`. Only letters, digits
 * and `_`, so it is valid as a MongoDB database, stream, consumer or subject token.
 */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}_${counter.toString(36)}${randomBytes(5).toString("hex")}`;
}
