/**
 * The settings of every built-in alert: its key under `alerts.<key>`, its `alertname`, the doc that the schema
 * and Pulumi.dev.yaml show, its keys with their defaults, and whether it is made once per monitored job. A leaf
 * of the settings: what an alert does with these values (its rule, tests, docs row and checks) is in
 * configs/prometheus/built-in-alerts.ts, which reads them.
 */
import { z } from "zod";
import { forSetting, switchable, windowSetting } from "./alert-settings";

/**
 * Made once per monitored job (the app, each target and service) rather than once for the stack: for every
 * job, or only for those that expose the HTTP metrics contract. A job's `alerts.<key>` overrides its keys.
 */
export type PerJob = "every job" | "httpContract";

export interface AlertSpec<Shape extends z.core.$ZodLooseShape = z.core.$ZodLooseShape> {
  /** The `alertname` label. */
  readonly name: string;
  /** One or two sentences: the settings schema's description and Pulumi.dev.yaml's comment. */
  readonly doc: string;
  /** Its keys under `alerts.<key>`, with their defaults. A `window` makes it a windowed alert. */
  readonly settings: Shape;
  readonly perJob?: PerJob;
  /**
   * An alert on the watched machines: made only while one is watched (`host.enabled`, or `hosts`), and a
   * machine's `alerts.<key>` (`host.alerts`, `hosts[].alerts`) overrides its keys, as a probe's do.
   */
  readonly watchesHost?: boolean;
  /** An alert on the containers of the watched machines (cAdvisor): made only while one has cAdvisor scraped. */
  readonly watchesContainers?: boolean;
  /**
   * An alert on the stack's own containers, on its own host: made only while cAdvisor runs there (`host.enabled`
   * and `host.containers`). Not a machine's to override: no other machine runs them.
   */
  readonly watchesStackContainers?: boolean;
  /** An alert on the Alertmanager cluster: made only while there are two replicas or more. */
  readonly watchesAlertmanagerCluster?: boolean;
  /**
   * An alert on the probes of `probes`: made only while there are any, and a probe's `alerts.<key>` overrides
   * its keys, as a job's do for a per-job alert.
   */
  readonly perProbe?: boolean;
}

/** A spec with its settings schema: a strict object of its keys, described by its doc. */
export function alertSpec<Shape extends z.core.$ZodLooseShape>(spec: AlertSpec<Shape>) {
  return { ...spec, schema: z.strictObject(spec.settings).describe(spec.doc) };
}

