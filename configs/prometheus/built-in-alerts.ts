/**
 * The registry of built-in alerts: one entry per alert, and the only place an alert is defined. Each entry holds
 * its settings (key, defaults and the comment Pulumi.dev.yaml shows), its rule (expression, summary and
 * description, from those settings), the scenario family of its generated unit tests, its row of the README's
 * table, and any check or warning that relates its settings to others.
 *
 * Everything else is derived from it: the `alerts` settings schema, `alertNames`, the rule groups, the unit
 * tests, the window checks and the README table; RUNBOOK.md and Pulumi.dev.yaml are checked against it. Adding
 * an alert means one entry here and a section in RUNBOOK.md.
 */
import { z } from "zod";
import { requestDurationBuckets } from "../../service/metrics-contract";
import { jobs, type RuleGroup, ruleGroups } from "../names";
import {
  alertedLatencyQuantile,
  errorRatio,
  jobSelector,
  latencyQuantile,
  requestsInWindow,
  targetUp,
} from "../promql/queries";
import { stackMetricNames } from "../promql/upstream-metrics";
import { forSetting, switchable, windowSetting } from "../settings/alert-settings";
import { monitoredJobs } from "../settings/monitored-jobs";
import type { Settings } from "../settings/schema";
import {
  counterFailureTest,
  errorRateTests,
  firstPrometheus,
  latencyTests,
  notConnectedTest,
  requestVolumeTests,
  ruleGroupLabel,
  type TestContext,
  type TestGroup,
  targetDownTest,
  testTarget,
  watchdogTest,
} from "./rule-test-scenarios";
import type { DescriptionPart } from "./rules";

/** What an alert's rule says, from its settings; `for` and `severity` come from the settings themselves. */
export interface AlertRuleText {
  readonly expr: string;
  readonly summary: string;
  readonly description: readonly DescriptionPart[];
}

/** A problem with an alert's settings: the keys under `alerts.<key>` it is about, and the message. */
export interface AlertSettingProblem {
  readonly keys: readonly string[];
  /** Starts with the key path, as every settings message does. */
  readonly message: string;
}

/**
 * One built-in alert. Its functions are methods so that an entry with its own settings type still counts as an
 * entry of any registry: each is only ever given the settings its own schema produced.
 */
export interface AlertDefinition<Shape extends z.core.$ZodLooseShape = z.core.$ZodLooseShape> {
  /** The `alertname` label. */
  readonly name: string;
  readonly group: Exclude<RuleGroup, typeof ruleGroups.custom>;
  /** One or two sentences: the settings schema's description and Pulumi.dev.yaml's comment. */
  readonly doc: string;
  /** Its keys under `alerts.<key>`, with their defaults. A `window` makes it a windowed alert. */
  readonly settings: Shape;
  /**
   * Made once per monitored job (the app, each target and service) rather than once for the stack: for every
   * job, or only for those that expose the HTTP metrics contract. A job's `alerts.<key>` overrides its keys.
   */
  readonly perJob?: "every job" | "httpContract";
  /** Its rule; `job` is the job a per-job alert watches. */
  rule(config: z.output<z.ZodObject<Shape>>, job: string): AlertRuleText;
  /** Its generated promtool unit tests: one of the scenario families of rule-test-scenarios.ts. */
  unitTests(alert: BuiltInAlert, context: TestContext, config: z.output<z.ZodObject<Shape>>): TestGroup[];
  /** Its row of the README's table: when it fires, and its default settings in a few words. */
  readonly readme: {
    readonly firesWhen: string;
    defaults(config: z.output<z.ZodObject<Shape>>): string;
  };
  /** Settings that validate on their own but can never work (checked while the alert is enabled). */
  problems?(config: z.output<z.ZodObject<Shape>>): AlertSettingProblem[];
  /** Valid but risky settings, for the caller to print (while the alert is enabled). */
  warnings?(config: z.output<z.ZodObject<Shape>>, stack: StackShape): string[];
}

/** What of the rest of the settings an alert's warnings may look at. */
export interface StackShape {
  readonly prometheusReplicas: number;
}

/** Keeps each entry's settings type, so that its rule and tests see typed settings. */
export function defineAlert<Shape extends z.core.$ZodLooseShape>(definition: AlertDefinition<Shape>) {
  return definition;
}

/** The Watchdog is not an incident: it has a severity of its own that no receiver pages on. */
export const watchdogSeverity = "none";

const up = (job: string) => `${targetUp(job)} == 0`;
const forText = (config: { readonly for: string }) => `for ${config.for}`;

