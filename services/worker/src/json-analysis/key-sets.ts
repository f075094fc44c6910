import { JsonType } from "./document-shape.ts";
import type { DocumentShape } from "./document-shape.ts";
import { ProfileScope } from "./collection-profile.ts";
import type { CollectionProfile } from "./collection-profile.ts";

/** The object documents of a batch that have exactly the same top-level keys. */
export interface KeySet {
  /** Key ids (indexes into {@link BatchKeySets.keyNames}), ascending. */
  ids: Int32Array;
  documents: number;
  /** Per key (same order as `ids`), the column types seen, one bit each. */
  typeMasks: Uint8Array;
}

export interface BatchKeySets {
  /** Every top-level key of the batch, in order of first appearance. */
  keyNames: string[];
  /** In order of first appearance; object documents without keys share a set without ids. */
  keySets: KeySet[];
  /** The key set of each document, `undefined` for documents that are not objects. */
  keySetOfShape: (KeySet | undefined)[];
}

/** Column types as bits, in alphabetical order so that decoding lists them sorted. */
const columnTypes = ["array", "boolean", "number", "object", "string"] as const;

function typeBit(type: JsonType): number {
  if (type === JsonType.Null) return 0;
  // Whole and fractional numbers share a numeric column.
  const column = type === JsonType.Integer ? JsonType.Number : type;
  return 1 << columnTypes.indexOf(column);
}

/** Groups object documents by key set; keys become small integers, cheap to count and compare. */
export function groupKeySets(shapes: readonly DocumentShape[]): BatchKeySets {
  const keyIds = new Map<string, number>();
  const bySignature = new Map<string, KeySet>();
  const keySetOfShape = shapes.map((shape) => {
    if (shape.kind !== JsonType.Object) return undefined;
    const entries = [...shape.topLevel].map(([key, type]) => {
      let id = keyIds.get(key);
      if (id === undefined) {
        id = keyIds.size;
        keyIds.set(key, id);
      }
      return { id, bit: typeBit(type) };
    });
    entries.sort((a, b) => a.id - b.id);
    const signature = entries.map((e) => e.id).join(",");
    let keySet = bySignature.get(signature);
    if (keySet === undefined) {
      keySet = {
        ids: Int32Array.from(entries, (e) => e.id),
        documents: 0,
        typeMasks: new Uint8Array(entries.length),
      };
      bySignature.set(signature, keySet);
    }
    keySet.documents += 1;
    for (const [index, { bit }] of entries.entries()) {
      keySet.typeMasks[index] = (keySet.typeMasks[index] ?? 0) | bit;
    }
    return keySet;
  });
  return { keyNames: [...keyIds.keys()], keySets: [...bySignature.values()], keySetOfShape };
}

/** Presence and types of keys summed over key sets; cleared and reused from group to group. */
export class KeyTally {
  #documents = 0;
  readonly #presence: Float64Array;
  readonly #masks: Uint8Array;
  /** Ids of the keys present, to clear and list them without scanning every key. */
  readonly #present: number[] = [];

  constructor(keyCount: number) {
    this.#presence = new Float64Array(keyCount);
    this.#masks = new Uint8Array(keyCount);
  }

  static of(keyCount: number, keySets: readonly KeySet[]): KeyTally {
    const tally = new KeyTally(keyCount);
    for (const keySet of keySets) tally.add(keySet);
    return tally;
  }

  get documents(): number {
    return this.#documents;
  }

  add(keySet: KeySet): void {
    this.#documents += keySet.documents;
    for (const [index, id] of keySet.ids.entries()) {
      const before = this.#presence[id] ?? 0;
      if (before === 0) this.#present.push(id);
      this.#presence[id] = before + keySet.documents;
      this.#masks[id] = (this.#masks[id] ?? 0) | (keySet.typeMasks[index] ?? 0);
    }
  }

  /** How many of the documents have the key. */
  presence(id: number): number {
    return this.#presence[id] ?? 0;
  }

  /** Ids of the keys that some of the documents have. */
  keyIds(): number[] {
    return [...this.#present];
  }

  clear(): void {
    for (const id of this.#present) {
      this.#presence[id] = 0;
      this.#masks[id] = 0;
    }
    this.#present.length = 0;
    this.#documents = 0;
  }

  profile(
    keyNames: readonly string[],
    scope: ProfileScope = ProfileScope.Batch,
    ownFields?: ReadonlySet<string>,
  ): CollectionProfile {
    const commonFields = new Set<string>();
    const mixedTypes = new Map<string, readonly string[]>();
    // Ascending ids list the fields in order of first appearance in the batch.
    for (const id of this.keyIds().sort((a, b) => a - b)) {
      const key = keyNames[id] ?? "";
      if (this.presence(id) > this.#documents / 2) commonFields.add(key);
      const mask = this.#masks[id] ?? 0;
      const types = columnTypes.filter((_, bit) => (mask & (1 << bit)) !== 0);
      if (types.length > 1) mixedTypes.set(key, types);
    }
    const profile: CollectionProfile = {
      objectDocuments: this.#documents,
      commonFields,
      mixedTypes,
      scope,
    };
    if (ownFields !== undefined) profile.ownFields = ownFields;
    return profile;
  }
}
