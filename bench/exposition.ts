/** Counting what a /metrics page holds, for the scrape and cardinality benchmarks. */
import { metricNames } from "../service/metrics-contract";
import { parseExposition, type Sample } from "../test-support/service";

/** Sample names of the request metrics: the series an attacker could try to multiply. */
const requestSampleNames: ReadonlySet<string> = new Set([
  metricNames.requestsTotal,
  metricNames.requestsInFlight,
  ...["bucket", "sum", "count"].map((suffix) => `${metricNames.requestDurationSeconds}_${suffix}`),
]);

export interface SeriesCount {
  /** Every sample line: every series Prometheus stores from one scrape. */
  readonly all: number;
  /** Sample lines of the request counter, duration histogram and in-flight gauge. */
  readonly request: number;
}

export function countSeries(samples: readonly Sample[]): SeriesCount {
  return {
    all: samples.length,
    request: samples.filter((sample) => requestSampleNames.has(sample.name)).length,
  };
}

export function countSeriesIn(text: string): SeriesCount {
  return countSeries(parseExposition(text));
}
