/**
 * What each built-in alert does with its settings: its rule group, its rule (expression, summary and
 * description), the scenario family of its generated unit tests, its row of the alerts page's table (docs/alerts.md), and any check
 * or warning that relates its settings to others. Its settings (key, `alertname`, doc, defaults, per job or
 * not) are its spec in configs/settings/alert-specs.ts, which this module reads and never the other way round.
 *
 * Derived from the two: the `alerts` settings schema, the rule groups, the unit tests, the window checks and
 * the alerts page's table; RUNBOOK.md and Pulumi.dev.yaml are checked against them. Adding an alert means one spec,
 * one entry here and a section in RUNBOOK.md; the `satisfies` clauses fail the build until all are there.
 */
import { z } from "zod";
import { requestDurationBuckets } from "../../service/metrics-contract";
import { hostLabel, jobs, probeLabel, type RuleGroup, ruleGroups } from "../names";
import {
  alertedLatencyQuantile,
  alertThresholdLabel,
  alertThresholdRecord,
  anyOf,
  certificateDaysLeft,
  clockOffsetSeconds,
  containerMemoryLimitRatio,
  containerOomKills,
  containerRestarts,
  cpuBusyRatio,
  diskBusyRatio,
  errorRatio,
  expectedContainerRecord,
  filesystemFreeInHours,
  filesystemFreeRatio,
  jobSelector,
  jobsSelector,
  latencyQuantile,
  memoryAvailableRatio,
  requestsInWindow,
  secondsPerDay,
  targetUp,
} from "../promql/queries";
import {
  blackboxMetrics,
  cadvisorLabels,
  cadvisorMetrics,
  nodeCpuIdleMode,
  nodeExporterMetrics,
  nodeFilesystemLabels,
  prometheusSyntheticSeries,
  stackMetricNames,
} from "../promql/upstream-metrics";
import { firstReplica } from "../runtime/endpoints";
import { type AlertSpec, type BuiltInAlertKey, builtInAlertSpecs } from "../settings/alert-specs";
import { durationMs } from "../settings/duration";
import { machineExporters } from "../settings/hosts";
import {
  effectiveAlertSettings,
  type JobAlertOverrides,
  type MonitoredJob,
  monitoredJobs,
} from "../settings/monitored-jobs";
import { probeTarget } from "../settings/probes";
import type { Settings } from "../settings/schema";
import type { AlertRuleText, BuiltInAlert, TestContext, TestGroup } from "./alert";
import { ruleGroupLabel } from "./config";
import {
  alertmanagerClusterTest,
  counterFailureTest,
  errorRateTests,
  firstPrometheus,
  latencyTests,
  missingContainerTests,
  notConnectedTest,
  predictedFullTests,
  probeFailedTest,
  probeTestLabels,
  rateAboveTests,
  ratioBelowTests,
  requestVolumeTests,
  restartTests,
  targetDownTest,
  testTarget,
  thresholdGaugeTests,
  watchdogTest,
} from "./rule-test-scenarios";

/** A problem with an alert's settings: the keys under `alerts.<key>` it is about, and the message. */
export interface AlertSettingProblem {
  readonly keys: readonly string[];
  /** Starts with the key path, as every settings message does. */
  readonly message: string;
}

/** What an alert does with `Config`, the settings its spec's schema produces. */
export interface AlertBehaviour<Config> {
  readonly group: Exclude<RuleGroup, typeof ruleGroups.custom>;
  /**
   * Its rule; `selector` selects the jobs a per-job alert watches. For an alert with a `threshold`, `expr` is
   * the series that must stay at or below it: the rule compares it with each job's own threshold.
   */
  rule(config: Config, selector: string): AlertRuleText;
  /**
   * For a per-job alert, the value its series must exceed. Jobs that differ from the stack-wide settings only
   * in it share one rule: their thresholds are recorded series the rule joins on `job`.
   */
  threshold?(config: Config): number;
  /** Its generated promtool unit tests: one of the scenario families of rule-test-scenarios.ts. */
  unitTests(alert: BuiltInAlert, context: TestContext, config: Config): TestGroup[];
  /** Its row of the alerts page's table (docs/alerts.md): when it fires, and its default settings in a few words. */
  readonly readme: {
    readonly firesWhen: string;
    defaults(config: Config): string;
  };
  /** Settings that validate on their own but can never work (checked while the alert is enabled). */
  problems?(config: Config, stack: StackShape): AlertSettingProblem[];
  /** Valid but risky settings, for the caller to print (while the alert is enabled). */
  warnings?(config: Config, stack: StackShape): string[];
}

/** What of the rest of the settings an alert's problems and warnings may look at. */
export interface StackShape {
  readonly prometheusReplicas: number;
  readonly scrapeIntervalMs: number;
}

/** An alert's settings as its behaviour sees them, bound, with what every alert has read off them. */
export interface ConfiguredAlert {
  readonly enabled: boolean;
  readonly for: string;
  readonly severity: string;
  readonly window?: string;
  readonly threshold?: number;
  rule(selector: string): AlertRuleText;
  unitTests(alert: BuiltInAlert, context: TestContext): TestGroup[];
  readmeDefaults(): string;
  problems(stack: StackShape): AlertSettingProblem[];
  warnings(stack: StackShape): string[];
}

/** A built-in alert: its spec and its behaviour, joined where the type of its settings is still known. */
export interface BuiltInAlertDefinition {
  readonly spec: AlertSpec;
  readonly group: RuleGroup;
  /** When it fires, in a few words, for the alerts page's table (docs/alerts.md). */
  readonly firesWhen: string;
  /**
   * Binds the alert's behaviour to its settings: `raw` is `alerts.<key>` (with a job's overrides), parsed again
   * by the spec's own schema, so that the behaviour sees them typed without a cast. They were validated
   * already; parsing only proves it to the compiler.
   */
  configure(raw: unknown): ConfiguredAlert;
}

