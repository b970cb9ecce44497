/**
 * `prometheus-<i>.yml`: the configuration of Prometheus replica i. The replicas are identical except for their
 * `replica` external label: each scrapes the app, Alertmanager and every replica including itself, so that a
 * surviving replica reports the death of another, node exporter on the stack's host (`host.enabled`), the
 * blackbox exporter once per probe of `probes`, and every target and service of the settings. Only fields that Prometheus 2.x and 3.x both accept are used.
 */

import { posix } from "node:path";
import { probeModule } from "../blackbox/config";
import {
  hostExporterUser,
  hostLabel,
  jobs,
  probeLabel,
  type RuleGroup,
  replicaLabel,
  replicaName,
} from "../names";
import { cadvisorLabels, cadvisorMetrics } from "../promql/upstream-metrics";
import type { Endpoints } from "../runtime/endpoints";
import { renderedPaths } from "../runtime/layout";
import {
  dockerHosts,
  machineExporters,
  type WatchedHost,
  watchesContainers,
  watchesHosts,
} from "../settings/hosts";
import { serviceAddress } from "../settings/monitored-jobs";
import { probeScrape, probeTarget } from "../settings/probes";
import type { Settings } from "../settings/schema";
import { generatedYaml } from "../yaml";

/** Rule files, relative to the configuration file, so the same file works in a container and on disk. */
export const ruleFilesGlob = "rules/*.yml";

/** The `rule_group` label Prometheus gives a group of the alert rules: the rule file as the config names it. */
export function ruleGroupLabel(group: RuleGroup): string {
  return `${posix.dirname(ruleFilesGlob)}/${posix.basename(renderedPaths.alertRules)};${group}`;
}

export function renderPrometheusConfig(settings: Settings, endpoints: Endpoints, replica: number): string {
  if (!Number.isInteger(replica) || replica < 0 || replica >= endpoints.prometheus.length) {
    throw new RangeError(
      `Prometheus replica ${replica} does not exist: the endpoints list ${endpoints.prometheus.length} replicas`,
    );
  }
  const staticJob = (jobName: string, targets: readonly string[]) => ({
    job_name: jobName,
    static_configs: [{ targets: [...targets] }],
  });
  return generatedYaml({
    global: {
      scrape_interval: settings.scrape.interval,
      scrape_timeout: settings.scrape.timeout,
      evaluation_interval: settings.scrape.evaluationInterval,
      external_labels: { [replicaLabel]: replicaName(replica) },
    },
    alerting: {
      // The replicas send identical alerts; without their replica label Alertmanager sees one alert, not two.
      alert_relabel_configs: [{ action: "labeldrop", regex: replicaLabel }],
      // Every Alertmanager replica, each by its own address, as Alertmanager's high_availability.md asks: not
      // behind a load balancer. The cluster deduplicates what they all receive.
      alertmanagers: [{ static_configs: [{ targets: [...endpoints.alertmanagers] }] }],
    },
    rule_files: [ruleFilesGlob],
    scrape_configs: [
      ...(settings.app.enabled ? [staticJob(jobs.app, [endpoints.app])] : []),
      staticJob(jobs.prometheus, endpoints.prometheus),
      staticJob(jobs.alertmanager, endpoints.alertmanagers),
      ...(watchesHosts(settings) ? nodeJobs(settings, endpoints) : []),
      ...(watchesContainers(settings) ? [cadvisorJob(settings, endpoints)] : []),
      ...(settings.probes.length > 0 ? [probeJob(settings, endpoints)] : []),
      ...settings.targets.map((target) => ({
        job_name: target.job,
        ...(target.scrapeInterval === undefined ? {} : { scrape_interval: target.scrapeInterval }),
        metrics_path: target.metricsPath,
        scheme: target.scheme,
        static_configs: [
          {
            targets: [...target.addresses],
            ...(Object.keys(target.labels).length === 0 ? {} : { labels: target.labels }),
          },
        ],
      })),
      ...settings.services.map((service) => ({
        job_name: service.job,
        metrics_path: service.metricsPath,
        static_configs: [{ targets: [serviceAddress(service)] }],
      })),
    ],
  });
}

