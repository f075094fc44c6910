import type { AnalysisResult, DocumentAnalysis, Storage } from "./storage-decision.ts";

/**
 * Most bytes of JSON a `json.analyze` result may take. A result travels in one NATS message (the
 * `succeeded` event, at most the server's `max_payload`, 1 MiB here, with its envelope); 10,000
 * documents with their field lists take more, and a result that cannot be sent dead-letters the
 * job after all its work.
 */
export const maxResultBytes = 512 * 1024;

/** Documents that share a recommendation (and, while it fits, its reason). */
export interface DocumentGroup {
  storage: Storage;
  reason?: string;
  /** The documents' indexes in the payload, ascending. */
  documents: number[];
}

/** The analysis in fewer bytes: its documents grouped by recommendation, without field lists. */
export interface GroupedAnalysisResult {
  groups: DocumentGroup[];
  summary: AnalysisResult["summary"];
  /** Why the result is grouped, and what was left out. */
  note: string;
}

/**
 * The result as it fits in {@link maxResultBytes}: as it is when it fits; else without each
 * document's field list and depth, its documents grouped by recommendation and reason; else
 * grouped by recommendation alone, which always fits (10,000 indexes).
 */
export function withinBudget(
  result: AnalysisResult,
  budgetBytes = maxResultBytes,
): AnalysisResult | GroupedAnalysisResult {
  const fullBytes = jsonBytes(result);
  if (fullBytes <= budgetBytes) return result;
  const left = `the per-document result would take ${fullBytes} bytes, over the ${budgetBytes} a result may take`;
  const byReason: GroupedAnalysisResult = {
    groups: groupBy(result.documents, (d) => `${d.storage}\u0000${d.reason}`, true),
    summary: result.summary,
    note: `grouped by recommendation and reason, without field lists: ${left}`,
  };
  if (jsonBytes(byReason) <= budgetBytes) return byReason;
  return {
    groups: groupBy(result.documents, (d) => d.storage, false),
    summary: result.summary,
    note: `grouped by recommendation, without reasons or field lists: ${left}`,
  };
}

function groupBy(
  documents: readonly DocumentAnalysis[],
  key: (document: DocumentAnalysis) => string,
  withReason: boolean,
): DocumentGroup[] {
  const groups = new Map<string, DocumentGroup>();
  for (const document of documents) {
    const k = key(document);
    let group = groups.get(k);
    if (group === undefined) {
      group = withReason
        ? { storage: document.storage, reason: document.reason, documents: [] }
        : { storage: document.storage, documents: [] };
      groups.set(k, group);
    }
    group.documents.push(document.index);
  }
  return [...groups.values()];
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}