export const builtInAlertSpecs = {
  highRequestVolume: alertSpec({
    name: "HighRequestVolume",
    doc: "More than `maxRequests` requests to the app within the sliding `window`, sustained for `for`.",
    perJob: "httpContract",
    settings: {
      ...switchable("warning"),
      maxRequests: z.number().int().positive().default(500),
      window: windowSetting("1m"),
      for: forSetting("10s"),
    },
  }),
  instanceDown: alertSpec({
    name: "InstanceDown",
    doc: "The app does not answer scrapes.",
    perJob: "every job",
    settings: { ...switchable("critical"), for: forSetting("15s") },
  }),
  prometheusDown: alertSpec({
    name: "PrometheusDown",
    doc: "A Prometheus replica does not answer its peers' scrapes; needs prometheus.replicas of 2 or more.",
    settings: { ...switchable("critical"), for: forSetting("15s") },
  }),
  alertmanagerDown: alertSpec({
    name: "AlertmanagerDown",
    doc: "Alertmanager does not answer scrapes.",
    settings: { ...switchable("critical"), for: forSetting("30s") },
  }),
  highErrorRate: alertSpec({
    name: "HighErrorRate",
    doc: "More than `maxRatio` (0 to 1) of the requests answered with a 5xx status over `window`.",
    perJob: "httpContract",
    settings: {
      ...switchable("warning"),
      maxRatio: z.number().gt(0).lt(1).default(0.05),
      window: windowSetting("1m"),
      for: forSetting("1m"),
    },
  }),
  highLatency: alertSpec({
    name: "HighLatency",
    doc: "95th percentile request duration above `p95Seconds` over `window`.",
    perJob: "httpContract",
    settings: {
      ...switchable("warning"),
      p95Seconds: z.number().positive().default(0.5),
      window: windowSetting("1m"),
      for: forSetting("1m"),
    },
  }),
  watchdog: alertSpec({
    name: "Watchdog",
    doc: "Always firing, for an external dead man's switch (alertmanager.deadMansSwitchUrl).",
    settings: { enabled: z.boolean().default(true) },
  }),
  ruleEvaluationFailures: alertSpec({
    name: "PrometheusRuleEvaluationFailures",
    doc: "A Prometheus replica failed to evaluate rules within `window`.",
    settings: { ...switchable("warning"), window: windowSetting("5m"), for: forSetting("1m") },
  }),
  notConnectedToAlertmanager: alertSpec({
    name: "PrometheusNotConnectedToAlertmanager",
    doc: "A Prometheus replica has no Alertmanager to send to.",
    settings: { ...switchable("critical"), for: forSetting("1m") },
  }),
  alertmanagerClusterMembersMissing: alertSpec({
    name: "AlertmanagerClusterMembersMissing",
    doc: "An Alertmanager replica counts fewer cluster members than `alertmanager.replicas`: a replica is down or cut off, and the others may send late or twice.",
    watchesAlertmanagerCluster: true,
    settings: { ...switchable("warning"), for: forSetting("5m") },
  }),
  alertmanagerClusterFailedPeers: alertSpec({
    name: "AlertmanagerClusterFailedPeers",
    doc: "An Alertmanager replica has peers it can no longer reach (`alertmanager_cluster_failed_peers`).",
    watchesAlertmanagerCluster: true,
    settings: { ...switchable("warning"), for: forSetting("5m") },
  }),
  notificationsFailing: alertSpec({
    name: "AlertNotificationsFailing",
    doc: "Prometheus failed to hand alerts to Alertmanager, or Alertmanager to deliver them, within `window`.",
    settings: { ...switchable("critical"), window: windowSetting("5m"), for: forSetting("1m") },
  }),
  hostDiskFillingUp: alertSpec({
    name: "HostDiskFillingUp",
    doc: "A filesystem of the stack's host has less than `minFreeRatio` (0 to 1) of its space free; in-memory and container filesystems are left out.",
    watchesHost: true,
    settings: {
      ...switchable("warning"),
      minFreeRatio: z.number().gt(0).lt(1).default(0.1),
      for: forSetting("5m"),
    },
  }),
  hostMemoryLow: alertSpec({
    name: "HostMemoryLow",
    doc: "Less than `minAvailableRatio` (0 to 1) of the stack's host's memory is available.",
    watchesHost: true,
    settings: {
      ...switchable("warning"),
      minAvailableRatio: z.number().gt(0).lt(1).default(0.1),
      for: forSetting("5m"),
    },
  }),
  hostDiskWillFillIn: alertSpec({
    name: "HostDiskWillFillIn",
    doc: "At the rate it filled over `window`, a filesystem of the stack's host will be full within `hours`; in-memory and container filesystems are left out.",
    watchesHost: true,
    settings: {
      ...switchable("warning"),
      hours: z.number().positive().default(24),
      window: windowSetting("6h"),
      for: forSetting("1h"),
    },
  }),
  hostCpuSaturated: alertSpec({
    name: "HostCpuSaturated",
    doc: "The stack's host's CPUs are busy more than `maxRatio` (0 to 1) of the time over `window`, averaged over its CPUs.",
    watchesHost: true,
    settings: {
      ...switchable("warning"),
      maxRatio: z.number().gt(0).lt(1).default(0.9),
      window: windowSetting("5m"),
      for: forSetting("15m"),
    },
  }),
  hostDiskIoSaturated: alertSpec({
    name: "HostDiskIoSaturated",
    doc: "A block device of the stack's host has I/O in progress more than `maxRatio` (0 to 1) of the time over `window`.",
    watchesHost: true,
    settings: {
      ...switchable("warning"),
      maxRatio: z.number().gt(0).lt(1).default(0.9),
      window: windowSetting("5m"),
      for: forSetting("15m"),
    },
  }),
  hostClockSkew: alertSpec({
    name: "HostClockSkew",
    doc: "The stack's host's clock is more than `maxSeconds` away from its time source (node exporter's timex offset), either way.",
    watchesHost: true,
    settings: {
      ...switchable("warning"),
      maxSeconds: z.number().positive().default(0.05),
      for: forSetting("10m"),
    },
  }),
  hostExporterDown: alertSpec({
    name: "HostExporterDown",
    doc: "The node exporter of the stack's host does not answer scrapes; the host's alerts cannot fire.",
    watchesHost: true,
    settings: { ...switchable("warning"), for: forSetting("1m") },
  }),
  containerOomKilled: alertSpec({
    name: "ContainerOomKilled",
    doc: "The kernel's OOM killer ended a process of a container on the stack's host within `window` (cAdvisor's OOM events).",
    watchesHost: true,
    watchesContainers: true,
    settings: { ...switchable("warning"), window: windowSetting("10m"), for: forSetting("0s") },
  }),
  containerNearMemoryLimit: alertSpec({
    name: "ContainerNearMemoryLimit",
    doc: "A container on the stack's host uses more than `maxRatio` (0 to 1) of its memory limit (working set); containers without a limit are left out.",
    watchesHost: true,
    watchesContainers: true,
    settings: {
      ...switchable("warning"),
      maxRatio: z.number().gt(0).lt(1).default(0.9),
      for: forSetting("5m"),
    },
  }),
  containerRestarting: alertSpec({
    name: "ContainerRestarting",
    doc: "A container on a watched machine started more than `maxRestarts` times within `window` (changes of cAdvisor's container start time): a crash loop.",
    watchesHost: true,
    watchesContainers: true,
    settings: {
      ...switchable("warning"),
      maxRestarts: z.number().int().min(1).default(3),
      window: windowSetting("15m"),
      for: forSetting("0s"),
    },
  }),
  containerMissing: alertSpec({
    name: "ContainerMissing",
    doc: "A long-running container of the stack (not the one-off load test) is absent from cAdvisor's series on the stack's host for `for`, while cAdvisor answers; `for` also covers a container that has not started yet.",
    watchesStackContainers: true,
    settings: { ...switchable("warning"), for: forSetting("5m") },
  }),
  probeFailed: alertSpec({
    name: "ProbeFailed",
    doc: "A probe of `probes` fails (no answer, the wrong status, no body match, a timeout), for `for`.",
    perProbe: true,
    settings: { ...switchable("critical"), for: forSetting("1m") },
  }),
  probeSlow: alertSpec({
    name: "ProbeSlow",
    doc: "A probe of `probes` takes longer than `maxSeconds`, for `for`.",
    perProbe: true,
    settings: {
      ...switchable("warning"),
      maxSeconds: z.number().positive().default(1),
      for: forSetting("5m"),
    },
  }),
  probeCertificateExpiring: alertSpec({
    name: "ProbeCertificateExpiring",
    doc: "The TLS certificate that an https probe of `probes` is served expires in less than `minDays` days.",
    perProbe: true,
    settings: {
      ...switchable("warning"),
      minDays: z.number().positive().default(14),
      for: forSetting("10m"),
    },
  }),
};

