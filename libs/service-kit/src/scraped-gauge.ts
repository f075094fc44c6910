import { Gauge } from "prom-client";
import type { Registry } from "prom-client";

import type { Logger } from "./logger.ts";
import { readForScrape } from "./metrics.ts";

/** One series of a {@link registerScrapedGauge} gauge. */
export interface GaugeSample<L extends string> {
  labels: Record<L, string>;
  value: number;
}

/** What {@link registerScrapedGauge} needs besides the registry and a logger. */
export interface ScrapedGaugeOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  /** Reads the gauge's series, at every scrape. */
  read: () => Promise<readonly GaugeSample<L>[]>;
  /** What could not be read, for the warning logged when `read` fails or does not answer. */
  what: string;
}

/**
 * A gauge whose series are read anew at every scrape (from nats-server: what lives there, not in
 * this process). They replace the last ones only once all are read, so a scrape running
 * meanwhile sees a complete set; when `read` fails or does not answer in time
 * ({@link readForScrape}), the gauge is left out of the scrape and the rest is still served.
 */
export function registerScrapedGauge<L extends string>(
  registry: Registry,
  logger: Logger,
  options: ScrapedGaugeOptions<L>,
): void {
  const { name, help, labelNames, read, what } = options;
  new Gauge<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      try {
        const samples = await readForScrape(read);
        this.reset();
        for (const { labels, value } of samples) this.set(labels, value);
      } catch (err) {
        this.reset();
        logger.warn({ err }, `could not read ${what} for metrics`);
      }
    },
  });
}