export const builtInAlertRegistry = {
  highRequestVolume: defineAlert({
    name: "HighRequestVolume",
    group: ruleGroups.app,
    doc: "More than `maxRequests` requests to the app within the sliding `window`, sustained for `for`.",
    perJob: "httpContract",
    settings: {
      ...switchable("warning"),
      maxRequests: z.number().int().positive().default(500),
      window: windowSetting("1m"),
      for: forSetting("10s"),
    },
    // increase() over the window rather than the raw counter: the counter only grows, so comparing it with a
    // threshold fires forever on a long-lived process and stops after every restart.
    rule: (config, job) => ({
      expr: `${requestsInWindow(config.window, job)} > ${config.maxRequests}`,
      summary: "A service is serving more requests than its configured maximum.",
      description: [
        "Job ",
        { label: "job" },
        " served ",
        { value: "humanize" },
        ` requests in the last ${config.window}, more than the configured maximum.`,
      ],
    }),
    unitTests: requestVolumeTests,
    readme: {
      firesWhen: "more than `maxRequests` requests within the sliding `window`, for `for`",
      defaults: (config) => `${config.maxRequests} in ${config.window}, ${forText(config)}`,
    },
  }),
  instanceDown: defineAlert({
    name: "InstanceDown",
    group: ruleGroups.app,
    doc: "The app does not answer scrapes.",
    perJob: "every job",
    settings: { ...switchable("critical"), for: forSetting("15s") },
    rule: (config, job) => ({
      expr: up(job),
      summary: "A monitored service does not answer Prometheus's scrapes.",
      description: [
        { label: "instance" },
        " of job ",
        { label: "job" },
        ` has not answered a scrape for at least ${config.for} (up = `,
        { value: "humanize" },
        ").",
      ],
    }),
    unitTests: (alert, context) => {
      const { job, instance } = testTarget(alert, context);
      return [targetDownTest(alert, context, job, instance, [])];
    },
    readme: { firesWhen: "the app does not answer scrapes", defaults: forText },
  }),
  prometheusDown: defineAlert({
    name: "PrometheusDown",
    group: ruleGroups.stack,
    doc: "A Prometheus replica does not answer its peers' scrapes; needs prometheus.replicas of 2 or more.",
    settings: { ...switchable("critical"), for: forSetting("15s") },
    // Every replica scrapes every replica, so a surviving one reports the others.
    rule: (config) => ({
      expr: up(jobs.prometheus),
      summary: "A Prometheus replica does not answer its peers' scrapes.",
      description: [
        "Prometheus ",
        { label: "instance" },
        ` has not answered a scrape for at least ${config.for} (up = `,
        { value: "humanize" },
        "); the other replicas still evaluate the alerts.",
      ],
    }),
    unitTests: (alert, context) => {
      // The last replica dies; the others keep answering, and only the dead one is reported.
      const replicas = context.endpoints.prometheus;
      const dead = replicas.at(-1);
      if (dead === undefined) throw new Error("the endpoints list no Prometheus replica");
      return [targetDownTest(alert, context, jobs.prometheus, dead, replicas.slice(0, -1))];
    },
    readme: { firesWhen: "a replica does not answer its peers' scrapes", defaults: forText },
    warnings: (_config, stack) =>
      stack.prometheusReplicas === 1
        ? [
            "prometheus.replicas is 1: the PrometheusDown alert cannot fire, because a Prometheus cannot report its own death and no other replica scrapes it; use 2 or more replicas",
          ]
        : [],
  }),
  alertmanagerDown: defineAlert({
    name: "AlertmanagerDown",
    group: ruleGroups.stack,
    doc: "Alertmanager does not answer scrapes.",
    settings: { ...switchable("critical"), for: forSetting("30s") },
    rule: (config) => ({
      expr: up(jobs.alertmanager),
      summary: "Alertmanager does not answer scrapes; no notification can be sent.",
      description: [
        "Alertmanager ",
        { label: "instance" },
        ` has not answered a scrape for at least ${config.for} (up = `,
        { value: "humanize" },
        "); alerts are not delivered until it is back.",
      ],
    }),
    unitTests: (alert, context) => [
      targetDownTest(alert, context, jobs.alertmanager, context.endpoints.alertmanager, []),
    ],
    readme: { firesWhen: "Alertmanager does not answer scrapes", defaults: forText },
  }),
  highErrorRate: defineAlert({
    name: "HighErrorRate",
    group: ruleGroups.app,
    doc: "More than `maxRatio` (0 to 1) of the requests answered with a 5xx status over `window`.",
    perJob: "httpContract",
    settings: {
      ...switchable("warning"),
      maxRatio: z.number().gt(0).lt(1).default(0.05),
      window: windowSetting("1m"),
      for: forSetting("1m"),
    },
    rule: (config, job) => ({
      expr: `${errorRatio(config.window, job)} > ${config.maxRatio}`,
      summary: "A service answers too many requests with a server error.",
      description: [
        { value: "humanizePercentage" },
        " of the requests to job ",
        { label: "job" },
        ` got a 5xx status over the last ${config.window}, more than the configured maximum.`,
      ],
    }),
    unitTests: errorRateTests,
    readme: {
      firesWhen: "share of 5xx responses over `window` above `maxRatio`",
      defaults: (config) => `${config.maxRatio * 100}% over ${config.window}, ${forText(config)}`,
    },
  }),
  highLatency: defineAlert({
    name: "HighLatency",
    group: ruleGroups.app,
    doc: "95th percentile request duration above `p95Seconds` over `window`.",
    perJob: "httpContract",
    settings: {
      ...switchable("warning"),
      p95Seconds: z.number().positive().default(0.5),
      window: windowSetting("1m"),
      for: forSetting("1m"),
    },
    rule: (config, job) => ({
      expr: `${latencyQuantile(alertedLatencyQuantile, config.window, job)} > ${config.p95Seconds}`,
      summary: "A service responds slowly.",
      description: [
        `The ${alertedLatencyQuantile * 100}th percentile of request duration of job `,
        { label: "job" },
        " is ",
        { value: "humanizeDuration" },
        ` over the last ${config.window}, more than the configured maximum.`,
      ],
    }),
    unitTests: latencyTests,
    readme: {
      firesWhen: "p95 request duration over `window` above `p95Seconds`",
      defaults: (config) => `${config.p95Seconds} s over ${config.window}, ${forText(config)}`,
    },
    problems: (config) => {
      const largestBucket = Math.max(...requestDurationBuckets);
      if (config.p95Seconds < largestBucket) return [];
      return [
        {
          keys: ["p95Seconds"],
          message:
            `alerts.highLatency.p95Seconds: ${config.p95Seconds} can never be exceeded; it must be below ` +
            `${largestBucket}, the largest bucket of the request duration histogram, beyond which histogram_quantile() cannot measure`,
        },
      ];
    },
    warnings: (config) => {
      if (requestDurationBuckets.includes(config.p95Seconds)) return [];
      const upper = requestDurationBuckets.find((bound) => bound > config.p95Seconds);
      const lower = requestDurationBuckets.findLast((bound) => bound < config.p95Seconds) ?? 0;
      return [
        `alerts.highLatency.p95Seconds is ${config.p95Seconds}, between the histogram buckets ${lower} and ${upper}: the p95 is interpolated within that bucket, so the alert fires on an estimate; a bucket boundary (${requestDurationBuckets.join(", ")}) is exact`,
      ];
    },
  }),
  watchdog: defineAlert({
    name: "Watchdog",
    group: ruleGroups.stack,
    doc: "Always firing, for an external dead man's switch (alertmanager.deadMansSwitchUrl).",
    settings: { enabled: z.boolean().default(true) },
    rule: () => ({
      expr: "vector(1)",
      summary: "Heartbeat of the alerting pipeline; this alert always fires.",
      // vector(1) has no labels to show.
      description: [
        "This alert always fires (value ",
        { value: "humanize" },
        ") so that a dead man's switch outside the stack notices when it stops arriving: then Prometheus, Alertmanager or the path between them is broken.",
      ],
    }),
    unitTests: (alert, context) => [watchdogTest(alert, context)],
    readme: {
      firesWhen: "always: proof that the alert pipeline works",
      defaults: () => "routed to `alertmanager.deadMansSwitchUrl`, or nowhere",
    },
  }),
  ruleEvaluationFailures: defineAlert({
    name: "PrometheusRuleEvaluationFailures",
    group: ruleGroups.stack,
    doc: "A Prometheus replica failed to evaluate rules within `window`.",
    settings: { ...switchable("warning"), window: windowSetting("5m"), for: forSetting("1m") },
    rule: (config) => ({
      expr: `increase(${stackMetricNames.ruleEvaluationFailures}{${jobSelector(jobs.prometheus)}}[${config.window}]) > 0`,
      summary: "A Prometheus replica fails to evaluate alert rules.",
      description: [
        "Prometheus ",
        { label: "instance" },
        " failed ",
        { value: "humanize" },
        " evaluations of rule group ",
        { label: "rule_group" },
        ` in the last ${config.window}; alerts of that group may be missed.`,
      ],
    }),
    unitTests: (alert, context, config) => [
      counterFailureTest(alert, context, config.window, {
        name: stackMetricNames.ruleEvaluationFailures,
        labels: {
          job: jobs.prometheus,
          instance: firstPrometheus(context.endpoints),
          rule_group: ruleGroupLabel(ruleGroups.app),
        },
        alertLabels: ["job", "instance", "rule_group"],
        what: "a rule group fails at every evaluation",
      }),
    ],
    readme: {
      firesWhen: "a replica fails to evaluate rules",
      defaults: (config) => `any within ${config.window}, ${forText(config)}`,
    },
  }),
  notConnectedToAlertmanager: defineAlert({
    name: "PrometheusNotConnectedToAlertmanager",
    group: ruleGroups.stack,
    doc: "A Prometheus replica has no Alertmanager to send to.",
    settings: { ...switchable("critical"), for: forSetting("1m") },
    rule: () => ({
      expr: `${stackMetricNames.alertmanagersDiscovered}{${jobSelector(jobs.prometheus)}} < 1`,
      summary: "A Prometheus replica has no Alertmanager to send alerts to.",
      description: [
        "Prometheus ",
        { label: "instance" },
        " sends alerts to ",
        { value: "humanize" },
        " Alertmanagers; the alerts it evaluates reach nobody.",
      ],
    }),
    unitTests: (alert, context) => [
      notConnectedTest(alert, context, stackMetricNames.alertmanagersDiscovered),
    ],
    readme: { firesWhen: "a replica has no Alertmanager to send to", defaults: forText },
  }),
  notificationsFailing: defineAlert({
    name: "AlertNotificationsFailing",
    group: ruleGroups.stack,
    doc: "Prometheus failed to hand alerts to Alertmanager, or Alertmanager to deliver them, within `window`.",
    settings: { ...switchable("critical"), window: windowSetting("5m"), for: forSetting("1m") },
    rule: (config) => ({
      expr: notificationFailuresExpr(config.window),
      summary: "Alerts are not reaching Alertmanager, or notifications are not reaching people.",
      description: [
        { label: "instance" },
        " (job ",
        { label: "job" },
        ") failed ",
        { value: "humanize" },
        ` deliveries in the last ${config.window}.`,
      ],
    }),
    unitTests: (alert, context, { window }) => {
      return [
        counterFailureTest(alert, context, window, {
          name: stackMetricNames.prometheusNotificationErrors,
          labels: {
            job: jobs.prometheus,
            instance: firstPrometheus(context.endpoints),
            alertmanager: `http://${context.endpoints.alertmanager}/api/v2/alerts`,
          },
          alertLabels: ["job", "instance"],
          what: "Prometheus cannot hand alerts to Alertmanager",
        }),
        counterFailureTest(alert, context, window, {
          name: stackMetricNames.alertmanagerNotificationsFailed,
          labels: {
            job: jobs.alertmanager,
            instance: context.endpoints.alertmanager,
            integration: "email",
            reason: "other",
          },
          alertLabels: ["job", "instance"],
          what: "Alertmanager cannot deliver e-mail",
        }),
      ];
    },
    readme: {
      firesWhen: "Prometheus cannot hand alerts to Alertmanager, or Alertmanager cannot deliver",
      defaults: (config) => `any within ${config.window}, ${forText(config)}`,
    },
  }),
};

