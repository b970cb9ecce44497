import { writeFileSync } from "node:fs";
import { join, posix } from "node:path";
import { expect } from "chai";
import { parse } from "yaml";
import { requireBinaries } from "../../test-support/binaries";
import { makeTempDir } from "../../test-support/cleanup";
import { dockerTestEndpoints, loopbackEndpoints, renderToDisk, runTool } from "../../test-support/promtool";
import { hostLabel, jobs, replicaLabel, replicaName } from "../names";
import type { Endpoints } from "../runtime/endpoints";
import { renderedPaths } from "../runtime/layout";
import { builtPrometheusDiscoveries } from "../runtime/versions";
import { loadSettings } from "../validate";
import { generatedYaml } from "../yaml";
import { renderPrometheusConfig, ruleFilesGlob } from "./config";

interface ScrapeConfig {
  job_name: string;
  static_configs: { targets: string[]; labels?: Record<string, string> }[];
  relabel_configs?: Record<string, unknown>[];
}

function parsed(settingsInput: object, endpoints: (replicas: number) => Endpoints, replica: number) {
  const { settings } = loadSettings(settingsInput);
  const text = renderPrometheusConfig(settings, endpoints(settings.prometheus.replicas), replica);
  return parse(text) as Record<string, unknown> & {
    global: Record<string, unknown>;
    alerting: {
      alert_relabel_configs: unknown[];
      alertmanagers: { static_configs: { targets: string[] }[] }[];
    };
    scrape_configs: ScrapeConfig[];
  };
}

