import type { JobDocument } from "@conveyor/read-model";
import { LRUCache } from "lru-cache";
import { BSON } from "mongodb";

/** Reading and writing a {@link JobCache}. */
export type JobCacheAccess = Pick<JobCache, "get" | "set" | "delete">;

/** Bounds of the {@link JobCache}. */
export interface JobCacheOptions {
  /** Most documents kept; 0 turns the cache off. */
  maxDocuments: number;
  /** Most bytes kept, counted as the documents' BSON size; a document over 1/16 of it is not kept. */
  maxBytes: number;
}

/**
 * The job documents the projector wrote or read most recently, exactly as they are stored
 * (unescaped), so that folding the next events of a job needs no read. Entries are set only after
 * MongoDB confirmed the write (or returned the document), and the projector is the only writer of
 * `jobs`, so a cached document is the stored one, or one the retention sweep has deleted since
 * (a write of its next events, an upsert, puts it back whole). A miss only costs a read: after a
 * restart the cache starts empty and fills from the database.
 */
export class JobCache {
  readonly #lru: LRUCache<string, JobDocument> | undefined;

  constructor(options: JobCacheOptions) {
    this.#lru =
      options.maxDocuments > 0 && options.maxBytes > 0
        ? new LRUCache<string, JobDocument>({
            max: options.maxDocuments,
            maxSize: options.maxBytes,
            // One large document must not push out thousands of small ones.
            maxEntrySize: Math.max(1, Math.floor(options.maxBytes / 16)),
            sizeCalculation: (doc) => BSON.calculateObjectSize(doc),
          })
        : undefined;
  }

  /** The stored document of a job, when it is cached. */
  get(id: string): JobDocument | undefined {
    return this.#lru?.get(id);
  }

  /** Records `doc` as the stored document of its job. */
  set(doc: JobDocument): void {
    this.#lru?.set(doc._id, doc);
  }

  /** Forgets a job whose stored document is not known for sure. */
  delete(id: string): void {
    this.#lru?.delete(id);
  }

  /**
   * The cache as one store attempt sees it: once `signal` aborts (the attempt was abandoned at its
   * deadline and another took over), what it sets or deletes is ignored, so that it cannot put
   * back documents older than those stored since.
   */
  forAttempt(signal: AbortSignal): JobCacheAccess {
    return {
      get: (id) => this.get(id),
      set: (doc) => {
        if (!signal.aborted) this.set(doc);
      },
      delete: (id) => {
        if (!signal.aborted) this.delete(id);
      },
    };
  }

  /** Documents kept. */
  get size(): number {
    return this.#lru?.size ?? 0;
  }
}