/**
 * Both halves of the pipeline: Prometheus handing alerts to Alertmanager, and Alertmanager delivering
 * notifications. Summed per instance so both sides carry the same labels.
 */
function notificationFailuresExpr(window: string): string {
  const failures = (metric: string, job: (typeof jobs)[keyof typeof jobs]) =>
    `sum by (job, instance) (increase(${metric}{${jobSelector(job)}}[${window}])) > 0`;
  return `(${failures(stackMetricNames.prometheusNotificationErrors, jobs.prometheus)}) or (${failures(stackMetricNames.alertmanagerNotificationsFailed, jobs.alertmanager)})`;
}

export type BuiltInAlertRegistry = Readonly<Record<string, AlertDefinition>>;
export type BuiltInAlertKey = keyof typeof builtInAlertRegistry;

type AlertSettingsShape<Registry> = {
  [Key in keyof Registry]: Registry[Key] extends AlertDefinition<infer Shape>
    ? z.ZodPrefault<z.ZodObject<Shape, z.core.$strict>>
    : never;
};

/** The `alerts` settings of a registry's alerts: one strict object per alert, with the entry's doc. */
export function alertSettingsShape<Registry extends BuiltInAlertRegistry>(
  registry: Registry,
): AlertSettingsShape<Registry> {
  return Object.fromEntries(
    Object.entries(registry).map(([key, definition]) => [
      key,
      z.strictObject(definition.settings).describe(definition.doc).prefault({}),
    ]),
  ) as unknown as AlertSettingsShape<Registry>;
}

