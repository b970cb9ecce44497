/**
 * What a configured built-in alert is, as the rule file, its generated unit tests and the docs read it: the
 * types every module of configs/prometheus/ shares, so that none of them imports another for a type.
 */
import type { RuleGroup } from "../names";
import type { Endpoints } from "../runtime/endpoints";
import type { TestSeries } from "./rule-test-series";

/** How a Prometheus template prints `$value`. */
export type ValueFormat = "humanize" | "humanizePercentage" | "humanizeDuration";

/**
 * A description as data: literal text, a label of the firing series, or its value. One definition yields the
 * Go template in the rule file and the expanded text the generated unit tests expect.
 */
export type DescriptionPart = string | { readonly label: string } | { readonly value: ValueFormat };

/** What an alert's rule says, from its settings; `for` and `severity` come from the settings themselves. */
export interface AlertRuleText {
  readonly expr: string;
  readonly summary: string;
  readonly description: readonly DescriptionPart[];
}

/** A built-in alert, as configured by `settings.alerts[key]` (and, per job, the job's overrides). */
export interface BuiltInAlert extends AlertRuleText {
  readonly key: string;
  readonly name: string;
  readonly group: RuleGroup;
  readonly for: string;
  readonly severity: string;
  /** The range its rate() or increase() looks back over, for a windowed alert. */
  readonly window?: string;
  /** The job a per-job alert watches, and its instances when the settings know them. */
  readonly target?: { readonly job: string; readonly addresses?: readonly string[] };
  /** The probe of `probes` an alert on probes watches: its name and what it probes (`instance`). */
  readonly probe?: { readonly name: string; readonly target: string };
  /** The watched machine an alert on machines watches: its `host` label. */
  readonly host?: string;
  /**
   * The labels of a rule of one job's, probe's or machine's own (`job`, `probe` or `host`), which the rule
   * carries, so that no two rules of an alert have the same name and labels (promtool's lint calls that a
   * duplicate).
   */
  readonly ruleLabels?: Readonly<Record<string, string>>;
  /** The job's own threshold, recorded as a series that the rule it shares joins on `job`. */
  readonly recordedThreshold?: number;
  /** Its unit tests, with its settings bound. */
  readonly unitTests: (alert: BuiltInAlert, context: TestContext) => TestGroup[];
}

/** One expectation: at `at`, the alert fires with these labels and this value, or does not fire. */
export interface AlertCheck {
  readonly at: number;
  readonly firing?: { readonly labels: Readonly<Record<string, string>>; readonly value: number };
}

export interface TestGroup {
  readonly name: string;
  readonly alert: BuiltInAlert;
  readonly intervalMs: number;
  readonly series: readonly TestSeries[];
  readonly checks: readonly AlertCheck[];
}

export interface TestContext {
  readonly endpoints: Endpoints;
  readonly evaluationMs: number;
  readonly scrapeIntervalMs: number;
}