export type BuiltInAlertKey = keyof typeof builtInAlertSpecs;
export type AlertSpecs = Readonly<Record<string, AlertSpec>>;

/**
 * The `alerts` settings of the built-in alerts, one strict object each; an unset alert takes every default.
 * Written out key by key so that each keeps its type; `satisfies` fails the build if one is missing.
 */
export const builtInAlertSettingsShape = {
  highRequestVolume: builtInAlertSpecs.highRequestVolume.schema.prefault({}),
  instanceDown: builtInAlertSpecs.instanceDown.schema.prefault({}),
  prometheusDown: builtInAlertSpecs.prometheusDown.schema.prefault({}),
  alertmanagerDown: builtInAlertSpecs.alertmanagerDown.schema.prefault({}),
  highErrorRate: builtInAlertSpecs.highErrorRate.schema.prefault({}),
  highLatency: builtInAlertSpecs.highLatency.schema.prefault({}),
  watchdog: builtInAlertSpecs.watchdog.schema.prefault({}),
  ruleEvaluationFailures: builtInAlertSpecs.ruleEvaluationFailures.schema.prefault({}),
  notConnectedToAlertmanager: builtInAlertSpecs.notConnectedToAlertmanager.schema.prefault({}),
  alertmanagerClusterMembersMissing: builtInAlertSpecs.alertmanagerClusterMembersMissing.schema.prefault({}),
  alertmanagerClusterFailedPeers: builtInAlertSpecs.alertmanagerClusterFailedPeers.schema.prefault({}),
  notificationsFailing: builtInAlertSpecs.notificationsFailing.schema.prefault({}),
  hostDiskFillingUp: builtInAlertSpecs.hostDiskFillingUp.schema.prefault({}),
  hostMemoryLow: builtInAlertSpecs.hostMemoryLow.schema.prefault({}),
  hostDiskWillFillIn: builtInAlertSpecs.hostDiskWillFillIn.schema.prefault({}),
  hostCpuSaturated: builtInAlertSpecs.hostCpuSaturated.schema.prefault({}),
  hostDiskIoSaturated: builtInAlertSpecs.hostDiskIoSaturated.schema.prefault({}),
  hostClockSkew: builtInAlertSpecs.hostClockSkew.schema.prefault({}),
  hostExporterDown: builtInAlertSpecs.hostExporterDown.schema.prefault({}),
  containerOomKilled: builtInAlertSpecs.containerOomKilled.schema.prefault({}),
  containerNearMemoryLimit: builtInAlertSpecs.containerNearMemoryLimit.schema.prefault({}),
  containerRestarting: builtInAlertSpecs.containerRestarting.schema.prefault({}),
  containerMissing: builtInAlertSpecs.containerMissing.schema.prefault({}),
  probeFailed: builtInAlertSpecs.probeFailed.schema.prefault({}),
  probeSlow: builtInAlertSpecs.probeSlow.schema.prefault({}),
  probeCertificateExpiring: builtInAlertSpecs.probeCertificateExpiring.schema.prefault({}),
} satisfies Record<BuiltInAlertKey, z.ZodType>;