/** The Watchdog is not an incident: it has a severity of its own that no receiver pages on. */
export const watchdogSeverity = "none";

/** What every alert's settings have, or lack (the Watchdog has no `for` nor `severity`). */
const commonSettingsSchema = z.object({
  enabled: z.boolean(),
  for: z.string().default("0s"),
  severity: z.string().default(watchdogSeverity),
  window: z.string().optional(),
});

export function defineAlert<Shape extends z.core.$ZodLooseShape>(
  spec: AlertSpec<Shape> & { readonly schema: z.ZodObject<Shape, z.core.$strict> },
  behaviour: AlertBehaviour<z.output<z.ZodObject<Shape, z.core.$strict>>>,
): BuiltInAlertDefinition {
  return {
    spec,
    group: behaviour.group,
    firesWhen: behaviour.readme.firesWhen,
    configure: (raw) => {
      const config = spec.schema.parse(raw);
      const common = commonSettingsSchema.parse(config);
      return {
        ...common,
        ...(behaviour.threshold ? { threshold: behaviour.threshold(config) } : {}),
        rule: (selector) => behaviour.rule(config, selector),
        unitTests: (alert, context) => behaviour.unitTests(alert, context, config),
        readmeDefaults: () => behaviour.readme.defaults(config),
        problems: (stack) => behaviour.problems?.(config, stack) ?? [],
        warnings: (stack) => behaviour.warnings?.(config, stack) ?? [],
      };
    },
  };
}

const up = (job: string) => `${targetUp(job)} == 0`;
const placeholderSelector = "\u0000jobs\u0000";
const forText = (config: { readonly for: string }) => `for ${config.for}`;

