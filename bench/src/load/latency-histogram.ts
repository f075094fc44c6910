import * as hdr from "hdr-histogram-js";

/** Latencies recorded with microsecond resolution, read back as millisecond percentiles. */
export interface LatencyHistogram {
  /** Records one latency in milliseconds; negatives (clock granularity) count as 0. */
  record(ms: number): void;
  /** The latency at percentile `p` (0-100), in milliseconds; NaN when nothing was recorded. */
  percentileMs(p: number): number;
  readonly count: number;
}

/** An HdrHistogram from 1 µs to 1 hour with 3 significant digits. */
export function createLatencyHistogram(): LatencyHistogram {
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  return {
    record(ms) {
      histogram.recordValue(Math.max(0, Math.round(ms * 1000)));
    },
    percentileMs(p) {
      if (histogram.totalCount === 0) return Number.NaN;
      return histogram.getValueAtPercentile(p) / 1000;
    },
    get count() {
      return histogram.totalCount;
    },
  };
}