/** `alertname` of every built-in alert, by its settings key. */
export const alertNames = Object.fromEntries(
  Object.entries(builtInAlertRegistry).map(([key, definition]) => [key, definition.name]),
) as { readonly [Key in BuiltInAlertKey]: (typeof builtInAlertRegistry)[Key]["name"] };

/** The settings of every alert of a registry, as the settings object holds them. */
type AlertConfigs = Readonly<Record<string, { readonly enabled: boolean } & Record<string, unknown>>>;

/** Runs a typed entry's function on settings that the entry's own schema produced. */
function configOf(
  alerts: AlertConfigs,
  key: string,
): { readonly enabled: boolean } & Record<string, unknown> {
  const config = alerts[key];
  if (config === undefined) throw new Error(`the settings hold no alerts.${key}`);
  return config;
}

/** A built-in alert, as configured by `settings.alerts[key]` (and, per job, the job's overrides). */
export interface BuiltInAlert extends AlertRuleText {
  readonly key: string;
  readonly name: string;
  readonly group: RuleGroup;
  readonly for: string;
  readonly severity: string;
  /** The job a per-job alert watches, and its instances when the settings know them. */
  readonly target?: { readonly job: string; readonly addresses?: readonly string[] };
  /** Its unit tests, with its settings bound. */
  readonly unitTests: (alert: BuiltInAlert, context: TestContext) => TestGroup[];
}