export const builtInAlertRegistry = {
  highRequestVolume: defineAlert(builtInAlertSpecs.highRequestVolume, {
    group: ruleGroups.app,
    // increase() over the window rather than the raw counter: the counter only grows, so comparing it with a
    // threshold fires forever on a long-lived process and stops after every restart.
    rule: (config, selector) => ({
      expr: requestsInWindow(config.window, selector),
      summary: "A service is serving more requests than its configured maximum.",
      description: [
        "Job ",
        { label: "job" },
        " served ",
        { value: "humanize" },
        ` requests in the last ${config.window}, more than the configured maximum.`,
      ],
    }),
    threshold: (config) => config.maxRequests,
    unitTests: requestVolumeTests,
    readme: {
      firesWhen: "more than `maxRequests` requests within the sliding `window`, for `for`",
      defaults: (config) => `${config.maxRequests} in ${config.window}, ${forText(config)}`,
    },
  }),
  instanceDown: defineAlert(builtInAlertSpecs.instanceDown, {
    group: ruleGroups.app,
    rule: (config, selector) => ({
      expr: `${prometheusSyntheticSeries.up}{${selector}} == 0`,
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
  prometheusDown: defineAlert(builtInAlertSpecs.prometheusDown, {
    group: ruleGroups.stack,
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
  alertmanagerDown: defineAlert(builtInAlertSpecs.alertmanagerDown, {
    group: ruleGroups.stack,
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
      targetDownTest(
        alert,
        context,
        jobs.alertmanager,
        firstReplica(context.endpoints.alertmanagers, "Alertmanager"),
        [],
      ),
    ],
    readme: { firesWhen: "Alertmanager does not answer scrapes", defaults: forText },
  }),
  highErrorRate: defineAlert(builtInAlertSpecs.highErrorRate, {
    group: ruleGroups.app,
    rule: (config, selector) => ({
      expr: errorRatio(config.window, selector),
      summary: "A service answers too many requests with a server error.",
      description: [
        { value: "humanizePercentage" },
        " of the requests to job ",
        { label: "job" },
        ` got a 5xx status over the last ${config.window}, more than the configured maximum.`,
      ],
    }),
    threshold: (config) => config.maxRatio,
    unitTests: errorRateTests,
    readme: {
      firesWhen: "share of 5xx responses over `window` above `maxRatio`",
      defaults: (config) => `${config.maxRatio * 100}% over ${config.window}, ${forText(config)}`,
    },
  }),
  highLatency: defineAlert(builtInAlertSpecs.highLatency, {
    group: ruleGroups.app,
    rule: (config, selector) => ({
      expr: latencyQuantile(alertedLatencyQuantile, config.window, selector),
      summary: "A service responds slowly.",
      description: [
        `The ${alertedLatencyQuantile * 100}th percentile of request duration of job `,
        { label: "job" },
        " is ",
        { value: "humanizeDuration" },
        ` over the last ${config.window}, more than the configured maximum.`,
      ],
    }),
    threshold: (config) => config.p95Seconds,
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
  watchdog: defineAlert(builtInAlertSpecs.watchdog, {
    group: ruleGroups.stack,
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
  ruleEvaluationFailures: defineAlert(builtInAlertSpecs.ruleEvaluationFailures, {
    group: ruleGroups.stack,
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
  notConnectedToAlertmanager: defineAlert(builtInAlertSpecs.notConnectedToAlertmanager, {
    group: ruleGroups.stack,
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
  alertmanagerClusterMembersMissing: defineAlert(builtInAlertSpecs.alertmanagerClusterMembersMissing, {
    group: ruleGroups.stack,
    // The expected count is the replicas the stack runs, as data: every Alertmanager target has an `up`
    // series, answering or not. A replica that never joined is missing too, which comparing the replicas'
    // counts with each other (as kube-prometheus does) would not show while they all agree.
    rule: () => ({
      expr: `${stackMetricNames.alertmanagerClusterMembers}{${jobSelector(jobs.alertmanager)}} < on() group_left() count(${prometheusSyntheticSeries.up}{${jobSelector(jobs.alertmanager)}})`,
      summary: "An Alertmanager replica sees fewer cluster members than the stack runs.",
      description: [
        "Alertmanager ",
        { label: "instance" },
        " counts ",
        { value: "humanize" },
        " cluster members, fewer than the replicas the stack runs; a replica that is down or cut off makes failover slower, or e-mail twice.",
      ],
    }),
    unitTests: (alert, context) => [
      alertmanagerClusterTest(alert, context, {
        metric: stackMetricNames.alertmanagerClusterMembers,
        healthy: context.endpoints.alertmanagers.length,
        unhealthy: context.endpoints.alertmanagers.length - 1,
        what: "loses a cluster member",
        withTargets: true,
      }),
    ],
    readme: {
      firesWhen: "an Alertmanager replica sees fewer members than `alertmanager.replicas`",
      defaults: forText,
    },
  }),
  alertmanagerClusterFailedPeers: defineAlert(builtInAlertSpecs.alertmanagerClusterFailedPeers, {
    group: ruleGroups.stack,
    rule: () => ({
      expr: `${stackMetricNames.alertmanagerClusterFailedPeers}{${jobSelector(jobs.alertmanager)}} > 0`,
      summary: "An Alertmanager replica cannot reach some of its peers.",
      description: [
        "Alertmanager ",
        { label: "instance" },
        " has ",
        { value: "humanize" },
        " peers it failed to reach, and keeps trying; until they are back, the cluster's replicas may not see each other's notifications.",
      ],
    }),
    unitTests: (alert, context) => [
      alertmanagerClusterTest(alert, context, {
        metric: stackMetricNames.alertmanagerClusterFailedPeers,
        healthy: 0,
        unhealthy: 1,
        what: "fails to reach a peer",
      }),
    ],
    readme: { firesWhen: "an Alertmanager replica has peers it cannot reach", defaults: forText },
  }),
  notificationsFailing: defineAlert(builtInAlertSpecs.notificationsFailing, {
    group: ruleGroups.stack,
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
            alertmanager: `http://${firstReplica(context.endpoints.alertmanagers, "Alertmanager")}/api/v2/alerts`,
          },
          alertLabels: ["job", "instance"],
          what: "Prometheus cannot hand alerts to Alertmanager",
        }),
        counterFailureTest(alert, context, window, {
          name: stackMetricNames.alertmanagerNotificationsFailed,
          labels: {
            job: jobs.alertmanager,
            instance: firstReplica(context.endpoints.alertmanagers, "Alertmanager"),
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
  hostDiskFillingUp: defineAlert(builtInAlertSpecs.hostDiskFillingUp, {
    group: ruleGroups.host,
    rule: (config, selector) => ({
      expr: `${filesystemFreeRatio(selector)} < ${config.minFreeRatio}`,
      summary: "A filesystem of the stack's host is nearly full.",
      description: [
        "Filesystem ",
        { label: nodeFilesystemLabels.mountpoint },
        " (",
        { label: nodeFilesystemLabels.device },
        ") of host ",
        { label: hostLabel },
        " has ",
        { value: "humanizePercentage" },
        ` of its space free, less than the configured minimum of ${percent(config.minFreeRatio)}.`,
      ],
    }),
    unitTests: (alert, context, config) =>
      ratioBelowTests(alert, context, config.minFreeRatio, {
        numerator: nodeExporterMetrics.filesystemAvailBytes,
        denominator: nodeExporterMetrics.filesystemSizeBytes,
        labels: {
          ...hostTestLabels(alert, context),
          device: "/dev/vda1",
          mountpoint: "/",
          fstype: "ext4",
        },
        what: "free space",
        ignored: [
          {
            labels: {
              ...hostTestLabels(alert, context),
              device: "tmpfs",
              mountpoint: "/run",
              fstype: "tmpfs",
            },
            why: "a tmpfs",
          },
        ],
      }),
    readme: {
      firesWhen: "a disk filesystem of the host has less than `minFreeRatio` of its space free",
      defaults: (config) => `${percent(config.minFreeRatio)} free, ${forText(config)}`,
    },
  }),
  hostMemoryLow: defineAlert(builtInAlertSpecs.hostMemoryLow, {
    group: ruleGroups.host,
    rule: (config, selector) => ({
      expr: `${memoryAvailableRatio(selector)} < ${config.minAvailableRatio}`,
      summary: "The stack's host is running out of memory.",
      description: [
        "Host ",
        { label: hostLabel },
        " has ",
        { value: "humanizePercentage" },
        ` of its memory available, less than the configured minimum of ${percent(config.minAvailableRatio)}.`,
      ],
    }),
    unitTests: (alert, context, config) =>
      ratioBelowTests(alert, context, config.minAvailableRatio, {
        numerator: nodeExporterMetrics.memoryAvailableBytes,
        denominator: nodeExporterMetrics.memoryTotalBytes,
        labels: hostTestLabels(alert, context),
        what: "available memory",
      }),
    readme: {
      firesWhen: "less than `minAvailableRatio` of the host's memory is available",
      defaults: (config) => `${percent(config.minAvailableRatio)} available, ${forText(config)}`,
    },
  }),
  hostDiskWillFillIn: defineAlert(builtInAlertSpecs.hostDiskWillFillIn, {
    group: ruleGroups.host,
    rule: (config, selector) => ({
      expr: `${filesystemFreeInHours(selector, config.window, config.hours)} < 0`,
      summary: "A filesystem of the stack's host is filling up and will soon be full.",
      description: [
        "Filesystem ",
        { label: nodeFilesystemLabels.mountpoint },
        " (",
        { label: nodeFilesystemLabels.device },
        ") of host ",
        { label: hostLabel },
        ` will be full within ${config.hours}h at the rate it filled over the last ${config.window}: its free space in ${config.hours}h is predicted at `,
        { value: "humanize" },
        " bytes.",
      ],
    }),
    unitTests: (alert, context, config) =>
      predictedFullTests(alert, context, config, {
        metric: nodeExporterMetrics.filesystemAvailBytes,
        labels: { ...hostTestLabels(alert, context), device: "/dev/vda1", mountpoint: "/", fstype: "ext4" },
        ignored: {
          labels: { ...hostTestLabels(alert, context), device: "tmpfs", mountpoint: "/run", fstype: "tmpfs" },
          why: "a tmpfs",
        },
      }),
    readme: {
      firesWhen:
        "at the rate it filled over `window`, a disk filesystem of the host will be full within `hours`",
      defaults: (config) => `${config.hours}h, over ${config.window}, ${forText(config)}`,
    },
  }),
  hostCpuSaturated: defineAlert(builtInAlertSpecs.hostCpuSaturated, {
    group: ruleGroups.host,
    rule: (config, selector) => ({
      expr: `${cpuBusyRatio(selector, config.window)} > ${config.maxRatio}`,
      summary: "The CPUs of the stack's host are saturated.",
      description: [
        "Host ",
        { label: hostLabel },
        " has been ",
        { value: "humanizePercentage" },
        ` busy over ${config.window}, averaged over its CPUs, more than the configured maximum of ${percent(config.maxRatio)}.`,
      ],
    }),
    unitTests: (alert, context, config) =>
      rateAboveTests(alert, context, config, {
        metric: nodeExporterMetrics.cpuSecondsTotal,
        labels: { ...hostTestLabels(alert, context), cpu: "0", mode: nodeCpuIdleMode },
        alertLabels: { job: jobs.node, [hostLabel]: machineOf(alert) },
        what: "CPU busy",
        // The series is the idle time: one CPU is idle for the rest of each second.
        rateFor: (busy) => 1 - busy,
      }),
    readme: {
      firesWhen: "the host's CPUs are busy more than `maxRatio` of the time over `window`",
      defaults: (config) => `${percent(config.maxRatio)} over ${config.window}, ${forText(config)}`,
    },
  }),
  hostDiskIoSaturated: defineAlert(builtInAlertSpecs.hostDiskIoSaturated, {
    group: ruleGroups.host,
    rule: (config, selector) => ({
      expr: `${diskBusyRatio(selector, config.window)} > ${config.maxRatio}`,
      summary: "A disk of the stack's host is saturated with I/O.",
      description: [
        "Block device ",
        { label: nodeFilesystemLabels.device },
        " of host ",
        { label: hostLabel },
        " had I/O in progress ",
        { value: "humanizePercentage" },
        ` of the time over ${config.window}, more than the configured maximum of ${percent(config.maxRatio)}.`,
      ],
    }),
    unitTests: (alert, context, config) => {
      const labels = { ...hostTestLabels(alert, context), [nodeFilesystemLabels.device]: "vda" };
      return rateAboveTests(alert, context, config, {
        metric: nodeExporterMetrics.diskIoTimeSecondsTotal,
        labels,
        alertLabels: labels,
        what: "disk busy",
        rateFor: (busy) => busy,
      });
    },
    readme: {
      firesWhen:
        "a block device of the host has I/O in progress more than `maxRatio` of the time over `window`",
      defaults: (config) => `${percent(config.maxRatio)} over ${config.window}, ${forText(config)}`,
    },
  }),
  hostClockSkew: defineAlert(builtInAlertSpecs.hostClockSkew, {
    group: ruleGroups.host,
    rule: (config, selector) => ({
      expr: `${clockOffsetSeconds(selector)} > ${config.maxSeconds}`,
      summary: "The clock of the stack's host is off.",
      description: [
        "The clock of host ",
        { label: hostLabel },
        " is ",
        { value: "humanize" },
        `s away from its time source, more than the configured maximum of ${config.maxSeconds}s; check its NTP service.`,
      ],
    }),
    // A clock behind its source: a negative offset, which abs() makes the same alert as one ahead.
    unitTests: (alert, context, config) =>
      thresholdGaugeTests(alert, context, {
        direction: "above",
        threshold: config.maxSeconds,
        what: "clock behind by",
        labels: hostTestLabels(alert, context),
        series: (levels) => [
          {
            metric: nodeExporterMetrics.timexOffsetSeconds,
            labels: hostTestLabels(alert, context),
            segments: levels.map(({ level, count }) => ({ start: -level, step: 0, count })),
          },
        ],
        valueAt: (level) => level,
      }),
    readme: {
      firesWhen: "the host's clock is more than `maxSeconds` away from its time source",
      defaults: (config) => `${config.maxSeconds} s, ${forText(config)}`,
    },
  }),
  hostExporterDown: defineAlert(builtInAlertSpecs.hostExporterDown, {
    group: ruleGroups.host,
    rule: (config, selector) => ({
      expr: `${prometheusSyntheticSeries.up}{${selector}} == 0`,
      summary: "The exporter of the stack's host does not answer scrapes; the host is not watched.",
      description: [
        "Node exporter ",
        { label: "instance" },
        " of host ",
        { label: hostLabel },
        ` has not answered a scrape for at least ${config.for} (up = `,
        { value: "humanize" },
        "); the other alerts of the host cannot fire until it is back.",
      ],
    }),
    unitTests: (alert, context) => [
      targetDownTest(alert, context, jobs.node, context.endpoints.nodeExporter, [], {
        [hostLabel]: machineOf(alert),
      }),
    ],
    readme: { firesWhen: "the host's node exporter does not answer scrapes", defaults: forText },
  }),
  containerOomKilled: defineAlert(builtInAlertSpecs.containerOomKilled, {
    group: ruleGroups.containers,
    rule: (config, selector) => ({
      expr: `${containerOomKills(selector, config.window)} > 0`,
      summary: "A container of the stack's host was OOM-killed.",
      description: [
        "The kernel ended a process of container ",
        { label: cadvisorLabels.name },
        " on host ",
        { label: hostLabel },
        ` for want of memory: `,
        { value: "humanize" },
        ` time(s) within ${config.window}.`,
      ],
    }),
    unitTests: (alert, context, config) => [
      counterFailureTest(alert, context, config.window, {
        name: cadvisorMetrics.oomEventsTotal,
        labels: containerTestLabels(alert, context),
        alertLabels: Object.keys(containerTestLabels(alert, context)),
        what: "OOM kills",
      }),
    ],
    readme: {
      firesWhen: "a container of the host was OOM-killed within `window`",
      defaults: (config) => `any within ${config.window}, ${forText(config)}`,
    },
  }),
  containerNearMemoryLimit: defineAlert(builtInAlertSpecs.containerNearMemoryLimit, {
    group: ruleGroups.containers,
    rule: (config, selector) => ({
      expr: `${containerMemoryLimitRatio(selector)} > ${config.maxRatio}`,
      summary: "A container of the stack's host is near its memory limit.",
      description: [
        "Container ",
        { label: cadvisorLabels.name },
        " on host ",
        { label: hostLabel },
        " uses ",
        { value: "humanizePercentage" },
        ` of its memory limit, more than the configured maximum of ${percent(config.maxRatio)}.`,
      ],
    }),
    // A container without a limit (0) with a large working set runs beside it throughout and is ignored.
    unitTests: (alert, context, config) =>
      thresholdGaugeTests(alert, context, {
        direction: "above",
        threshold: config.maxRatio,
        what: "memory working set over limit",
        labels: containerTestLabels(alert, context),
        series: (levels) => {
          const unlimited = { ...containerTestLabels(alert, context), [cadvisorLabels.name]: "unlimited" };
          const count = levels.reduce((sum, level) => sum + level.count, 0);
          return [
            {
              metric: cadvisorMetrics.memoryWorkingSetBytes,
              labels: containerTestLabels(alert, context),
              segments: levels.map(({ level, count: n }) => ({
                start: Math.round(level * containerTestLimit),
                step: 0,
                count: n,
              })),
            },
            {
              metric: cadvisorMetrics.specMemoryLimitBytes,
              labels: containerTestLabels(alert, context),
              segments: [{ start: containerTestLimit, step: 0, count }],
            },
            {
              metric: cadvisorMetrics.memoryWorkingSetBytes,
              labels: unlimited,
              segments: [{ start: containerTestLimit, step: 0, count }],
            },
            {
              metric: cadvisorMetrics.specMemoryLimitBytes,
              labels: unlimited,
              segments: [{ start: 0, step: 0, count }],
            },
          ];
        },
        valueAt: (level) => level,
      }),
    readme: {
      firesWhen: "a container of the host uses more than `maxRatio` of its memory limit",
      defaults: (config) => `${percent(config.maxRatio)} of its limit, ${forText(config)}`,
    },
  }),
  containerRestarting: defineAlert(builtInAlertSpecs.containerRestarting, {
    group: ruleGroups.containers,
    rule: (config, selector) => ({
      expr: `${containerRestarts(selector, config.window)} > ${config.maxRestarts}`,
      summary: "A container of a watched machine keeps restarting.",
      description: [
        "Container ",
        { label: cadvisorLabels.name },
        " on host ",
        { label: hostLabel },
        " started ",
        { value: "humanize" },
        ` times within ${config.window}, more than the configured maximum of ${config.maxRestarts}.`,
      ],
    }),
    unitTests: (alert, context, config) =>
      restartTests(alert, context, config, {
        name: cadvisorMetrics.startTimeSeconds,
        labels: containerTestLabels(alert, context),
      }),
    readme: {
      firesWhen: "a container of the host started more than `maxRestarts` times within `window`",
      defaults: (config) => `more than ${config.maxRestarts} within ${config.window}, ${forText(config)}`,
    },
    problems: (config, stack) => {
      const samples = Math.floor(durationMs(config.window) / stack.scrapeIntervalMs);
      if (samples >= config.maxRestarts + 2) return [];
      return [
        {
          keys: ["window", "maxRestarts"],
          message:
            `alerts.containerRestarting.window: ${config.window} holds ${samples} scrapes of cAdvisor, in which at most ` +
            `${Math.max(0, samples - 1)} starts can show; it must hold at least maxRestarts + 2 (${config.maxRestarts + 2}) for the alert to fire`,
        },
      ];
    },
  }),
  containerMissing: defineAlert(builtInAlertSpecs.containerMissing, {
    group: ruleGroups.containers,
    // Each expected container is a recorded series, so the expression is one size whatever the containers, and
    // a missing one is named by its `name` label, which a regex selector cannot do: it matches only what is
    // there. Only while cAdvisor answers: without it every container would seem gone.
    rule: (config, selector) => ({
      expr: `(${expectedContainerRecord}{${selector}} unless on(${hostLabel}, ${cadvisorLabels.name}) ${cadvisorMetrics.startTimeSeconds}{${selector}}) and on(${hostLabel}) (${prometheusSyntheticSeries.up}{${selector}} == 1)`,
      summary: "A container of the stack is not running.",
      description: [
        "Container ",
        { label: cadvisorLabels.name },
        " of the stack has not been running on host ",
        { label: hostLabel },
        ` for at least ${config.for}: cAdvisor answers, but lists no such container (`,
        { value: "humanize" },
        " expected container missing).",
      ],
    }),
    unitTests: (alert, context) =>
      missingContainerTests(alert, context, {
        metric: cadvisorMetrics.startTimeSeconds,
        nameLabel: cadvisorLabels.name,
        names: context.endpoints.containers,
        targetLabels: {
          job: jobs.cadvisor,
          instance: context.endpoints.cadvisor,
          [hostLabel]: machineOf(alert),
        },
        alertLabels: { job: jobs.cadvisor, [hostLabel]: machineOf(alert) },
      }),
    readme: {
      firesWhen: "a long-running container of the stack is absent from cAdvisor's series on the stack's host",
      defaults: forText,
    },
  }),
  probeFailed: defineAlert(builtInAlertSpecs.probeFailed, {
    group: ruleGroups.probes,
    rule: (config, selector) => ({
      expr: `${blackboxMetrics.success}{${selector}} == 0`,
      summary: "A probe fails: what it checks does not answer as expected.",
      description: [
        "Probe ",
        { label: probeLabel },
        " of ",
        { label: "instance" },
        ` has failed for at least ${config.for} (probe_success = `,
        { value: "humanize" },
        "): no answer, the wrong status, no body match, or a timeout.",
      ],
    }),
    unitTests: (alert, context) => [probeFailedTest(alert, context, blackboxMetrics.success)],
    readme: { firesWhen: "a probe of `probes` fails", defaults: forText },
  }),
  probeSlow: defineAlert(builtInAlertSpecs.probeSlow, {
    group: ruleGroups.probes,
    rule: (config, selector) => ({
      expr: `${blackboxMetrics.durationSeconds}{${selector}} > ${config.maxSeconds}`,
      summary: "A probe takes longer than its configured maximum.",
      description: [
        "Probe ",
        { label: probeLabel },
        " of ",
        { label: "instance" },
        " took ",
        { value: "humanize" },
        `s, more than the configured maximum of ${config.maxSeconds}s.`,
      ],
    }),
    unitTests: (alert, context, config) =>
      thresholdGaugeTests(alert, context, {
        direction: "above",
        threshold: config.maxSeconds,
        what: "probe duration",
        labels: probeTestLabels(alert),
        series: (levels) => [
          {
            metric: blackboxMetrics.durationSeconds,
            labels: probeTestLabels(alert),
            segments: levels.map(({ level, count }) => ({ start: level, step: 0, count })),
          },
        ],
        valueAt: (level) => level,
      }),
    readme: {
      firesWhen: "a probe of `probes` takes longer than `maxSeconds`",
      defaults: (config) => `${config.maxSeconds} s, ${forText(config)}`,
    },
  }),
  probeCertificateExpiring: defineAlert(builtInAlertSpecs.probeCertificateExpiring, {
    group: ruleGroups.probes,
    rule: (config, selector) => ({
      expr: `${certificateDaysLeft(selector)} < ${config.minDays}`,
      summary: "The TLS certificate a probe is served expires soon.",
      description: [
        "The certificate that ",
        { label: "instance" },
        " serves to probe ",
        { label: probeLabel },
        " expires in ",
        { value: "humanize" },
        ` days, fewer than the configured minimum of ${config.minDays}.`,
      ],
    }),
    // The expiry is a Unix time: each sample is the remaining time plus the sample's own time, so that the
    // days left stay at one level while the test's clock runs. The level has four digits; the subtraction's
    // rounding noise cannot change its text.
    unitTests: (alert, context, config) =>
      thresholdGaugeTests(alert, context, {
        direction: "below",
        threshold: config.minDays,
        what: "days left",
        labels: probeTestLabels(alert),
        series: (levels, intervalMs) => [
          {
            metric: blackboxMetrics.sslEarliestCertExpiry,
            labels: probeTestLabels(alert),
            segments: levels.map(({ level, firstSample, count }) => ({
              start: level * secondsPerDay + (firstSample * intervalMs) / 1000,
              step: intervalMs / 1000,
              count,
            })),
          },
        ],
        valueAt: (level) => level,
      }),
    readme: {
      firesWhen: "the TLS certificate an https probe is served expires within `minDays` days",
      defaults: (config) => `${config.minDays} days, ${forText(config)}`,
    },
  }),
} satisfies Record<BuiltInAlertKey, BuiltInAlertDefinition>;

/** `0.1` → `10%`. */
function percent(ratio: number): string {
  return `${Number((ratio * 100).toPrecision(4))}%`;
}

/** The machine an alert on machines is tested on: its `host` label, which its rule selects by. */
function machineOf(alert: BuiltInAlert): string {
  if (alert.host === undefined) throw new Error(`${alert.name} is not an alert on a machine`);
  return alert.host;
}

/** The memory limit of the container alerts' tests: a four-digit ratio of it is a whole number of bytes. */
const containerTestLimit = 1e6;

/** The labels the stack's scrape job leaves on a cAdvisor series: its job, address, host and container name. */
function containerTestLabels(alert: BuiltInAlert, context: TestContext): Record<string, string> {
  return {
    job: jobs.cadvisor,
    instance: context.endpoints.cadvisor,
    [hostLabel]: machineOf(alert),
    [cadvisorLabels.name]: "watchtower-dev-app",
  };
}

/** The labels every series of the host's node exporter carries: its job, its address and the host's name. */
function hostTestLabels(alert: BuiltInAlert, context: TestContext): Record<string, string> {
  return { job: jobs.node, instance: context.endpoints.nodeExporter, [hostLabel]: machineOf(alert) };
}

/**
 * Both halves of the pipeline: Prometheus handing alerts to Alertmanager, and Alertmanager delivering
 * notifications. Summed per instance so both sides carry the same labels.
 */
function notificationFailuresExpr(window: string): string {
  const failures = (metric: string, job: (typeof jobs)[keyof typeof jobs]) =>
    `sum by (job, instance) (increase(${metric}{${jobSelector(job)}}[${window}])) > 0`;
  return `(${failures(stackMetricNames.prometheusNotificationErrors, jobs.prometheus)}) or (${failures(stackMetricNames.alertmanagerNotificationsFailed, jobs.alertmanager)})`;
}

export type BuiltInAlertRegistry = Readonly<Record<string, BuiltInAlertDefinition>>;

/** Each alert's settings as the settings object holds them, by key. */
type AlertSettings = Readonly<Record<string, object>>;

function settingsOf(alerts: AlertSettings, key: string): object {
  const config = alerts[key];
  if (config === undefined) throw new Error(`the settings hold no alerts.${key}`);
  return config;
}

/** A per-job alert for one job: its settings with the job's overrides, bound. */
interface JobInstance {
  readonly job: MonitoredJob;
  readonly config: ConfiguredAlert;
}

/**
 * The rule of jobs that share every setting of an alert but its threshold: jobs at the stack-wide threshold are
 * compared with it, the others with their recorded thresholds. One rule whatever the number of
 * jobs, so the rule file and its evaluation grow with the settings that differ, not with the fleet.
 */
function sharedRuleExpr(name: string, instances: readonly JobInstance[], stackWide: ConfiguredAlert): string {
  const first = instances[0];
  if (first === undefined) throw new Error(`${name}: a shared rule needs a job`);
  const measure = (group: readonly JobInstance[]) =>
    first.config.rule(jobsSelector(group.map((instance) => instance.job.job))).expr;
  if (first.config.threshold === undefined) return measure(instances);
  const atStackWide = instances.filter((instance) => instance.config.threshold === stackWide.threshold);
  const recorded = instances.filter((instance) => instance.config.threshold !== stackWide.threshold);
  const comparisons = [
    ...(atStackWide.length > 0 ? [`${measure(atStackWide)} > ${stackWide.threshold}`] : []),
    ...(recorded.length > 0
      ? [
          `${measure(recorded)} > on(job) group_left() ${alertThresholdRecord}{${alertThresholdLabel}="${name}"}`,
        ]
      : []),
  ];
  return comparisons.length === 1
    ? (comparisons[0] ?? "")
    : comparisons.map((part) => `(${part})`).join(" or ");
}

/** What a job's rule says and does, but its threshold and its jobs. */
function ruleShape(config: ConfiguredAlert): string {
  const text = config.rule(placeholderSelector);
  return JSON.stringify([config.for, config.severity, text.expr, text.summary, text.description]);
}

/**
 * A per-job alert's jobs, by the rule each gets: one shared by every job whose settings differ from the
 * stack-wide ones at most in the threshold, and one of its own for each job that changes more (a window, a
 * `for`, a severity). A rule of its own carries its job as a label, so that no two rules of an alert have
 * the same name and labels (promtool's lint calls that a duplicate).
 */
function rulesOfJobs(
  instances: readonly JobInstance[],
  stackWide: ConfiguredAlert,
): { readonly ownJob?: string; readonly instances: JobInstance[] }[] {
  const shared = ruleShape(stackWide);
  const sharing = instances.filter((instance) => ruleShape(instance.config) === shared);
  const own = instances.filter((instance) => ruleShape(instance.config) !== shared);
  return [
    ...(sharing.length > 0 ? [{ instances: sharing }] : []),
    ...own.map((instance) => ({ ownJob: instance.job.job, instances: [instance] })),
  ];
}

/**
 * The enabled built-in alerts, in registry order; a per-job alert once for each of its jobs, each with the
 * expression of the rule its job shares with others, and its threshold where it is recorded as data; an alert
 * on probes or machines once for each probe or machine.
 */
export function builtInAlerts(
  settings: Settings,
  registry: BuiltInAlertRegistry = builtInAlertRegistry,
): BuiltInAlert[] {
  const alerts: AlertSettings = settings.alerts;
  const jobsToWatch = monitoredJobs(settings);
  return Object.entries(registry).flatMap(([key, definition]): BuiltInAlert[] => {
    const { perJob, name } = definition.spec;
    const stackWide = definition.configure(settingsOf(alerts, key));
    const common = { key, name, group: definition.group };
    const fields = (config: ConfiguredAlert) => ({
      ...common,
      for: config.for,
      severity: config.severity,
      ...(config.window === undefined ? {} : { window: config.window }),
      unitTests: config.unitTests,
    });
    const scope = memberScope(settings, definition.spec);
    if (scope !== undefined) {
      const configure = (overrides: JobAlertOverrides) =>
        definition.configure(effectiveAlertSettings(alerts, overrides, key));
      return memberAlerts(scope, stackWide, configure).map(({ member, config, selector, own }) => ({
        ...fields(config),
        ...config.rule(selector),
        ...member.tested,
        ...(own ? { ruleLabels: { [scope.label]: member.name } } : {}),
      }));
    }
    if (definition.spec.watchesAlertmanagerCluster && settings.alertmanager.replicas < 2) return [];
    if (definition.spec.watchesStackContainers) {
      const { host } = settings;
      if (!stackWide.enabled || !host.enabled || !host.containers) return [];
      const selector = `${jobSelector(jobs.cadvisor)},${hostLabel}="${host.name}"`;
      return [{ ...fields(stackWide), ...stackWide.rule(selector), host: host.name }];
    }
    if (!perJob) {
      if (!stackWide.enabled) return [];
      return [{ ...fields(stackWide), ...stackWide.rule(jobSelector(jobs.app)) }];
    }
    const instances = jobsToWatch
      .filter((job) => perJob === "every job" || job.httpContract)
      .map((job) => ({
        job,
        config: definition.configure(effectiveAlertSettings(alerts, job.overrides, key)),
      }))
      .filter(({ config }) => config.enabled);
    return rulesOfJobs(instances, stackWide).flatMap((rule) => {
      const expr = sharedRuleExpr(name, rule.instances, stackWide);
      return rule.instances.map(({ job, config }) => ({
        ...fields(config),
        ...config.rule(jobSelector(job.job)),
        expr,
        ...(rule.ownJob === undefined ? {} : { ruleLabels: { job: rule.ownJob } }),
        target: { job: job.job, addresses: job.addresses },
        ...(config.threshold !== undefined && config.threshold !== stackWide.threshold
          ? { recordedThreshold: config.threshold }
          : {}),
      }));
    });
  });
}

/** A probe or a watched machine: what an alert on probes or machines is made once for. */
interface Member {
  /** The value of the scope's label on its series. */
  readonly name: string;
  readonly overrides: JobAlertOverrides;
  /** What its unit tests read of it: the probe, or the machine. */
  readonly tested: Pick<BuiltInAlert, "probe" | "host">;
}

/** The members of one scrape job that an alert is made for, told apart by one label of their series. */
interface MemberScope {
  readonly job: string;
  readonly label: string;
  readonly members: readonly Member[];
}

/**
 * Who an alert on probes or on machines is made for: the probes of `probes`, or the machines whose exporter it
 * reads (node exporter's, or cAdvisor's). Undefined for any other alert.
 */
function memberScope(settings: Settings, spec: AlertSpec): MemberScope | undefined {
  if (spec.perProbe) {
    return {
      job: jobs.probe,
      label: probeLabel,
      members: settings.probes.map((probe) => ({
        name: probe.name,
        overrides: probe.alerts,
        tested: { probe: { name: probe.name, target: probeTarget(probe) } },
      })),
    };
  }
  if (!spec.watchesHost) return undefined;
  const { host, hosts } = settings;
  const machine = (name: string, overrides: JobAlertOverrides): Member => ({
    name,
    overrides,
    tested: { host: name },
  });
  const ownWatched = host.enabled && (!spec.watchesContainers || host.containers);
  const others = spec.watchesContainers
    ? hosts.filter((other) => machineExporters(other).cadvisor !== undefined)
    : hosts;
  return {
    job: spec.watchesContainers ? jobs.cadvisor : jobs.node,
    label: hostLabel,
    members: [
      ...(ownWatched ? [machine(host.name, host.alerts)] : []),
      ...others.map((other) => machine(other.name, other.alerts)),
    ],
  };
}

/**
 * An alert on the members of a scope, once for each member that has it enabled, with the selector of its rule.
 * The members whose settings do not differ from the stack-wide ones share one rule, of the scope's job but the
 * other members; a member that overrides anything (a threshold, a `for`, a severity) gets a rule of its own.
 * The shared rule's selector names only the members that differ, so it grows with the settings, not the fleet.
 */
function memberAlerts(
  scope: MemberScope,
  stackWide: ConfiguredAlert,
  configure: (overrides: JobAlertOverrides) => ConfiguredAlert,
): { member: Member; config: ConfiguredAlert; selector: string; own: boolean }[] {
  const enabled = scope.members
    .map((member) => ({ member, config: configure(member.overrides) }))
    .filter(({ config }) => config.enabled);
  const shared = ruleShape(stackWide);
  const sharing = new Set(
    enabled.filter(({ config }) => ruleShape(config) === shared).map(({ member }) => member.name),
  );
  const job = jobSelector(scope.job);
  const others = scope.members.filter((member) => !sharing.has(member.name)).map((member) => member.name);
  const sharedSelector = others.length > 0 ? `${job},${scope.label}!~"${anyOf(others)}"` : job;
  return enabled.map(({ member, config }) => {
    const own = !sharing.has(member.name);
    const selector = own ? `${job},${scope.label}="${member.name}"` : sharedSelector;
    return { member, config, selector, own };
  });
}

/** The problems and warnings the enabled alerts' entries find in their settings. */
export function alertSettingFindings(
  settings: Settings,
  registry: BuiltInAlertRegistry = builtInAlertRegistry,
): { problems: (AlertSettingProblem & { readonly alert: string })[]; warnings: string[] } {
  const alerts: AlertSettings = settings.alerts;
  const enabled = Object.entries(registry)
    .map(([key, definition]) => ({ key, config: definition.configure(settingsOf(alerts, key)) }))
    .filter(({ config }) => config.enabled);
  const stack = {
    prometheusReplicas: settings.prometheus.replicas,
    scrapeIntervalMs: durationMs(settings.scrape.interval),
  };
  return {
    problems: enabled.flatMap(({ key, config }) =>
      config.problems(stack).map((problem) => ({ ...problem, alert: key })),
    ),
    warnings: enabled.flatMap(({ config }) => config.warnings(stack)),
  };
}

/** The table of built-in alerts in docs/alerts.md, with each alert's defaults. */
export function alertsTableMarkdown(registry: BuiltInAlertRegistry = builtInAlertRegistry): string {
  const rows = Object.values(registry).map((definition) => {
    const defaults = definition.configure({}).readmeDefaults();
    return `| ${definition.spec.name} | ${definition.firesWhen} | ${defaults} |`;
  });
  return ["| alert | fires when | default |", "| --- | --- | --- |", ...rows].join("\n");
}
