import type { Db } from "mongodb";

import { jobsCollection } from "./collections.ts";
import { findByIds } from "./find-by-ids.ts";
import type { JobDocument } from "./documents.ts";
import { fromStoredJson, toStoredJson } from "./stored-json.ts";

/** The form in which a job document is stored: payload and result encoded ({@link toStoredJson}). */
export function toStoredJob(doc: JobDocument): JobDocument {
  return mapJson(doc, toStoredJson);
}

/** The job document of a stored one. Every query of this lib returns this form. */
export function fromStoredJob(doc: JobDocument): JobDocument {
  return mapJson(doc, fromStoredJson);
}

/** The documents of the given jobs (those that exist). */
export async function findJobsByIds(db: Db, ids: readonly string[]): Promise<JobDocument[]> {
  const docs = await findByIds(jobsCollection(db), ids);
  return docs.map(fromStoredJob);
}

function mapJson(doc: JobDocument, map: typeof toStoredJson): JobDocument {
  if (doc.payload === undefined && doc.result === undefined) return doc;
  const mapped = { ...doc };
  if (doc.payload !== undefined) mapped.payload = map(doc.payload);
  if (doc.result !== undefined) mapped.result = map(doc.result);
  return mapped;
}
