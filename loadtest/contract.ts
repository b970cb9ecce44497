/**
 * What the k6 script and the code that runs it agree on: the environment it reads, the shape of the options
 * file it opens, and how many requests one iteration makes. No imports, so that both k6 (which loads the
 * script's relative imports itself) and Node (configs/loadtest/plan.ts) can load it.
 */

/** Environment variables the script reads. */
export const loadtestEnv = {
  /** Path of the rendered options file (`renderedPaths.loadtestOptions`), as the k6 process sees it. */
  optionsFile: "OPTIONS_FILE",
  /** Base URL of the service; overrides the target written in the options file. */
  target: "TARGET",
} as const;

/**
 * Requests every iteration makes: a list of the items (now and then replaced by a slow or a failing call),
 * then create, get and delete one item. The renderer divides request rates by this to get iteration rates,
 * so the service sees the request rate the settings ask for.
 */
export const requestsPerIteration = 4;

/** Every `errorEvery`-th iteration calls /api/error instead of listing: 1 request in 200 answers 500 on purpose. */
export const errorEvery = 50;

/** Every `slowEvery`-th iteration (unless it is an error one) calls /api/slow instead of listing: about 1 request in 80. */
export const slowEvery = 20;

/**
 * The scenario, in the subset of k6's options the renderer uses. The script assigns these to k6's own `Options`
 * type, so a misspelt or mistyped option fails the type-check (arrays stay mutable because k6's types are).
 */
export interface RampingArrivalRateScenario {
  readonly executor: "ramping-arrival-rate";
  /** Iterations per `timeUnit` at the start; each stage then ramps linearly to its `target`. */
  readonly startRate: number;
  readonly timeUnit: string;
  readonly stages: { readonly duration: string; readonly target: number }[];
  readonly preAllocatedVUs: number;
  readonly maxVUs: number;
}

export interface LoadtestOptions {
  readonly scenarios: Readonly<Record<string, RampingArrivalRateScenario>>;
  readonly thresholds: Readonly<Record<string, string[]>>;
  readonly summaryTrendStats: string[];
}

/** The rendered options file. */
export interface LoadtestFile {
  /** Base URL of the service, such as `http://app:5002`. */
  readonly target: string;
  /** How long each /api/slow call asks the service to take. */
  readonly slowMs: number;
  readonly options: LoadtestOptions;
}