/** `alertname` of every built-in alert, by its settings key. */
export const alertNames = {
  highRequestVolume: builtInAlertSpecs.highRequestVolume.name,
  instanceDown: builtInAlertSpecs.instanceDown.name,
  prometheusDown: builtInAlertSpecs.prometheusDown.name,
  alertmanagerDown: builtInAlertSpecs.alertmanagerDown.name,
  highErrorRate: builtInAlertSpecs.highErrorRate.name,
  highLatency: builtInAlertSpecs.highLatency.name,
  watchdog: builtInAlertSpecs.watchdog.name,
  ruleEvaluationFailures: builtInAlertSpecs.ruleEvaluationFailures.name,
  notConnectedToAlertmanager: builtInAlertSpecs.notConnectedToAlertmanager.name,
  alertmanagerClusterMembersMissing: builtInAlertSpecs.alertmanagerClusterMembersMissing.name,
  alertmanagerClusterFailedPeers: builtInAlertSpecs.alertmanagerClusterFailedPeers.name,
  notificationsFailing: builtInAlertSpecs.notificationsFailing.name,
  hostDiskFillingUp: builtInAlertSpecs.hostDiskFillingUp.name,
  hostMemoryLow: builtInAlertSpecs.hostMemoryLow.name,
  hostDiskWillFillIn: builtInAlertSpecs.hostDiskWillFillIn.name,
  hostCpuSaturated: builtInAlertSpecs.hostCpuSaturated.name,
  hostDiskIoSaturated: builtInAlertSpecs.hostDiskIoSaturated.name,
  hostClockSkew: builtInAlertSpecs.hostClockSkew.name,
  hostExporterDown: builtInAlertSpecs.hostExporterDown.name,
  containerOomKilled: builtInAlertSpecs.containerOomKilled.name,
  containerNearMemoryLimit: builtInAlertSpecs.containerNearMemoryLimit.name,
  containerRestarting: builtInAlertSpecs.containerRestarting.name,
  containerMissing: builtInAlertSpecs.containerMissing.name,
  probeFailed: builtInAlertSpecs.probeFailed.name,
  probeSlow: builtInAlertSpecs.probeSlow.name,
  probeCertificateExpiring: builtInAlertSpecs.probeCertificateExpiring.name,
} as const satisfies Record<BuiltInAlertKey, string>;

/** The keys of the alerts whose settings include a `window` for rate() or increase(). */
export function windowedAlertKeys(specs: AlertSpecs = builtInAlertSpecs): string[] {
  return Object.entries(specs)
    .filter(([, spec]) => "window" in spec.settings)
    .map(([key]) => key);
}

/**
 * The keys of an alert that a job, a probe or a machine may override, each optional and without a default: an
 * unset key takes the stack-wide `alerts.<key>` value.
 */
function alertOverridesSchema(spec: AlertSpec) {
  const shape = Object.fromEntries(
    Object.entries(spec.settings).map(([key, field]) => {
      const inner = field instanceof z.ZodDefault ? field.unwrap() : field;
      return [key, inner.optional()];
    }),
  );
  return z.strictObject(shape).optional();
}

/** The `alerts` overrides of the alerts `made` selects, one optional strict object each; none set by default. */
function overridesOf(made: (spec: AlertSpec) => boolean | undefined) {
  const specs: AlertSpecs = builtInAlertSpecs;
  return z
    .strictObject(
      Object.fromEntries(
        Object.entries(specs)
          .filter(([, spec]) => made(spec))
          .map(([key, spec]) => [key, alertOverridesSchema(spec)]),
      ),
    )
    .default({});
}

/** Per-job overrides of the alerts that are made per job: instanceDown and the request alerts. */
export const jobAlertOverridesSchema = overridesOf((spec) => spec.perJob !== undefined);

/** Per-probe overrides of the alerts on probes: ProbeFailed, ProbeSlow and ProbeCertificateExpiring. */
export const probeAlertOverridesSchema = overridesOf((spec) => spec.perProbe);

/** Per-machine overrides of the host and container alerts, for `host.alerts` and `hosts[].alerts`. */
export const hostAlertOverridesSchema = overridesOf((spec) => spec.watchesHost);
