import type { DocumentShape } from "./document-shape.ts";
import { ProfileScope } from "./collection-profile.ts";
import type { CollectionProfile } from "./collection-profile.ts";
import { KeyTally, groupKeySets } from "./key-sets.ts";
import type { KeySet } from "./key-sets.ts";
import { SimilarityIndex, UnionFind } from "./similarity-index.ts";

/**
 * A field is characteristic of a peer group when more than this share of the batch's documents
 * having it are in the group: `price` for product rows, unlike an `id` that every kind has.
 */
export const ownFieldShare = 0.75;

/**
 * A peer group counts as a kind of document when at least {@link minCoreFields} fields are
 * present in at least this share of its documents. Sparse documents with keys drawn at random
 * meet some with a few of the same keys by chance, but then few fields are in nearly all of them.
 */
export const coreShare = 0.9;
export const minCoreFields = 2;

/**
 * Key-set comparisons per batch: up to 1000 distinct key sets are all compared with each other.
 * With more (typically sparse documents with random keys), only the most frequent ones are, as
 * many as this allows (100 of 10000), and every other key set joins the peers of the one it is
 * most similar to; a key set like none of them is judged against the whole batch.
 */
export const maxShapeComparisons = 1_000_000;

/** A document and the documents it is judged against. */
export interface ShapeWithPeers {
  shape: DocumentShape;
  /** Its peer group, or the whole batch when it has none that counts. */
  peers: CollectionProfile;
  /** The whole batch. */
  batch: CollectionProfile;
}

/** The profile of every object document of a batch. */
export function profileCollection(shapes: readonly DocumentShape[]): CollectionProfile {
  const { keyNames, keySets } = groupKeySets(shapes);
  return KeyTally.of(keyNames.length, keySets).profile(keyNames);
}

/**
 * Pairs each document with its peers: the object documents whose key sets are similar to its own
 * (see `peerSimilarity`), directly or through other key sets, itself included. A document is
 * judged against the whole batch instead when it is not an object with fields, has no peers, or
 * its peers are the whole batch or not a kind of document (see {@link coreShare}).
 */
export function profilePeers(shapes: readonly DocumentShape[]): ShapeWithPeers[] {
  const { keyNames, keySets, keySetOfShape } = groupKeySets(shapes);
  const all = KeyTally.of(keyNames.length, keySets);
  const batch = all.profile(keyNames);
  const tally = new KeyTally(keyNames.length);
  const profiles = new Map<KeySet, CollectionProfile>();
  for (const members of formPeerGroups(keySets.filter((k) => k.ids.length > 0))) {
    tally.clear();
    for (const member of members) tally.add(member);
    const profile = peerProfile(tally, all, keyNames, members.length) ?? batch;
    for (const member of members) profiles.set(member, profile);
  }
  return shapes.map((shape, index) => {
    const keySet = keySetOfShape[index];
    return { shape, peers: (keySet && profiles.get(keySet)) ?? batch, batch };
  });
}

/** The profile of a peer group, `undefined` when it does not count as a kind of document. */
function peerProfile(
  peers: KeyTally,
  all: KeyTally,
  keyNames: readonly string[],
  keySetCount: number,
): CollectionProfile | undefined {
  if (peers.documents <= 1 || peers.documents >= all.documents) return undefined;
  const ids = peers.keyIds();
  const core = ids.filter((id) => peers.presence(id) >= coreShare * peers.documents);
  if (core.length < minCoreFields) return undefined;
  const own = ids.filter((id) => peers.presence(id) > ownFieldShare * all.presence(id));
  const scope = keySetCount > 1 ? ProfileScope.SimilarShapes : ProfileScope.Shape;
  return peers.profile(keyNames, scope, new Set(own.map((id) => keyNames[id] ?? "")));
}

/**
 * Peer groups: key sets connected through similar ones. The most frequent key sets are compared
 * with each other; the rest join the group of the one they are most similar to, if any.
 */
function formPeerGroups(keySets: readonly KeySet[]): KeySet[][] {
  // A stable sort: equally frequent key sets keep the order in which they first appear.
  const sorted = [...keySets].sort((a, b) => b.documents - a.documents);
  const comparedCount =
    sorted.length ** 2 <= maxShapeComparisons
      ? sorted.length
      : Math.floor(maxShapeComparisons / sorted.length);
  const compared = sorted.slice(0, comparedCount);
  const index = new SimilarityIndex(compared);
  const components = new UnionFind(compared.length);
  for (const [i, keySet] of compared.entries()) {
    for (const { index: j } of index.similar(keySet)) if (j < i) components.union(i, j);
  }

  const groups = new Map<number, KeySet[]>();
  const join = (component: number, keySet: KeySet) => {
    const members = groups.get(component) ?? [];
    members.push(keySet);
    groups.set(component, members);
  };
  for (const [i, keySet] of compared.entries()) join(components.find(i), keySet);
  for (const keySet of sorted.slice(comparedCount)) {
    let best: { index: number; similarity: number } | undefined;
    for (const found of index.similar(keySet)) {
      if (found.similarity > (best?.similarity ?? 0)) best = found;
    }
    if (best !== undefined) join(components.find(best.index), keySet);
  }
  return [...groups.values()];
}
