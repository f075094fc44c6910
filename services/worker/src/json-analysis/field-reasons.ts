import { ProfileScope } from "./collection-profile.ts";
import type { CollectionProfile } from "./collection-profile.ts";
import { documentsOf, list, plural } from "./wording.ts";

/** A field counts as heterogeneous or missing beyond this share of the fields. */
const tolerance = 0.5;

/**
 * Why a document's top-level fields (`keys`) would not make a row among the documents of
 * `profile`: types that vary, fields rare among them, fields shared only by coincidence, or most
 * of their common fields missing. Empty when they would.
 */
export function fieldReasons(keys: readonly string[], profile: CollectionProfile): string[] {
  const reasons: string[] = [];
  const documents = documentsOf(profile);
  const mixed = keys.filter((k) => profile.mixedTypes.has(k));
  if (mixed.length > 0) {
    const described = mixed.map((k) => `${k} (${(profile.mixedTypes.get(k) ?? []).join(", ")})`);
    reasons.push(`fields whose type varies across ${documents}: ${list(described)}`);
  }
  const rare = keys.filter((k) => !profile.commonFields.has(k));
  if (rare.length / keys.length > tolerance) {
    reasons.push(
      `heterogeneous keys: ${rare.length} of its ${plural(keys.length, "field")} (${list(rare)}) appear in at most half of ${documents}`,
    );
  } else {
    const coincidence = coincidentalPeers(keys, profile);
    if (coincidence !== undefined) reasons.push(coincidence);
  }
  const missing = [...profile.commonFields].filter((k) => !keys.includes(k));
  if (profile.commonFields.size > 0 && missing.length / profile.commonFields.size > tolerance) {
    const present = profile.commonFields.size - missing.length;
    const common =
      (profile.scope ?? ProfileScope.Batch) === ProfileScope.Batch
        ? plural(profile.commonFields.size, "common field")
        : `${plural(profile.commonFields.size, "field")} common to ${documents}`;
    reasons.push(`sparse: has ${present} of the ${common} (lacks ${list(missing)})`);
  }
  return reasons;
}

/**
 * Peers can be a coincidence: sparse documents with keys drawn from one pool meet a few that share
 * most of their keys. Then the fields they share also appear in many documents outside the group,
 * none is characteristic of it, and no table would hold them together.
 */
function coincidentalPeers(
  keys: readonly string[],
  profile: CollectionProfile,
): string | undefined {
  const own = profile.ownFields;
  if (own === undefined) return undefined;
  const shared = keys.filter((k) => profile.commonFields.has(k));
  if (shared.length === 0 || shared.some((k) => own.has(k))) return undefined;
  const which =
    shared.length === keys.length
      ? `each of its ${plural(keys.length, "field")} (${list(shared)})`
      : `each of its fields in common with ${documentsOf(profile)} (${list(shared)})`;
  return `heterogeneous keys: ${which} also appears in many documents of other shapes`;
}
