import { JsonType, describeDocument } from "./document-shape.ts";
import type { DocumentShape } from "./document-shape.ts";
import { ProfileScope } from "./collection-profile.ts";
import type { CollectionProfile } from "./collection-profile.ts";
import { fieldReasons } from "./field-reasons.ts";
import { profilePeers } from "./peer-groups.ts";
import { documentsOf, list, plural } from "./wording.ts";

export { profileCollection } from "./peer-groups.ts";
export type { CollectionProfile } from "./collection-profile.ts";

/** Where a document is best stored: a relational table row, or a JSONB column. */
export const Storage = { Sql: "sql", Jsonb: "jsonb" } as const;
export type Storage = (typeof Storage)[keyof typeof Storage];

export interface StorageDecision {
  storage: Storage;
  /** Why, in words. */
  reason: string;
}

/** The analysis of one document, as the `json.analyze` result lists it. */
export interface DocumentAnalysis extends StorageDecision {
  index: number;
  fields: Record<string, string>;
  depth: number;
}

export interface AnalysisResult {
  documents: DocumentAnalysis[];
  summary: { sql: number; jsonb: number };
}

/**
 * `sql` for a flat object of scalar fields that matches the fields and types of the documents of
 * `profile` (its peers, or the whole batch); `jsonb` for anything nested (objects, arrays), not an
 * object, sparse or heterogeneous.
 */
export function decideStorage(shape: DocumentShape, profile: CollectionProfile): StorageDecision {
  const reasons = jsonbReasons(shape, profile);
  if (reasons.length > 0) return { storage: Storage.Jsonb, reason: reasons.join("; ") };
  const keys = [...shape.topLevel.keys()];
  return {
    storage: Storage.Sql,
    reason: `flat row of ${plural(keys.length, "scalar field")} (${list(keys)})${consistentWith(profile)}`,
  };
}

function consistentWith(profile: CollectionProfile): string {
  if ((profile.scope ?? ProfileScope.Batch) !== ProfileScope.Batch) {
    return `, consistent with ${documentsOf(profile)}`;
  }
  return profile.objectDocuments > 1 ? ", consistent with the other documents" : "";
}

function jsonbReasons(shape: DocumentShape, profile: CollectionProfile): string[] {
  if (shape.kind !== JsonType.Object) {
    return [
      `the document is ${shape.kind === JsonType.Array ? "an array" : `a ${shape.kind}`}, not an object with fields`,
    ];
  }
  if (shape.topLevel.size === 0) return ["the object has no fields"];
  const reasons: string[] = [];
  if (shape.objectArrays.length > 0)
    reasons.push(`arrays of objects at ${list(shape.objectArrays)}`);
  if (shape.arrayArrays.length > 0) reasons.push(`arrays of arrays at ${list(shape.arrayArrays)}`);
  if (shape.nestedObjects.length > 0) {
    reasons.push(`nested objects at ${list(shape.nestedObjects)}`);
  }
  if (shape.scalarArrays.length > 0) reasons.push(`array values at ${list(shape.scalarArrays)}`);
  reasons.push(...fieldReasons([...shape.topLevel.keys()], profile));
  return reasons;
}

/**
 * Analyses documents already described, in order. Each is judged against its peers; when they do
 * not make it a row, against the whole batch, which still takes in a table whose rows vary too
 * much to form one peer group (many optional fields).
 */
export function analyzeShapes(shapes: readonly DocumentShape[]): AnalysisResult {
  const documents = profilePeers(shapes).map(({ shape, peers, batch }, index) => ({
    index,
    ...decideAmong(shape, peers, batch),
    fields: shape.fields,
    depth: shape.depth,
  }));
  const sql = documents.filter((d) => d.storage === Storage.Sql).length;
  return { documents, summary: { sql, jsonb: documents.length - sql } };
}

function decideAmong(
  shape: DocumentShape,
  peers: CollectionProfile,
  batch: CollectionProfile,
): StorageDecision {
  const amongPeers = decideStorage(shape, peers);
  if (amongPeers.storage === Storage.Sql || peers === batch) return amongPeers;
  const inBatch = decideStorage(shape, batch);
  // The peers' reasons are the more specific ones.
  return inBatch.storage === Storage.Sql ? inBatch : amongPeers;
}

/** Describes and analyses documents in one go. */
export function analyzeDocuments(documents: readonly unknown[]): AnalysisResult {
  return analyzeShapes(documents.map(describeDocument));
}