/**
 * The probes, as the blackbox exporter's documentation scrapes them: one target per probe, its URL or address,
 * sent to the exporter as `target` with its own module; `instance` is then the probed target, not the
 * exporter, and `probe` its name.
 */
function probeJob(settings: Settings, endpoints: Endpoints) {
  return {
    job_name: jobs.probe,
    scrape_interval: probeScrape.interval,
    scrape_timeout: probeScrape.timeout,
    metrics_path: "/probe",
    static_configs: settings.probes.map((probe) => ({
      targets: [probeTarget(probe)],
      labels: { [probeLabel]: probe.name, __param_module: probeModule(probe) },
    })),
    relabel_configs: [
      { source_labels: ["__address__"], target_label: "__param_target" },
      { source_labels: ["__param_target"], target_label: "instance" },
      { target_label: "__address__", replacement: endpoints.blackboxExporter },
    ],
  };
}

/**
 * Each watched machine's exporter at `address` of one kind, labelled with the machine's name as the settings
 * give it (the exporter's own hostname in a container is the container's id): the stack's own host's, through
 * `ownAddress`, while `host.enabled`, then those of `hosts`.
 */
function machineTargets(
  settings: Settings,
  ownAddress: string | undefined,
  address: (host: WatchedHost) => string | undefined,
) {
  const machines = [
    ...(ownAddress === undefined ? [] : [{ name: settings.host.name, address: ownAddress }]),
    ...settings.hosts.flatMap((host) => {
      const target = address(host);
      return target === undefined ? [] : [{ name: host.name, address: target }];
    }),
  ];
  return machines.map((machine) => ({ targets: [machine.address], labels: { [hostLabel]: machine.name } }));
}

/** A path of the rendered layout as the replicas' config names it: relative to the config file. */
function relativeToConfig(relativePath: string): string {
  return posix.relative(posix.dirname(renderedPaths.prometheusConfig(0)), relativePath);
}

/**
 * node exporter on every watched machine: those scraped as they are in one job, and each machine whose
 * exporter the stack runs (`hosts[].docker`) in a job of its own, for its own CA, over TLS with the replicas'
 * password. Their series all carry job="node": `job_name` only names the scrape pool, and a name with "@"
 * cannot be a job of the settings.
 */
function nodeJobs(settings: Settings, endpoints: Endpoints) {
  const plain = machineTargets(
    settings,
    settings.host.enabled ? endpoints.nodeExporter : undefined,
    (host) => (host.docker === undefined ? machineExporters(host).nodeExporter : undefined),
  );
  const protectedJobs = dockerHosts(settings.hosts).map((host) => ({
    job_name: `${jobs.node}@${host.name}`,
    scheme: "https",
    basic_auth: {
      username: hostExporterUser,
      password_file: relativeToConfig(renderedPaths.hostExporterPassword),
    },
    tls_config: { ca_file: relativeToConfig(renderedPaths.hostExporterCa(host.name)) },
    static_configs: [{ targets: [machineExporters(host).nodeExporter], labels: { [hostLabel]: host.name } }],
    relabel_configs: [{ target_label: "job", replacement: jobs.node }],
  }));
  return [...(plain.length > 0 ? [{ job_name: jobs.node, static_configs: plain }] : []), ...protectedJobs];
}

/**
 * cAdvisor on every watched machine that has it, labelled with the machine's name as node exporter is. It exports dozens of series
 * per container, each with a dozen labels (id, image, container labels); the job keeps only the series the
 * container alerts and the Containers dashboard read, of named containers (Docker's; the host's own cgroups
 * have no name), and only their `name` and `interface` labels with the target's.
 */
function cadvisorJob(settings: Settings, endpoints: Endpoints) {
  return {
    job_name: jobs.cadvisor,
    static_configs: machineTargets(
      settings,
      settings.host.enabled && settings.host.containers ? endpoints.cadvisor : undefined,
      (host) => machineExporters(host).cadvisor,
    ),
    metric_relabel_configs: [
      { source_labels: ["__name__"], regex: Object.values(cadvisorMetrics).join("|"), action: "keep" },
      { source_labels: [cadvisorLabels.name], regex: "", action: "drop" },
      {
        action: "labelkeep",
        regex: ["__name__", "job", "instance", hostLabel, ...Object.values(cadvisorLabels)].join("|"),
      },
    ],
  };
}
