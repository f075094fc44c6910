import { ProfileScope } from "./collection-profile.ts";
import type { CollectionProfile } from "./collection-profile.ts";

/** Names up to `shown` items; "and 1 more" would take as much room as the item itself. */
export function list(items: readonly string[], shown = 3): string {
  if (items.length <= shown + 1) return items.join(", ");
  return `${items.slice(0, shown).join(", ")} and ${items.length - shown} more`;
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** The documents of a profile as reasons name them: "the 34 documents of its shape". */
export function documentsOf(profile: CollectionProfile): string {
  switch (profile.scope ?? ProfileScope.Batch) {
    case ProfileScope.Batch:
      return "the documents";
    case ProfileScope.Shape:
      return `the ${plural(profile.objectDocuments, "document")} of its shape`;
    case ProfileScope.SimilarShapes:
      return `the ${plural(profile.objectDocuments, "document")} of similar shape`;
  }
}
