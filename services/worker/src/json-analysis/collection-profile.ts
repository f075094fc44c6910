/** Which documents a profile describes; the reasons name them accordingly. */
export const ProfileScope = {
  /** Every object document of the batch: "the documents". */
  Batch: "batch",
  /** Documents with exactly the judged document's keys: "the 34 documents of its shape". */
  Shape: "shape",
  /** Documents whose key sets resemble the judged one's: "the 40 documents of similar shape". */
  SimilarShapes: "similar-shapes",
} as const;
export type ProfileScope = (typeof ProfileScope)[keyof typeof ProfileScope];

/** What a set of documents has in common, against which a document is judged. */
export interface CollectionProfile {
  /** Object documents described. */
  objectDocuments: number;
  /** Top-level fields present in more than half of the object documents: the would-be columns. */
  commonFields: ReadonlySet<string>;
  /** Top-level fields whose non-null values differ in type across documents, with the types. */
  mixedTypes: ReadonlyMap<string, readonly string[]>;
  /** @default ProfileScope.Batch */
  scope?: ProfileScope;
  /**
   * For a profile of peers: the fields characteristic of them, because most of the batch's
   * documents having the field are among them (see `ownFieldShare`). A document none of whose
   * common fields is characteristic resembles its peers by coincidence only.
   * `undefined` counts every field as characteristic.
   * @default undefined
   */
  ownFields?: ReadonlySet<string>;
}
