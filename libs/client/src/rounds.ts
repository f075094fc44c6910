/** How much one round of sends may hold: this many items and bytes, whichever comes first. */
export interface RoundBounds {
  items: number;
  bytes: number;
}

/**
 * Bytes of messages a `submitMany` or `submitBulk` round holds in flight at most. A round is
 * buffered whole and every confirmation's deadline starts when it is queued, so bounding rounds by
 * count alone would hold 1,000 submissions of 256 KiB (256 MB) at once, and their last ones would
 * time out behind the first on a slow link.
 */
export const maxRoundBytes = 8 * 1024 * 1024;

/**
 * Cuts `items` into consecutive rounds within `bounds`, in their order. An item larger than the
 * byte bound is a round of its own. Lazy: an item is taken (and sized) only when the round before
 * it has been handed out, so work done to build the items is done round by round.
 */
export function* inRounds<T>(
  items: Iterable<T>,
  sizeOf: (item: T) => number,
  bounds: RoundBounds,
): Generator<T[]> {
  let round: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (round.length > 0 && (round.length >= bounds.items || bytes + size > bounds.bytes)) {
      yield round;
      round = [];
      bytes = 0;
    }
    round.push(item);
    bytes += size;
  }
  if (round.length > 0) yield round;
}
