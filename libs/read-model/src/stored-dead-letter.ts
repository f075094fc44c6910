import type { Db } from "mongodb";

import { deadLettersCollection } from "./collections.ts";
import { isOpenDeadLetter } from "./dead-letter-document.ts";
import type { DeadLetterDocument } from "./dead-letter-document.ts";
import { findByIds } from "./find-by-ids.ts";
import { fromStoredJson, toStoredJson } from "./stored-json.ts";

/** The form in which a dead-letter document is stored: the work item's payload encoded ({@link toStoredJson}). */
export function toStoredDeadLetter(doc: DeadLetterDocument): DeadLetterDocument {
  return mapPayload(doc, toStoredJson);
}

/** The dead-letter document of a stored one. Every query of this lib returns this form. */
export function fromStoredDeadLetter(doc: DeadLetterDocument): DeadLetterDocument {
  return mapPayload(doc, fromStoredJson);
}

/** The dead-letter documents with the given ids (those that exist). */
export async function findDeadLettersByIds(
  db: Db,
  ids: readonly string[],
): Promise<DeadLetterDocument[]> {
  const docs = await findByIds(deadLettersCollection(db), ids);
  return docs.map(fromStoredDeadLetter);
}

function mapPayload(doc: DeadLetterDocument, map: typeof toStoredJson): DeadLetterDocument {
  if (!isOpenDeadLetter(doc) || doc.workItem === undefined) return doc;
  return { ...doc, workItem: { ...doc.workItem, payload: map(doc.workItem.payload) } };
}
