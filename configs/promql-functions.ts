/**
 * The PromQL functions of the pinned Prometheus (configs/versions.ts), with the types of their arguments and
 * result, transcribed from its `promql/parser/functions.go` (Prometheus v3.16.0). Experimental functions are
 * listed so that using one is reported as such: the stack's Prometheus runs without
 * `--enable-feature=promql-experimental-functions`, and refuses them.
 */

/** PromQL's value types, named as Prometheus's error messages name them. */
export type PromqlType = "instant vector" | "range vector" | "scalar" | "string";

export interface PromqlFunction {
  /** The type of each argument; with `variadic`, the last one may repeat. */
  readonly args: readonly PromqlType[];
  /**
   * 0: exactly `args`. n > 0: the last argument is optional and may be given up to n times. -1: the last
   * argument is optional and may repeat without limit.
   */
  readonly variadic?: number;
  readonly returns: PromqlType;
  readonly experimental?: true;
}

const vector = "instant vector";
const matrix = "range vector";
const scalar = "scalar";
const string = "string";

export const promqlFunctions: Readonly<Record<string, PromqlFunction>> = {
  abs: { args: [vector], returns: vector },
  absent: { args: [vector], returns: vector },
  absent_over_time: { args: [matrix], returns: vector },
  acos: { args: [vector], returns: vector },
  acosh: { args: [vector], returns: vector },
  asin: { args: [vector], returns: vector },
  asinh: { args: [vector], returns: vector },
  atan: { args: [vector], returns: vector },
  atanh: { args: [vector], returns: vector },
  avg_over_time: { args: [matrix], returns: vector },
  ceil: { args: [vector], returns: vector },
  changes: { args: [matrix], returns: vector },
  clamp: { args: [vector, scalar, scalar], returns: vector },
  clamp_max: { args: [vector, scalar], returns: vector },
  clamp_min: { args: [vector, scalar], returns: vector },
  cos: { args: [vector], returns: vector },
  cosh: { args: [vector], returns: vector },
  count_over_time: { args: [matrix], returns: vector },
  day_of_month: { args: [vector], variadic: 1, returns: vector },
  day_of_week: { args: [vector], variadic: 1, returns: vector },
  day_of_year: { args: [vector], variadic: 1, returns: vector },
  days_in_month: { args: [vector], variadic: 1, returns: vector },
  deg: { args: [vector], returns: vector },
  delta: { args: [matrix], returns: vector },
  deriv: { args: [matrix], returns: vector },
  double_exponential_smoothing: { args: [matrix, scalar, scalar], returns: vector, experimental: true },
  end: { args: [], returns: scalar, experimental: true },
  exp: { args: [vector], returns: vector },
  first_over_time: { args: [matrix], returns: vector },
  floor: { args: [vector], returns: vector },
  histogram_avg: { args: [vector], returns: vector },
  histogram_count: { args: [vector], returns: vector },
  histogram_fraction: { args: [scalar, scalar, vector], returns: vector },
  histogram_quantile: { args: [scalar, vector], returns: vector },
  histogram_quantiles: {
    args: [vector, string, scalar, scalar],
    variadic: 9,
    returns: vector,
    experimental: true,
  },
  histogram_stddev: { args: [vector], returns: vector },
  histogram_stdvar: { args: [vector], returns: vector },
  histogram_sum: { args: [vector], returns: vector },
  hour: { args: [vector], variadic: 1, returns: vector },
  idelta: { args: [matrix], returns: vector },
  increase: { args: [matrix], returns: vector },
  info: { args: [vector, vector], variadic: 1, returns: vector, experimental: true },
  integral: { args: [matrix, scalar], variadic: 1, returns: vector, experimental: true },
  irate: { args: [matrix], returns: vector },
  label_join: { args: [vector, string, string, string], variadic: -1, returns: vector },
  label_replace: { args: [vector, string, string, string, string], returns: vector },
  last_over_time: { args: [matrix], returns: vector },
  ln: { args: [vector], returns: vector },
  log10: { args: [vector], returns: vector },
  log2: { args: [vector], returns: vector },
  mad_over_time: { args: [matrix], returns: vector, experimental: true },
  max_of: { args: [scalar, scalar], returns: scalar, experimental: true },
  max_over_time: { args: [matrix], returns: vector },
  min_of: { args: [scalar, scalar], returns: scalar, experimental: true },
  min_over_time: { args: [matrix], returns: vector },
  minute: { args: [vector], variadic: 1, returns: vector },
  month: { args: [vector], variadic: 1, returns: vector },
  pi: { args: [], returns: scalar },
  predict_linear: { args: [matrix, scalar], returns: vector },
  present_over_time: { args: [matrix], returns: vector },
  quantile_over_time: { args: [scalar, matrix], returns: vector },
  rad: { args: [vector], returns: vector },
  range: { args: [], returns: scalar, experimental: true },
  rate: { args: [matrix], returns: vector },
  resets: { args: [matrix], returns: vector },
  round: { args: [vector, scalar], variadic: 1, returns: vector },
  scalar: { args: [vector], returns: scalar },
  sgn: { args: [vector], returns: vector },
  sin: { args: [vector], returns: vector },
  sinh: { args: [vector], returns: vector },
  sort: { args: [vector], returns: vector },
  sort_by_label: { args: [vector, string], variadic: -1, returns: vector, experimental: true },
  sort_by_label_desc: { args: [vector, string], variadic: -1, returns: vector, experimental: true },
  sort_desc: { args: [vector], returns: vector },
  sqrt: { args: [vector], returns: vector },
  start: { args: [], returns: scalar, experimental: true },
  start_timestamp: { args: [vector], returns: vector, experimental: true },
  stddev_over_time: { args: [matrix], returns: vector },
  stdvar_over_time: { args: [matrix], returns: vector },
  step: { args: [], returns: scalar, experimental: true },
  sum_over_time: { args: [matrix], returns: vector },
  tan: { args: [vector], returns: vector },
  tanh: { args: [vector], returns: vector },
  time: { args: [], returns: scalar },
  timestamp: { args: [vector], returns: vector },
  ts_of_first_over_time: { args: [matrix], returns: vector, experimental: true },
  ts_of_last_over_time: { args: [matrix], returns: vector, experimental: true },
  ts_of_max_over_time: { args: [matrix], returns: vector, experimental: true },
  ts_of_min_over_time: { args: [matrix], returns: vector, experimental: true },
  vector: { args: [scalar], returns: vector },
  year: { args: [vector], variadic: 1, returns: vector },
};
