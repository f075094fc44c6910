import { describe, expect, it } from "vitest";

import { describeDocument } from "./document-shape.ts";
import { profilePeers } from "./peer-groups.ts";

const peersOf = (documents: unknown[]) => profilePeers(documents.map(describeDocument));

describe("profilePeers", () => {
  it("joins key sets that are similar through others into one peer group", () => {
    // {a, b, c, d} and {c, d, e, f} share 2 of 6 keys, but each is similar to {a, b, c, d, e}.
    const chain = [
      { a: 1, b: 1, c: 1, d: 1 },
      { a: 1, b: 1, c: 1, d: 1, e: 1 },
      { c: 1, d: 1, e: 1, f: 1 },
    ];
    const unrelated = [1, 2, 3].map((x) => ({ x, y: 1, z: 1 }));
    const profiles = peersOf([...chain, ...unrelated]);
    expect(profiles[0]!.peers).toBe(profiles[2]!.peers);
    expect(profiles[0]!.peers).toMatchObject({ objectDocuments: 3, scope: "similar-shapes" });
    expect([...profiles[0]!.peers.commonFields]).toEqual(["a", "b", "c", "d", "e"]);
    expect(profiles[3]!.peers).toMatchObject({ objectDocuments: 3, scope: "shape" });
  });

  it("names the fields characteristic of a group", () => {
    const products = [1, 2, 3].map((id) => ({ id, price: 1.5, sku: "s" }));
    const users = [1, 2, 3].map((id) => ({ id, email: "e", name: "n" }));
    const { peers } = peersOf([...products, ...users])[0]!;
    // Every kind has an id; only products have a price and a sku.
    expect([...(peers.ownFields ?? [])]).toEqual(["price", "sku"]);
  });

  it("judges against the whole batch a document without peers or in a group without a core", () => {
    const profiles = peersOf([
      { id: 1, name: "a" },
      { id: 2, name: "b" },
      { sku: "x", weight: 1 },
      { tag: "t" },
      { tag: "u", note: "n" },
      [1, 2],
    ]);
    const batch = profiles[0]!.batch;
    expect(profiles[0]!.peers).not.toBe(batch);
    // Alone with its key set.
    expect(profiles[2]!.peers).toBe(batch);
    // {tag} and {tag, note} share one field only.
    expect(profiles[3]!.peers).toBe(batch);
    expect(profiles[5]!.peers).toBe(batch);
  });

  it("uses the batch profile when the peers are the whole batch", () => {
    const profiles = peersOf([
      { id: 1, name: "a" },
      { id: 2, name: "b", nickname: "c" },
    ]);
    expect(profiles.every((p) => p.peers === p.batch)).toBe(true);
    expect(profiles[0]!.peers.scope).toBe("batch");
  });
});
