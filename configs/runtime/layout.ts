/**
 * Relative paths of every rendered file. `npm run render` writes them under its output directory, the Pulumi
 * program uploads them into containers under the same relative layout, and the end-to-end tests write them
 * into a temporary directory: one layout for all three, so a path cannot differ between them.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { burnRatePairs } from "../settings/slo";

export const renderedPaths = {
  prometheusConfig: (replica: number) => `prometheus/prometheus-${replica}.yml`,
  alertRules: "prometheus/rules/alerts.yml",
  alertRuleTests: "prometheus/tests/alerts.test.yml",
  /** The SLOs' recording and alerting rules: a file of their own, loaded by the same `rules/*.yml` glob. */
  sloRules: "prometheus/rules/slo.yml",
  /** One file per burn-rate pair, named by the pair's uncompressed windows (configs/settings/slo.ts). */
  sloRuleTests: (pair: number) => {
    const windows = burnRatePairs[pair];
    if (!windows) throw new RangeError(`there is no burn-rate pair ${pair}`);
    return `prometheus/tests/slo-${windows.long}-${windows.short}.test.yml`;
  },
  alertmanagerConfig: "alertmanager/alertmanager.yml",
  grafanaDatasources: "grafana/provisioning/datasources/datasources.yml",
  grafanaDashboardProvider: "grafana/provisioning/dashboards/dashboards.yml",
  grafanaDashboard: (uid: string) => `grafana/dashboards/${uid}.json`,
  /** The blackbox exporter's modules, one per probe; rendered only while `probes` is not empty. */
  blackboxConfig: "blackbox/blackbox.yml",
  /**
   * The CA that a `hosts` entry's protected exporters are verified with: the file `docker.exporterTls.caFile`
   * names, copied beside the Prometheus configs (not rendered).
   */
  hostExporterCa: (host: string) => `prometheus/hosts/${host}/ca.pem`,
  /** The replicas' password for the protected exporters of `hosts`: a secret, never written by render. */
  hostExporterPassword: "prometheus/secrets/host_exporter_password",
  /** What `npm run render` writes for a machine of `hosts[].docker`, to run its exporters there with Compose. */
  machineExporters: (host: string) => ({
    dir: `exporters/${host}`,
    compose: `exporters/${host}/compose.yaml`,
    webConfig: `exporters/${host}/web-config.yml`,
    tlsCert: `exporters/${host}/tls/cert.pem`,
    tlsKey: `exporters/${host}/tls/key.pem`,
  }),
  /** Rendered only while `loadtest.enabled`. */
  loadtestOptions: "loadtest/options.json",
} as const;

/** Rendered file contents keyed by their path in `renderedPaths`. */
export type RenderedFiles = Readonly<Record<string, string>>;

/** Writes rendered files under `root`, each at its layout path. */
export function writeRenderedFiles(root: string, files: RenderedFiles): void {
  for (const [path, content] of Object.entries(files)) {
    const target = join(root, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
}