describe("renderPrometheusConfig", () => {
  const three = { prometheus: { replicas: 3 } };

  it("labels each replica with its name", () => {
    for (const replica of [0, 1, 2]) {
      const config = parsed(three, loopbackEndpoints, replica);
      expect(config.global.external_labels).to.deep.equal({ [replicaLabel]: replicaName(replica) });
    }
  });

  it("uses only fields that Prometheus 2.x and 3.x both accept", () => {
    const config = parsed(three, loopbackEndpoints, 0);
    expect(Object.keys(config)).to.have.members(["global", "alerting", "rule_files", "scrape_configs"]);
    expect(Object.keys(config.global)).to.have.members([
      "scrape_interval",
      "scrape_timeout",
      "evaluation_interval",
      "external_labels",
    ]);
    for (const job of config.scrape_configs)
      expect(Object.keys(job)).to.have.members(
        job.job_name === jobs.cadvisor
          ? ["job_name", "static_configs", "metric_relabel_configs"]
          : ["job_name", "static_configs"],
      );
  });

  it("takes its intervals from the settings", () => {
    const config = parsed(
      { scrape: { interval: "15s", timeout: "7s", evaluationInterval: "30s" } },
      loopbackEndpoints,
      0,
    );
    expect(config.global).to.include({
      scrape_interval: "15s",
      scrape_timeout: "7s",
      evaluation_interval: "30s",
    });
  });

  it("scrapes the app, every replica including itself, Alertmanager and the host's node exporter, under the shared job names", () => {
    const endpoints = loopbackEndpoints(3);
    for (const replica of [0, 1, 2]) {
      const config = parsed(three, loopbackEndpoints, replica);
      expect(
        config.scrape_configs.map((job) => [job.job_name, job.static_configs.flatMap((c) => c.targets)]),
      ).to.deep.equal([
        [jobs.app, [endpoints.app]],
        [jobs.prometheus, [...endpoints.prometheus]],
        [jobs.alertmanager, [...endpoints.alertmanagers]],
        [jobs.node, [endpoints.nodeExporter]],
        [jobs.cadvisor, [endpoints.cadvisor]],
      ]);
    }
  });

  it("scrapes cAdvisor with the host label, keeping only the series and labels the alerts and dashboard use", () => {
    const cadvisor = (settings: object) =>
      parsed(settings, loopbackEndpoints, 0).scrape_configs.find((job) => job.job_name === jobs.cadvisor);
    const job = cadvisor({});
    expect(job?.static_configs).to.deep.equal([
      { targets: [loopbackEndpoints(2).cadvisor], labels: { [hostLabel]: "local" } },
    ]);
    expect(job).to.have.deep.property("metric_relabel_configs", [
      {
        source_labels: ["__name__"],
        regex:
          "container_memory_working_set_bytes|container_spec_memory_limit_bytes|container_cpu_usage_seconds_total|container_oom_events_total|container_start_time_seconds|container_network_receive_bytes_total|container_network_transmit_bytes_total",
        action: "keep",
      },
      { source_labels: ["name"], regex: "", action: "drop" },
      { action: "labelkeep", regex: "__name__|job|instance|host|name|interface" },
    ]);
    expect(cadvisor({ host: { containers: false } })).to.equal(undefined);
    expect(cadvisor({ host: { enabled: false } })).to.equal(undefined);
  });

  it("labels the node exporter's series with host.name, and leaves it out when host.enabled is false", () => {
    const node = (settings: object) =>
      parsed(settings, loopbackEndpoints, 0).scrape_configs.find((job) => job.job_name === jobs.node);
    expect(node({})?.static_configs).to.deep.equal([
      { targets: [loopbackEndpoints(2).nodeExporter], labels: { [hostLabel]: "local" } },
    ]);
    expect(node({ host: { name: "db-1.example" } })?.static_configs[0]?.labels).to.deep.equal({
      [hostLabel]: "db-1.example",
    });
    expect(node({ host: { enabled: false } })).to.equal(undefined);
  });

  it("scrapes each of `hosts` by its own addresses, labelled with its name, with or without the stack's host", () => {
    const job = (settings: object, name: string) =>
      parsed(settings, loopbackEndpoints, 0).scrape_configs.find((each) => each.job_name === name);
    const hosts = [
      { name: "db-1", address: { nodeExporter: "10.0.0.5:9100", cadvisor: "10.0.0.5:8080" } },
      { name: "web-1", address: { nodeExporter: "web-1.internal:9100" } },
    ];
    expect(job({ hosts }, jobs.node)?.static_configs).to.deep.equal([
      { targets: [loopbackEndpoints(2).nodeExporter], labels: { [hostLabel]: "local" } },
      { targets: ["10.0.0.5:9100"], labels: { [hostLabel]: "db-1" } },
      { targets: ["web-1.internal:9100"], labels: { [hostLabel]: "web-1" } },
    ]);
    expect(job({ hosts }, jobs.cadvisor)?.static_configs).to.deep.equal([
      { targets: [loopbackEndpoints(2).cadvisor], labels: { [hostLabel]: "local" } },
      { targets: ["10.0.0.5:8080"], labels: { [hostLabel]: "db-1" } },
    ]);
    const elsewhere = { host: { enabled: false }, hosts };
    expect(job(elsewhere, jobs.node)?.static_configs.map((config) => config.targets)).to.deep.equal([
      ["10.0.0.5:9100"],
      ["web-1.internal:9100"],
    ]);
    expect(job(elsewhere, jobs.cadvisor)?.static_configs.map((config) => config.targets)).to.deep.equal([
      ["10.0.0.5:8080"],
    ]);
    expect(job({ host: { enabled: false }, hosts: [hosts[1]] }, jobs.cadvisor)).to.equal(undefined);
  });

  it("asks the blackbox exporter for each probe with its module and target, only while there are probes", () => {
    const probes = [
      { name: "site", http: { url: "https://example.com/" } },
      { name: "db", tcp: { address: "db.internal:5432" } },
    ];
    for (const replica of [0, 1]) {
      const job = parsed({ probes }, loopbackEndpoints, replica).scrape_configs.find(
        (candidate) => candidate.job_name === jobs.probe,
      );
      expect(job).to.deep.equal({
        job_name: jobs.probe,
        scrape_interval: "15s",
        scrape_timeout: "10s",
        metrics_path: "/probe",
        static_configs: [
          { targets: ["https://example.com/"], labels: { probe: "site", __param_module: "site" } },
          { targets: ["db.internal:5432"], labels: { probe: "db", __param_module: "db" } },
        ],
        relabel_configs: [
          { source_labels: ["__address__"], target_label: "__param_target" },
          { source_labels: ["__param_target"], target_label: "instance" },
          { target_label: "__address__", replacement: loopbackEndpoints(2).blackboxExporter },
        ],
      });
    }
    expect(parsed({}, loopbackEndpoints, 0).scrape_configs.map((job) => job.job_name)).not.to.include(
      jobs.probe,
    );
  });

  it("sends alerts to Alertmanager without the replica label, so the pair's alerts deduplicate", () => {
    const config = parsed({}, loopbackEndpoints, 1);
    expect(config.alerting.alert_relabel_configs).to.deep.equal([
      { action: "labeldrop", regex: replicaLabel },
    ]);
    expect(config.alerting.alertmanagers[0]?.static_configs[0]?.targets).to.deep.equal([
      ...loopbackEndpoints(2).alertmanagers,
    ]);
  });

  it("loads rule files relative to itself", () => {
    expect(parsed({}, loopbackEndpoints, 0).rule_files).to.deep.equal([ruleFilesGlob]);
    const configDir = posix.dirname(renderedPaths.prometheusConfig(0));
    expect(posix.relative(configDir, posix.dirname(renderedPaths.alertRules))).to.equal(
      posix.dirname(ruleFilesGlob),
    );
    expect(posix.extname(renderedPaths.alertRules)).to.equal(posix.extname(ruleFilesGlob));
  });

  it("refuses a replica that the endpoints do not list", () => {
    const { settings } = loadSettings({});
    expect(() => renderPrometheusConfig(settings, loopbackEndpoints(2), 2)).to.throw(RangeError, /replica 2/);
  });

  describe("service discovery", () => {
    /** Every `<type>_sd_configs` key anywhere in a rendered configuration. */
    function discoveries(value: unknown): string[] {
      if (Array.isArray(value)) return value.flatMap(discoveries);
      if (typeof value !== "object" || value === null) return [];
      return Object.entries(value).flatMap(([key, inner]) => [
        ...(key.endsWith("_sd_configs") ? [key.slice(0, -"_sd_configs".length)] : []),
        ...discoveries(inner),
      ]);
    }
    // plugins/minimum.go of the module: every build has these, whatever its tags.
    const inEveryBuild = ["file", "http"];
    const variants = {
      defaults: {},
      "targets and services": {
        targets: [{ job: "billing", addresses: ["10.0.0.5:8080"], httpContract: true, scheme: "https" }],
        services: [{ job: "orders", image: "ghcr.io/acme/orders:1.4.2", port: 8080, healthcheck: ["true"] }],
      },
      "three replicas, no demo app": {
        prometheus: { replicas: 3 },
        app: { enabled: false },
        loadtest: { enabled: false },
      },
    };

    for (const [name, input] of Object.entries(variants)) {
      it(`names only discoveries that the built Prometheus has: ${name}`, () => {
        const { settings } = loadSettings(input);
        const endpoints = dockerTestEndpoints(settings);
        for (const replica of endpoints.prometheus.keys()) {
          const config = parse(renderPrometheusConfig(settings, endpoints, replica));
          const missing = discoveries(config).filter(
            (type) => !inEveryBuild.includes(type) && !builtPrometheusDiscoveries.includes(type),
          );
          expect(
            missing,
            `replica ${replica}: build them with enable_<type>_sd (configs/runtime/versions.ts)`,
          ).to.deep.equal([]);
        }
      });
    }

    it("finds a discovery the built Prometheus lacks: promtool refuses it", async function () {
      this.timeout(30_000);
      const { promtool } = requireBinaries(this, "promtool");
      const dir = makeTempDir("sd-");
      try {
        const config = { scrape_configs: [{ job_name: "ec2", ec2_sd_configs: [{ region: "eu-west-1" }] }] };
        writeFileSync(join(dir.path, "prometheus.yml"), generatedYaml(config));
        expect(discoveries(config)).to.deep.equal(["ec2"]);
        const result = await runTool(promtool, ["check", "config", "prometheus.yml"], dir.path);
        expect(result.exitCode, result.output).not.to.equal(0);
        expect(result.output).to.include("ec2_sd_configs");
      } finally {
        dir.remove();
      }
    });
  });

  describe("promtool check config", () => {
    let promtool: string;

    before(function () {
      ({ promtool } = requireBinaries(this, "promtool"));
    });

    for (const [name, endpoints] of [
      ["Docker", (settings: ReturnType<typeof loadSettings>["settings"]) => dockerTestEndpoints(settings)],
      [
        "loopback",
        (settings: ReturnType<typeof loadSettings>["settings"]) =>
          loopbackEndpoints(settings.prometheus.replicas),
      ],
    ] as const) {
      it(`accepts every replica's configuration with ${name} endpoints, rule files beside it`, async () => {
        const { settings } = loadSettings({ prometheus: { replicas: 3 } });
        const dir = renderToDisk(settings, endpoints(settings));
        try {
          for (const replica of [0, 1, 2]) {
            const file = join(dir.path, renderedPaths.prometheusConfig(replica));
            const result = await runTool(
              promtool,
              ["check", "config", "--lint=all", "--lint-fatal", file],
              dir.path,
            );
            expect(result.exitCode, result.output).to.equal(0);
            // The alerts and the SLOs.
            expect(result.output).to.include("SUCCESS: 2 rule files found");
          }
        } finally {
          dir.remove();
        }
      });
    }
  });
});