/** The enabled built-in alerts, in registry order; a per-job alert once for each of its jobs. */
export function builtInAlerts(
  settings: Settings,
  registry: BuiltInAlertRegistry = builtInAlertRegistry,
): BuiltInAlert[] {
  const alerts = settings.alerts as unknown as AlertConfigs;
  const jobsToWatch = monitoredJobs(settings);
  return Object.entries(registry).flatMap(([key, definition]) => {
    const stackWide = configOf(alerts, key);
    const instances = definition.perJob
      ? jobsToWatch
          .filter((job) => definition.perJob === "every job" || job.httpContract)
          .map((job) => ({ config: { ...stackWide, ...job.overrides[key] }, target: job }))
      : [{ config: stackWide, target: undefined }];
    return instances
      .filter(({ config }) => config.enabled)
      .map(({ config, target }) => ({
        key,
        name: definition.name,
        group: definition.group,
        for: typeof config.for === "string" ? config.for : "0s",
        severity: typeof config.severity === "string" ? config.severity : watchdogSeverity,
        ...(target ? { target: { job: target.job, addresses: target.addresses } } : {}),
        unitTests: (alert: BuiltInAlert, context: TestContext) =>
          definition.unitTests(alert, context, config as never),
        ...definition.rule(config as never, target?.job ?? jobs.app),
      }));
  });
}

/** The keys of the alerts whose settings include a `window` for rate() or increase(). */
export function windowedAlertKeys(registry: BuiltInAlertRegistry = builtInAlertRegistry): string[] {
  return Object.entries(registry)
    .filter(([, definition]) => "window" in definition.settings)
    .map(([key]) => key);
}

/** The problems and warnings the enabled alerts' entries find in their settings. */
export function alertSettingFindings(
  settings: Settings,
  registry: BuiltInAlertRegistry = builtInAlertRegistry,
): { problems: (AlertSettingProblem & { readonly alert: string })[]; warnings: string[] } {
  const alerts = settings.alerts as unknown as AlertConfigs;
  const enabled = Object.entries(registry).filter(([key]) => configOf(alerts, key).enabled);
  return {
    problems: enabled.flatMap(([key, definition]) =>
      (definition.problems?.(configOf(alerts, key) as never) ?? []).map((problem) => ({
        ...problem,
        alert: key,
      })),
    ),
    warnings: enabled.flatMap(
      ([key, definition]) =>
        definition.warnings?.(configOf(alerts, key) as never, {
          prometheusReplicas: settings.prometheus.replicas,
        }) ?? [],
    ),
  };
}

/** The README's table of built-in alerts, with each alert's defaults. */
export function alertsTableMarkdown(registry: BuiltInAlertRegistry = builtInAlertRegistry): string {
  const rows = Object.values(registry).map((definition) => {
    const defaults = z.strictObject(definition.settings).parse({});
    return `| ${definition.name} | ${definition.readme.firesWhen} | ${definition.readme.defaults(defaults as never)} |`;
  });
  return ["| alert | fires when | default |", "| --- | --- | --- |", ...rows].join("\n");
}
