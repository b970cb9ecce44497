import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { parse } from "yaml";
import {
  alertmanagerSmtpPasswordTarget as alertmanagerSmtpPasswordFile,
  containerPaths,
  prometheusRulesTarget as prometheusRulesFile,
  type ServicePlan,
  tmpfsOptions,
} from "../configs/deployment/plan";
import { loadtestScriptFiles } from "../configs/loadtest/plan";
import { renderAll } from "../configs/render";
import { dockerAliases, dockerEndpoints, stackPrefix } from "../configs/runtime/docker-endpoints";
import { type RenderedFiles, renderedPaths } from "../configs/runtime/layout";
import { loadSettings } from "../configs/validate";
import { loadtestEnv } from "../loadtest/contract";
import { requireBinaries } from "../test-support/binaries";
import { makeTempDir, type TempDir } from "../test-support/cleanup";
import {
  byType,
  collectStrings,
  mockGeneratedPassword,
  mockProject,
  mockStack,
  type RecordedResource,
  resource,
  revealSecrets,
  runStack,
  type StackConfig,
  type StackRun,
  type Upload,
  uploadedFiles,
  uploadsOf,
} from "../test-support/pulumi-mocks";
import { repositoryRoot } from "./repository";
import { componentsInStartOrder } from "./stack";
import { stackInputs } from "./stack-inputs";

const prometheusConfigFile = containerPaths.prometheusConfig;
const grafanaAdminPasswordFile = containerPaths.grafanaAdminPassword;

const types = {
  stack: "watchtower:index:MonitoringStack",
  app: "watchtower:index:AppService",
  prometheus: "watchtower:index:PrometheusReplicas",
  alertmanager: "watchtower:index:AlertmanagerService",
  grafana: "watchtower:index:GrafanaService",
  inbox: "watchtower:index:MailpitInbox",
  loadtest: "watchtower:index:LoadTest",
  nodeExporter: "watchtower:index:NodeExporter",
  cadvisor: "watchtower:index:Cadvisor",
  blackboxExporter: "watchtower:index:BlackboxExporter",
  network: "docker:index/network:Network",
  image: "docker:index/image:Image",
  remoteImage: "docker:index/remoteImage:RemoteImage",
  volume: "docker:index/volume:Volume",
  container: "docker:index/container:Container",
  password: "random:index/randomPassword:RandomPassword",
} as const;

const root = `${mockProject}-${mockStack}`;

interface NetworkAttachment {
  name: string;
  aliases?: string[];
}
interface PortBinding {
  internal: number;
  external: number;
  ip: string;
}

/** The value of a `--name=value` flag in a container's command. */
function flag(container: RecordedResource, name: string): string {
  const found = ((container.inputs.command as string[] | undefined) ?? []).find((arg) =>
    arg.startsWith(`${name}=`),
  );
  if (found === undefined) throw new Error(`${container.name} has no ${name} flag`);
  return found.slice(name.length + 1);
}

/** A variable the k6 script sees: from the container's environment or from k6's `--env` arguments. */
function scriptEnvOf(container: RecordedResource, name: string): string {
  const command = (container.inputs.command as string[] | undefined) ?? [];
  const assignments = [
    ...((container.inputs.envs as string[] | undefined) ?? []),
    ...command.filter((_, index) => command[index - 1] === "--env"),
  ];
  const found = assignments.find((assignment) => assignment.startsWith(`${name}=`));
  if (found === undefined) throw new Error(`${container.name} gives the script no ${name}`);
  return found.slice(name.length + 1);
}

/** A file-name glob as Prometheus matches rule_files: `*` stands for any characters but a slash. */
function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}$`);
}

function argsOf(container: RecordedResource): string[] {
  return [
    ...((container.inputs.command as string[] | undefined) ?? []),
    ...((container.inputs.envs as string[]) ?? []),
  ];
}

/**
 * The ports a container's process listens on, read from its own arguments the way the process reads them:
 * flags (`--web.listen-address=:9090`) and environment variables (`PORT=5002`, `MP_SMTP_BIND_ADDR=0.0.0.0:1025`).
 */
function listeningPorts(container: RecordedResource): number[] {
  const ports: number[] = [];
  for (const arg of argsOf(container)) {
    const match =
      /^--web\.listen-address=.*:(\d+)$/.exec(arg) ??
      /^--port=(\d+)$/.exec(arg) ??
      /^(?:PORT|GF_SERVER_HTTP_PORT)=(\d+)$/.exec(arg) ??
      /^MP_(?:SMTP|UI)_BIND_ADDR=.*:(\d+)$/.exec(arg);
    if (match?.[1]) ports.push(Number(match[1]));
  }
  return ports;
}

/** The expected files, rendered independently of the program from the same stack config and stack name. */
function renderFor(config: StackConfig): RenderedFiles {
  const { settings } = loadSettings(config);
  return renderAll(settings, dockerEndpoints(settings, stackPrefix(mockProject, mockStack)));
}

/** Every `host:port` a service dials, from the files uploaded into the containers. */
function dialledEndpoints(run: StackRun): { from: string; target: string }[] {
  const found: { from: string; target: string }[] = [];
  for (const container of byType(run, types.container)) {
    for (const [file, content] of Object.entries(uploadedFiles(container))) {
      const from = `${container.name}:${file}`;
      if (file.endsWith(".json"))
        for (const target of addressesIn(JSON.parse(content))) found.push({ from, target });
      if (/\.ya?ml$/.test(file))
        for (const target of addressesIn(parse(content))) found.push({ from, target });
    }
    for (const env of (container.inputs.envs as string[] | undefined) ?? []) {
      const match = /^K6_PROMETHEUS_RW_SERVER_URL=(.*)$/.exec(env);
      if (match?.[1]) found.push({ from: `${container.name} env`, target: new URL(match[1]).host });
    }
  }
  return found;
}

interface StaticConfigs {
  static_configs: { targets: string[] }[];
}

/**
 * The addresses a config file makes its reader dial, recognised by the file's shape: Prometheus scrape and
 * Alertmanager targets, Alertmanager's smarthost, Grafana's datasource URLs and the load test's target.
 */
function addressesIn(document: unknown): string[] {
  if (typeof document !== "object" || document === null) return [];
  const config = document as {
    scrape_configs?: StaticConfigs[];
    alerting?: { alertmanagers: StaticConfigs[] };
    receivers?: { email_configs?: { smarthost: string }[] }[];
    datasources?: { url: string }[];
    target?: string;
  };
  const staticConfigs = [...(config.scrape_configs ?? []), ...(config.alerting?.alertmanagers ?? [])].flatMap(
    (holder) => holder.static_configs,
  );
  return [
    ...staticConfigs.flatMap((staticConfig) => staticConfig.targets),
    ...(config.receivers ?? [])
      .flatMap((receiver) => receiver.email_configs ?? [])
      .map((email) => email.smarthost),
    ...(config.datasources ?? []).map((datasource) => new URL(datasource.url).host),
    ...(typeof config.target === "string" ? [new URL(config.target).host] : []),
  ];
}

/** Input paths whose values differ between two runs, resource by resource; uploads are compared by file. */
function changedInputs(before: StackRun, after: StackRun): string[] {
  const normalise = (resource: RecordedResource) => {
    const inputs = revealSecrets(resource.inputs) as Record<string, unknown>;
    const uploads = inputs.uploads as Upload[] | undefined;
    if (!uploads) return inputs;
    return { ...inputs, uploads: Object.fromEntries(uploads.map((upload) => [upload.file, upload])) };
  };
  const changes: string[] = [];
  const compare = (a: unknown, b: unknown, at: string): void => {
    if (typeof a === "object" && a !== null && typeof b === "object" && b !== null) {
      const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
      for (const key of keys) {
        compare((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${at}.${key}`);
      }
    } else if (a !== b) changes.push(at);
  };
  expect([...after.resources.keys()].sort()).to.deep.equal([...before.resources.keys()].sort());
  for (const [name, original] of before.resources)
    compare(normalise(original), normalise(resource(after, name)), name);
  return changes;
}

describe("the Pulumi program under mocks", function () {
  this.timeout(20_000);

  describe("with the default settings", () => {
    let run: StackRun;
    const files = renderFor({});

    before(async () => {
      run = await runStack({});
    });

    it("declares each service as one component, with every resource under its service's component", () => {
      const components = [...run.resources.values()].filter((resource) =>
        resource.type.startsWith("watchtower:"),
      );
      const [stackComponent, ...others] = components;
      expect(stackComponent?.type).to.equal(types.stack);
      expect(stackComponent?.parent).to.equal(root);
      for (const component of others) expect(component.parent, component.name).to.equal(stackComponent?.name);
      // The Alertmanager replicas are each a component of one type, so that replica 0 keeps a single one's.
      const identities = others.map((component) =>
        component.type === types.alertmanager ? component.name : component.type,
      );
      expect(new Set(identities).size, "one component per service").to.equal(others.length);
      const componentNames = new Set(components.map((component) => component.name));
      for (const resource of run.resources.values()) {
        if (resource.type.startsWith("watchtower:")) continue;
        expect(componentNames.has(resource.parent ?? ""), `${resource.name} under a component`).to.equal(
          true,
        );
        expect(
          resource.name.startsWith(`${resource.parent}-`),
          `${resource.name} named after its component`,
        ).to.equal(true);
      }
      // One container per planned service: the app, the inbox, node exporter, cAdvisor, Alertmanager, two
      // replicas, Grafana, k6.
      expect(byType(run, types.container)).to.have.length(10);
      expect(byType(run, types.network)).to.have.length(1);
    });

    it("puts every container on the one private network only, under an alias", () => {
      const [network] = byType(run, types.network);
      const networkName = network?.inputs.name;
      expect(networkName).to.equal(root);
      for (const container of byType(run, types.container)) {
        const attachments = container.inputs.networksAdvanced as NetworkAttachment[];
        expect(attachments, container.name).to.have.length(1);
        expect(attachments[0]?.name, container.name).to.equal(networkName);
      }
    });

    it("resolves every address a service dials to the alias of a container on the network, at a port it listens on", () => {
      const listeners = new Map<string, number[]>();
      for (const container of byType(run, types.container)) {
        for (const alias of (container.inputs.networksAdvanced as NetworkAttachment[])[0]?.aliases ?? []) {
          expect(listeners.has(alias), `alias ${alias} is used twice`).to.equal(false);
          listeners.set(alias, listeningPorts(container));
        }
      }
      const dialled = dialledEndpoints(run);
      // Two replicas scrape three jobs, send to Alertmanager, Alertmanager mails the inbox, Grafana queries both
      // replicas, k6 targets the app and writes to Prometheus.
      expect(dialled.length).to.be.at.least(12);
      for (const { from, target } of dialled) {
        const separator = target.lastIndexOf(":");
        const alias = target.slice(0, separator);
        expect(listeners.get(alias), `${from} dials ${target}`).to.include(
          Number(target.slice(separator + 1)),
        );
      }
    });

    it("uploads exactly what the renderers produce", () => {
      const prometheus0 = uploadedFiles(resource(run, "monitoring-prometheus-0"));
      const prometheus1 = uploadedFiles(resource(run, "monitoring-prometheus-1"));
      const ruleFiles = [files[renderedPaths.alertRules], files[renderedPaths.sloRules]];
      expect(Object.values(prometheus0).sort()).to.deep.equal(
        [files[renderedPaths.prometheusConfig(0)], ...ruleFiles].sort(),
      );
      expect(Object.values(prometheus1).sort()).to.deep.equal(
        [files[renderedPaths.prometheusConfig(1)], ...ruleFiles].sort(),
      );
      expect(Object.values(uploadedFiles(resource(run, "monitoring-alertmanager-container")))).to.deep.equal([
        files[renderedPaths.alertmanagerConfig],
      ]);
      const grafana = uploadedFiles(resource(run, "monitoring-grafana-container"));
      const grafanaRendered = Object.entries(files).filter(([renderedPath]) =>
        renderedPath.startsWith("grafana/"),
      );
      expect(Object.keys(grafana)).to.have.length(grafanaRendered.length + 1);
      for (const [renderedPath, content] of grafanaRendered)
        expect(Object.values(grafana), renderedPath).to.include(content);

      const loadtest = uploadedFiles(resource(run, "monitoring-loadtest-container"));
      expect(Object.values(loadtest)).to.include(files[renderedPaths.loadtestOptions]);
      for (const relativePath of loadtestScriptFiles) {
        expect(Object.values(loadtest), relativePath).to.include(
          fs.readFileSync(path.join(repositoryRoot, relativePath), "utf8"),
        );
      }

      // Every rendered file reaches a container, except the rule tests, which only promtool reads.
      const everythingUploaded = byType(run, types.container).flatMap((container) =>
        Object.values(uploadedFiles(container)),
      );
      const ruleTestsDir = `${path.posix.dirname(renderedPaths.alertRuleTests)}/`;
      for (const [renderedPath, content] of Object.entries(files)) {
        if (renderedPath.startsWith(ruleTestsDir)) continue;
        expect(everythingUploaded, renderedPath).to.include(content);
      }
    });

    it("puts each file where its process is told to read it", () => {
      for (const name of ["monitoring-prometheus-0", "monitoring-prometheus-1"]) {
        const container = resource(run, name);
        const uploaded = uploadedFiles(container);
        const configFile = flag(container, "--config.file");
        expect(uploaded[configFile], `${name} ${configFile}`).to.be.a("string");
        // Rule files are named relative to the config file, as Prometheus resolves them.
        const { rule_files: ruleFiles } = parse(uploaded[configFile] ?? "") as { rule_files: string[] };
        const rulePatterns = ruleFiles.map((pattern) =>
          globToRegExp(path.posix.resolve(path.posix.dirname(configFile), pattern)),
        );
        const others = Object.keys(uploaded).filter((file) => file !== configFile);
        expect(others, name).to.have.length(2);
        for (const ruleFile of others)
          expect(
            rulePatterns.some((pattern) => pattern.test(ruleFile)),
            `${name} ${ruleFile}`,
          ).to.equal(true);
      }

      const alertmanager = resource(run, "monitoring-alertmanager-container");
      expect(Object.keys(uploadedFiles(alertmanager))).to.deep.equal([flag(alertmanager, "--config.file")]);

      // Grafana reads provisioning from the image's GF_PATHS_PROVISIONING, and dashboards from the directory the
      // provisioned dashboard provider names.
      const grafana = uploadedFiles(resource(run, "monitoring-grafana-container"));
      const provisioningDir = "/etc/grafana/provisioning";
      const providerFiles = Object.keys(grafana).filter((file) =>
        file.startsWith(`${provisioningDir}/dashboards/`),
      );
      expect(providerFiles).to.have.length(1);
      const { providers } = parse(grafana[providerFiles[0] ?? ""] ?? "") as {
        providers: { options: { path: string } }[];
      };
      const dashboardsDir = providers[0]?.options.path;
      const dashboards = Object.keys(grafana).filter((file) => path.posix.dirname(file) === dashboardsDir);
      expect(dashboards.length).to.equal(
        Object.keys(files).filter((file) => /^grafana\/.*\.json$/.test(file)).length,
      );
      expect(
        Object.keys(grafana).filter((file) => file.startsWith(`${provisioningDir}/datasources/`)),
      ).to.have.length(1);

      // k6 opens the options file named in its environment and loads the script's relative imports itself.
      const loadtest = resource(run, "monitoring-loadtest-container");
      const loadtestFiles = uploadedFiles(loadtest);
      const optionsFile = scriptEnvOf(loadtest, loadtestEnv.optionsFile);
      expect(loadtestFiles[optionsFile]).to.equal(files[renderedPaths.loadtestOptions]);
      const command = loadtest.inputs.command as string[];
      const scriptFile = command[command.length - 1] ?? "";
      const pending = [scriptFile];
      const loaded = new Set<string>();
      while (pending.length > 0) {
        const file = pending.pop() ?? "";
        if (loaded.has(file)) continue;
        loaded.add(file);
        expect(loadtestFiles[file], `k6 loads ${file}`).to.be.a("string");
        for (const match of (loadtestFiles[file] ?? "").matchAll(/from "(\.{1,2}\/[^"]+)"/g)) {
          pending.push(path.posix.resolve(path.posix.dirname(file), match[1] ?? ""));
        }
      }
      expect(loaded.size).to.equal(loadtestScriptFiles.length);
    });

    it("publishes every port on 127.0.0.1 only, on the ports the settings name", () => {
      const published = byType(run, types.container).flatMap(
        (container) => (container.inputs.ports as PortBinding[] | undefined) ?? [],
      );
      expect(published.map(({ ip }) => ip)).to.satisfy((ips: string[]) =>
        ips.every((ip) => ip === "127.0.0.1"),
      );
      expect(published.map(({ external }) => external).sort()).to.deep.equal([
        3000, 5002, 8025, 9090, 9091, 9093, 9094,
      ]);
      expect(resource(run, "monitoring-loadtest-container").inputs.ports ?? []).to.deep.equal([]);
    });

    it("pins every image: no `latest`, remote images kept on destroy, containers on image ids", () => {
      const remoteImages = byType(run, types.remoteImage);
      expect(remoteImages).to.have.length(8);
      for (const image of remoteImages) {
        const name = String(image.inputs.name);
        expect(name, image.name).to.match(/^[^:@]+:[\w][\w.-]*$/);
        expect(name, image.name).not.to.match(/:latest$/);
        expect(image.inputs.keepLocally, image.name).to.equal(true);
      }
      const [appImage] = byType(run, types.image);
      expect(String(appImage?.inputs.imageName)).not.to.match(/:latest$/);
      expect(appImage?.inputs.skipPush).to.equal(true);
      for (const container of byType(run, types.container)) {
        expect(container.inputs.image, container.name).to.match(/^sha256:[0-9a-f]{64}$/);
      }
    });

    it("gives every stateful service a volume of its own, deleted with the stack by default", () => {
      const mounts = new Map<string, string>();
      for (const name of [
        "monitoring-prometheus-0",
        "monitoring-prometheus-1",
        "monitoring-alertmanager-container",
        "monitoring-alertmanager-1-container",
        "monitoring-grafana-container",
      ]) {
        const volumes = resource(run, name).inputs.volumes as { volumeName: string; containerPath: string }[];
        expect(volumes, name).to.have.length(1);
        const [volume] = volumes;
        expect(volume?.containerPath, name).to.match(/^\//);
        expect(mounts.has(String(volume?.volumeName)), `${name} shares a volume`).to.equal(false);
        mounts.set(String(volume?.volumeName), name);
      }
      const volumes = byType(run, types.volume);
      expect(volumes.map((volume) => volume.inputs.name).sort()).to.deep.equal([...mounts.keys()].sort());
      for (const volume of volumes) {
        expect(volume.options.retainOnDelete, volume.name).to.equal(false);
        // Docker returns the existing volume for a taken name: a replacement must delete the old one first.
        expect(volume.options.deleteBeforeReplace, volume.name).to.equal(true);
      }
    });

    it("hardens and limits every container", () => {
      const { plan } = stackInputs({}, mockProject, mockStack);
      for (const container of byType(run, types.container)) {
        const { inputs } = container;
        const planned = plan.services.find((service) => service.containerName === inputs.name);
        expect(inputs.securityOpts, container.name).to.include("no-new-privileges");
        // Every capability dropped; cAdvisor alone gets one back, SYSLOG, to read OOM kills from /dev/kmsg.
        expect(inputs.capabilities, container.name).to.deep.equal({
          drops: ["ALL"],
          ...(planned?.capAdd ? { adds: [...planned.capAdd] } : {}),
        });
        expect(inputs.memory, container.name).to.be.a("number").greaterThan(0);
        expect(String(inputs.user), container.name).to.match(/^[^0:][^:]*(:\d+)?$/);
        expect(String(inputs.user), container.name).not.to.match(/^root\b/);
        // A replaced container gets SIGTERM and time to save its state (Alertmanager's silences and
        // notification log) instead of an immediate kill.
        expect(inputs.stopTimeout, container.name).to.be.a("number").at.least(10);
        expect(inputs.destroyGraceSeconds, container.name).to.be.a("number").at.least(10);
      }
    });

    it("makes the root read-only, with the planned tmpfs, wherever the plan does and no file is uploaded", () => {
      const { plan } = stackInputs({}, mockProject, mockStack);
      const readOnly: string[] = [];
      for (const service of plan.services) {
        const container = [...byType(run, types.container)].find(
          (candidate) =>
            (candidate.inputs.networksAdvanced as NetworkAttachment[])[0] !== undefined &&
            candidate.inputs.name === service.containerName,
        );
        if (container === undefined) throw new Error(`no container for ${service.key}`);
        const uploads = uploadsOf(container).length;
        const expected = service.readOnlyRootFilesystem && uploads === 0;
        expect(container.inputs.readOnly ?? false, service.key).to.equal(expected);
        if (expected) readOnly.push(service.key);
        expect(container.inputs.tmpfs ?? {}, service.key).to.deep.equal(
          Object.fromEntries(service.tmpfs.map((tmpfs) => [tmpfs.target, tmpfsOptions(tmpfs)])),
        );
      }
      // The app, the inbox and node exporter are handed no file; the others get theirs as uploads into the root.
      expect(readOnly.sort()).to.deep.equal(["app", "cadvisor", "mailpit", "node-exporter"]);
    });

    it("reports what the plan says a person opens and runs", () => {
      const { plan } = stackInputs({}, mockProject, mockStack);
      const { grafanaAdminPassword: _, deliveryCheck: __, ...reported } = run.outputs;
      expect(reported).to.deep.equal(plan.access);
    });

    it("starts the Prometheus replicas after the app, node exporter and Alertmanager, and each after the one before it", () => {
      expect(resource(run, "monitoring-prometheus-0").dependsOn).to.have.members([
        "monitoring-app-container",
        "monitoring-node-exporter-container",
        "monitoring-cadvisor-container",
        "monitoring-alertmanager-container",
        "monitoring-alertmanager-1-container",
      ]);
      expect(resource(run, "monitoring-prometheus-1").dependsOn).to.have.members([
        "monitoring-app-container",
        "monitoring-node-exporter-container",
        "monitoring-cadvisor-container",
        "monitoring-alertmanager-container",
        "monitoring-alertmanager-1-container",
        "monitoring-prometheus-0",
      ]);
    });

    it("runs node exporter on the host's PID namespace and its root, read-only, with no published port", () => {
      const { plan } = stackInputs({}, mockProject, mockStack);
      const planned = plan.services.find((service) => service.key === dockerAliases.nodeExporter);
      if (planned === undefined) throw new Error("the plan has no node exporter");
      const [component] = byType(run, types.nodeExporter);
      const container = resource(run, "monitoring-node-exporter-container");
      expect(container.parent).to.equal(component?.name);
      expect(container.inputs.name).to.equal(planned.containerName);
      expect(container.inputs.pidMode).to.equal("host");
      expect(container.inputs.volumes).to.deep.equal([
        { hostPath: "/", containerPath: "/host", readOnly: true },
      ]);
      expect(container.inputs.ports ?? []).to.deep.equal([]);
      expect(container.inputs.networkMode).to.equal(undefined);
      expect(container.inputs.user).to.equal("65534:65534");
      expect(container.inputs.readOnly).to.equal(true);
      expect(container.inputs.command).to.deep.equal(["--web.listen-address=:9100", "--path.rootfs=/host"]);
      expect((container.inputs.healthcheck as { tests: string[] }).tests).to.deep.equal([
        "CMD",
        ...(planned.healthcheck?.test ?? []),
      ]);
      expect(container.inputs.memory).to.equal(planned.memoryMb);
      // No other container sees the host's processes, nor its files but cAdvisor.
      for (const other of byType(run, types.container)) {
        if (other === container) continue;
        if (other.name === "monitoring-cadvisor-container") {
          expect(other.inputs.pidMode, other.name).to.equal(undefined);
          continue;
        }
        expect(other.inputs.pidMode, other.name).to.equal(undefined);
        for (const volume of (other.inputs.volumes as { hostPath?: string }[] | undefined) ?? [])
          expect(volume.hostPath, other.name).to.equal(undefined);
      }
    });

    it("keeps services up, replaces them safely and checks their health", () => {
      for (const container of byType(run, types.container)) {
        if (container.name === "monitoring-loadtest-container") continue;
        expect(container.inputs.restart, container.name).to.equal("unless-stopped");
        expect(container.options.deleteBeforeReplace, container.name).to.equal(true);
        expect(container.options.replaceOnChanges, container.name).to.include("healthcheck");
        const check = container.inputs.healthcheck as { tests: string[] };
        expect(check.tests[0], container.name).to.equal("CMD");
        expect(container.inputs.wait, container.name).to.equal(true);
      }
      expect(resource(run, "monitoring-network").options.deleteBeforeReplace).to.equal(true);
    });

    it("runs Prometheus with its config, its TSDB, retention, lifecycle, remote write and external URL", () => {
      const command = resource(run, "monitoring-prometheus-1").inputs.command as string[];
      expect(command).to.include.members([
        `--config.file=${prometheusConfigFile}`,
        "--storage.tsdb.path=/prometheus",
        "--storage.tsdb.retention.time=15d",
        "--web.enable-lifecycle",
        "--web.enable-remote-write-receiver",
        "--web.external-url=http://127.0.0.1:9091",
      ]);
    });

    it("runs the load test once: not restarted, not kept running, and after the services it loads", () => {
      const loadtest = resource(run, "monitoring-loadtest-container");
      expect(loadtest.inputs.restart).to.equal("no");
      expect(loadtest.inputs.mustRun).to.equal(false);
      expect(loadtest.options.deleteBeforeReplace).to.equal(true);
      const command = loadtest.inputs.command as string[];
      expect(command.slice(0, 1)).to.deep.equal(["run"]);
      expect(command.join(" ")).to.match(/--tag testid=watchtower-[0-9a-f]{12}/);
      expect(command.join(" ")).to.include("experimental-prometheus-rw");
      expect(loadtest.options.dependsOn).to.have.length(8);
      expect(run.outputs.loadtestRerun).to.equal(`docker start --attach ${root}-loadtest`);
    });

    it("reports every UI and the Grafana login, the password as a secret", async () => {
      const { outputs } = run;
      expect(outputs.appUrl).to.equal("http://127.0.0.1:5002");
      expect(outputs.prometheusUrls).to.deep.equal(["http://127.0.0.1:9090", "http://127.0.0.1:9091"]);
      expect(outputs.alertmanagerUrls).to.deep.equal(["http://127.0.0.1:9093", "http://127.0.0.1:9094"]);
      expect(outputs.grafanaUrl).to.equal("http://127.0.0.1:3000");
      expect(outputs.mailpitUrl).to.equal("http://127.0.0.1:8025");
      expect(outputs.grafanaAdminUser).to.equal("admin");
      expect(await pulumi.isSecret(outputs.grafanaAdminPassword)).to.equal(true);
    });

    it("generates the Grafana password and keeps it out of every plain input", () => {
      const generated = mockGeneratedPassword("monitoring-grafana-admin-password");
      const strings = [...run.resources.values()].map((resource) => collectStrings(resource.inputs));
      expect(strings.flatMap(({ plain }) => plain).filter((text) => text.includes(generated))).to.deep.equal(
        [],
      );
      expect(strings.flatMap(({ secret }) => secret)).to.include(generated);
    });

    it("proves delivery once Alertmanager and the inbox are up, through their published ports", () => {
      const [check] = [...run.resources.values()].filter(
        (resource) => resource.type === "pulumi-nodejs:dynamic/watchtower:DeliveryCheck",
      );
      expect(check?.dependsOn).to.have.members([
        "monitoring-alertmanager-container",
        "monitoring-alertmanager-1-container",
        "monitoring-inbox-container",
      ]);
      expect(check?.inputs.alertmanagerUrl).to.equal(run.outputs.alertmanagerUrls[0]);
      expect(check?.inputs.inboxUrl).to.equal(run.outputs.mailpitUrl);
    });

    it("sends alerts to the inbox with no SMTP password file", () => {
      const files = Object.keys(uploadedFiles(resource(run, "monitoring-alertmanager-container")));
      expect(files).not.to.include(alertmanagerSmtpPasswordFile);
    });
  });

  describe("with the SMTP password in a file (email.authPasswordFile)", () => {
    const password = "smtp-password-from-a-file";
    let dir: TempDir;
    before(() => {
      dir = makeTempDir("smtp-password-");
      fs.writeFileSync(path.join(dir.path, "smtp-password"), `${password}\n`);
    });
    after(() => dir.remove());
    const email = (file: string) => ({
      email: {
        smarthost: "smtp.example.com:587",
        authUsername: "alerts@example.com",
        authPasswordFile: file,
      },
    });

    it("uploads the file's content as a secret beside the config that names it, and in no plain input", async () => {
      const run = await runStack(email(path.join(dir.path, "smtp-password")));
      const alertmanager = resource(run, "monitoring-alertmanager-container");
      expect(uploadedFiles(alertmanager)[alertmanagerSmtpPasswordFile]).to.equal(`${password}\n`);
      const strings = [...run.resources.values()].map((declared) => collectStrings(declared.inputs));
      expect(strings.flatMap(({ plain }) => plain).filter((text) => text.includes(password))).to.deep.equal(
        [],
      );
    });

    it("stops before any resource, naming the setting, when the file cannot be read", async () => {
      const registered: string[] = [];
      const failure = await runStack(email(path.join(dir.path, "missing")), [], registered).catch(
        (error: unknown) => error,
      );
      expect(pulumi.RunError.isInstance(failure)).to.equal(true);
      expect((failure as Error).message).to.include("email.authPasswordFile: cannot read");
      expect(registered.filter((entry) => entry !== `pulumi:pulumi:Stack ${root}`)).to.deep.equal([]);
    });
  });

  describe("with passwords in the stack config", () => {
    const grafanaPassword = "grafana-admin-password-7c1d";
    const smtpPassword = "smtp-password-90ab";
    const config: StackConfig = {
      grafana: { adminUser: "ops", adminPassword: grafanaPassword },
      email: {
        smarthost: "smtp.example.com:587",
        authUsername: "alerts@example.com",
        authPassword: smtpPassword,
      },
    };
    let run: StackRun;

    before(async () => {
      run = await runStack(config, ["grafana", "email"]);
    });

    it("passes both passwords only as secrets: never in a plain input", () => {
      const strings = [...run.resources.values()].map((resource) => collectStrings(resource.inputs));
      const plain = strings.flatMap((found) => found.plain);
      expect(
        plain.filter((text) => text.includes(grafanaPassword) || text.includes(smtpPassword)),
      ).to.deep.equal([]);
      const secret = strings.flatMap((found) => found.secret);
      expect(secret).to.include(grafanaPassword);
      expect(secret).to.include(smtpPassword);
    });

    it("writes each password into its own file, read-only and naming no owner, and into no other file", () => {
      const holders: string[] = [];
      for (const container of byType(run, types.container)) {
        for (const upload of uploadsOf(container)) {
          const content = String(upload.content);
          if (!content.includes(grafanaPassword) && !content.includes(smtpPassword)) continue;
          holders.push(upload.file);
          // Engine 20.10 cannot chown an upload to a numeric owner: the file is world-readable in its container.
          expect(upload.permissions, upload.file).to.equal("0444");
          expect(upload.owner, upload.file).to.equal(undefined);
        }
      }
      // Each Alertmanager replica has its own copy.
      expect(holders.sort()).to.deep.equal(
        [alertmanagerSmtpPasswordFile, alertmanagerSmtpPasswordFile, grafanaAdminPasswordFile].sort(),
      );
      const grafana = resource(run, "monitoring-grafana-container");
      expect(grafana.inputs.envs).to.include(`GF_SECURITY_ADMIN_PASSWORD__FILE=${grafanaAdminPasswordFile}`);
      expect(uploadedFiles(grafana)[grafanaAdminPasswordFile]).to.equal(grafanaPassword);
    });

    it("uploads the SMTP password as a file only Alertmanager's user can read, next to the config naming it", () => {
      const alertmanager = resource(run, "monitoring-alertmanager-container");
      const passwordFile = uploadsOf(alertmanager).find(
        (upload) => upload.file === alertmanagerSmtpPasswordFile,
      );
      expect(passwordFile?.permissions).to.equal("0444");
      expect(passwordFile?.content).to.equal(smtpPassword);
      const rendered = parse(uploadedFiles(alertmanager)[flag(alertmanager, "--config.file")] ?? "") as {
        receivers: { email_configs?: { auth_password_file?: string }[] }[];
      };
      const named = rendered.receivers.flatMap((receiver) => receiver.email_configs ?? [])[0]
        ?.auth_password_file;
      expect(path.posix.resolve(String(alertmanager.inputs.workingDir), String(named))).to.equal(
        alertmanagerSmtpPasswordFile,
      );
    });

    it("uses the configured Grafana login, generates no password and exports it as a secret", async () => {
      expect(byType(run, types.password)).to.deep.equal([]);
      expect(run.outputs.grafanaAdminUser).to.equal("ops");
      const envs = resource(run, "monitoring-grafana-container").inputs.envs as string[];
      expect(envs).to.include("GF_SECURITY_ADMIN_USER=ops");
      expect(await pulumi.isSecret(run.outputs.grafanaAdminPassword)).to.equal(true);
    });

    it("sends alerts to the configured server and runs no inbox", () => {
      expect(byType(run, types.inbox)).to.deep.equal([]);
      expect(run.outputs.mailpitUrl).to.equal("no inbox: alert e-mail goes to smtp.example.com:587");
      expect(dialledEndpoints(run).map(({ target }) => target)).to.include("smtp.example.com:587");
    });
  });

  describe("the start order", () => {
    const { plan } = stackInputs({ prometheus: { replicas: 3 } }, mockProject, mockStack);
    const keysOf = (services: readonly ServicePlan[]) =>
      componentsInStartOrder(services).flatMap((component) =>
        component.services.map((service) => service.key),
      );
    const placedBefore = (order: string[]) => {
      for (const service of plan.services) {
        for (const after of service.after) {
          expect(order.indexOf(after), `${after} before ${service.key}`).to.be.lessThan(
            order.indexOf(service.key),
          );
        }
      }
    };

    it("comes from the plan's `after`, whatever order the plan lists its services in", () => {
      placedBefore(keysOf(plan.services));
      placedBefore(keysOf([...plan.services].reverse()));
      // The replicas are one component, each after the one before it.
      const prometheus = componentsInStartOrder([...plan.services].reverse()).find(
        (component) => component.key === "prometheus",
      );
      expect(prometheus?.services.map((service) => service.key)).to.have.members([
        "prometheus-0",
        "prometheus-1",
        "prometheus-2",
      ]);
    });

    it("fails naming the service when `after` names a service the plan lacks, or forms a cycle", () => {
      const alertmanager = plan.services.find((service) => service.key === "alertmanager") as ServicePlan;
      const grafana = plan.services.find((service) => service.key === "grafana") as ServicePlan;
      expect(() => componentsInStartOrder([{ ...alertmanager, after: ["smtp-relay"] }])).to.throw(
        "alertmanager starts after smtp-relay, which the deployment plan does not have",
      );
      expect(() =>
        componentsInStartOrder([
          { ...alertmanager, after: ["grafana"] },
          { ...grafana, after: ["alertmanager"] },
        ]),
      ).to.throw("the plan's start order has a cycle among alertmanager, grafana");
    });

    it("declares every container with `dependsOn` exactly the containers of its planned `after`", async () => {
      const run = await runStack({ prometheus: { replicas: 3 } });
      const containerOf = new Map(
        byType(run, types.container).map((container) => [String(container.inputs.name), container.name]),
      );
      for (const service of plan.services) {
        const container = resource(run, containerOf.get(service.containerName) ?? "");
        expect(container.dependsOn, service.key).to.have.members(
          service.after.map((key) => {
            const after = plan.services.find((candidate) => candidate.key === key);
            return containerOf.get(after?.containerName ?? "");
          }),
        );
      }
    });
  });

  describe("when a setting changes", () => {
    let baseline: StackRun;
    before(async () => {
      baseline = await runStack({});
    });

    it("a rule-only setting changes the rule upload of the Prometheus containers and nothing else", async () => {
      const after = await runStack({ alerts: { instanceDown: { for: "45s" } } });
      const rules = prometheusRulesFile();
      expect(changedInputs(baseline, after).sort()).to.deep.equal([
        `monitoring-prometheus-0.uploads.${rules}.content`,
        `monitoring-prometheus-1.uploads.${rules}.content`,
      ]);
    });

    it("the request-volume threshold changes the rules, its dashboard line and the load test's rates only", async () => {
      const after = await runStack({ alerts: { highRequestVolume: { maxRequests: 600 } } });
      const changed = changedInputs(baseline, after);
      const resources = new Set(changed.map((change) => change.slice(0, change.indexOf("."))));
      expect([...resources].sort()).to.deep.equal([
        "monitoring-grafana-container",
        "monitoring-loadtest-container",
        "monitoring-prometheus-0",
        "monitoring-prometheus-1",
      ]);
      const rules = prometheusRulesFile();
      expect(changed.filter((change) => change.startsWith("monitoring-prometheus"))).to.have.members([
        `monitoring-prometheus-0.uploads.${rules}.content`,
        `monitoring-prometheus-1.uploads.${rules}.content`,
      ]);
      for (const change of changed.filter((text) => text.startsWith("monitoring-grafana"))) {
        expect(change).to.match(
          /^monitoring-grafana-container\.uploads\.\/etc\/grafana\/dashboards\/[^/]+\.json\.content$/,
        );
      }
    });
  });

  describe("with prometheus.replicas", () => {
    it("1: one Prometheus, and a warning that PrometheusDown cannot fire", async () => {
      const run = await runStack({ prometheus: { replicas: 1 } });
      expect(
        byType(run, types.container).filter((container) => /prometheus-\d+$/.test(container.name)),
      ).to.have.length(1);
      expect(run.warnings).to.deep.equal(loadSettings({ prometheus: { replicas: 1 } }).warnings);
      expect(run.warnings.join("\n")).to.include("PrometheusDown");
    });

    it("3: three Prometheus, each scraping every other", async () => {
      const run = await runStack({ prometheus: { replicas: 3 } });
      const replicas = byType(run, types.container).filter((container) =>
        /prometheus-\d+$/.test(container.name),
      );
      expect(replicas).to.have.length(3);
      const aliases = replicas.map(
        (replica) => (replica.inputs.networksAdvanced as NetworkAttachment[])[0]?.aliases?.[0],
      );
      for (const replica of replicas) {
        const config = parse(uploadedFiles(replica)[prometheusConfigFile] ?? "") as {
          scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
        };
        const prometheusJob = config.scrape_configs.find((job) => job.job_name === "prometheus");
        const scrapedHosts = (prometheusJob?.static_configs ?? [])
          .flatMap((staticConfig) => staticConfig.targets)
          .map((target) => target.slice(0, target.lastIndexOf(":")));
        expect(scrapedHosts, replica.name).to.include.members(aliases as string[]);
      }
      expect(run.outputs.prometheusUrls).to.have.length(3);
    });
  });

  describe("with targets and services of the user's own", () => {
    const orders = {
      job: "orders",
      image: "ghcr.io/acme/orders:1.4.2",
      port: 8080,
      env: { LOG_LEVEL: "info" },
      httpContract: true,
      healthcheck: ["wget", "-q", "-O-", "http://localhost:8080/healthz"],
    };
    let run: StackRun;
    before(async () => {
      run = await runStack({
        targets: [{ job: "billing", addresses: ["host.docker.internal:8080"] }],
        services: [orders],
      });
    });

    it("runs the service's pinned image, hardened like the stack's own, reachable by its job name and not published", () => {
      const container = resource(run, "monitoring-service-orders-container");
      const { inputs } = container;
      expect(resource(run, "monitoring-service-orders-image").inputs.name).to.equal(orders.image);
      expect(inputs.securityOpts).to.deep.equal(["no-new-privileges"]);
      expect(inputs.capabilities).to.deep.equal({ drops: ["ALL"] });
      expect(inputs.memory).to.be.a("number").greaterThan(0);
      expect(inputs.memorySwap).to.equal(inputs.memory);
      expect(inputs.logOpts).to.deep.equal({ "max-size": "10m", "max-file": "3" });
      expect(inputs.restart).to.equal("unless-stopped");
      expect(inputs.ports).to.deep.equal([]);
      expect(inputs.envs).to.deep.equal(["LOG_LEVEL=info"]);
      expect((inputs.networksAdvanced as NetworkAttachment[])[0]?.aliases).to.deep.equal(["orders"]);
      expect((inputs.healthcheck as { tests: string[] }).tests).to.deep.equal(["CMD", ...orders.healthcheck]);
      // Its image's own user: nothing here knows which one it runs as.
      expect(inputs.user).to.equal(undefined);
    });

    it("maps host.docker.internal to the Docker host in every Prometheus, the service and the load test", () => {
      for (const name of [
        "monitoring-prometheus-0",
        "monitoring-prometheus-1",
        "monitoring-service-orders-container",
        "monitoring-loadtest-container",
      ]) {
        expect(resource(run, name).inputs.hosts, name).to.deep.equal([
          { host: "host.docker.internal", ip: "host-gateway" },
        ]);
      }
    });

    it("starts the Prometheus replicas after the service, so a fresh stack fires no InstanceDown for it", () => {
      expect(resource(run, "monitoring-prometheus-0").dependsOn).to.include(
        "monitoring-service-orders-container",
      );
    });

    it("runs no demo app when app.enabled is false, and says so", async () => {
      const off = await runStack({
        app: { enabled: false },
        loadtest: { enabled: false },
        services: [orders],
      });
      expect(byType(off, types.app)).to.deep.equal([]);
      expect(byType(off, types.image)).to.deep.equal([]);
      expect(off.outputs.appUrl).to.equal("the demo app is off: app.enabled is false");
    });
  });

  describe("with other settings", () => {
    it("publishes on the bind address the user chose, and warns when that is every interface", async () => {
      const run = await runStack({ network: { bindAddress: "0.0.0.0" } });
      const ips = byType(run, types.container).flatMap((container) =>
        ((container.inputs.ports as PortBinding[] | undefined) ?? []).map(({ ip }) => ip),
      );
      expect(ips).to.have.length(7);
      expect(new Set(ips)).to.deep.equal(new Set(["0.0.0.0"]));
      expect(run.warnings.join("\n")).to.include("network.bindAddress is 0.0.0.0");
    });

    it("retains the volumes on destroy when data.keepOnDestroy is set", async () => {
      const run = await runStack({ data: { keepOnDestroy: true } });
      const volumes = byType(run, types.volume);
      expect(volumes).to.have.length(5);
      for (const volume of volumes) expect(volume.options.retainOnDelete, volume.name).to.equal(true);
    });

    it("runs no delivery check when delivery.checkOnUp is false, and says so", async () => {
      const run = await runStack({ delivery: { checkOnUp: false } });
      expect(
        [...run.resources.values()].filter(
          (resource) => resource.type === "pulumi-nodejs:dynamic/watchtower:DeliveryCheck",
        ),
      ).to.deep.equal([]);
      expect(run.outputs.deliveryCheck).to.equal("off: delivery.checkOnUp is false");
    });

    it("runs cAdvisor with the read-only mounts of its README, /dev/kmsg and no published port, not privileged", async () => {
      const run = await runStack({});
      const { plan } = stackInputs({}, mockProject, mockStack);
      const planned = plan.services.find((service) => service.key === dockerAliases.cadvisor);
      if (planned === undefined) throw new Error("the plan has no cAdvisor");
      const [component] = byType(run, types.cadvisor);
      const container = resource(run, "monitoring-cadvisor-container");
      expect(container.parent).to.equal(component?.name);
      expect(container.inputs.name).to.equal(planned.containerName);
      expect(container.inputs.volumes).to.deep.equal([
        { hostPath: "/", containerPath: "/rootfs", readOnly: true },
        { hostPath: "/var/run", containerPath: "/var/run", readOnly: true },
        { hostPath: "/sys", containerPath: "/sys", readOnly: true },
        { hostPath: "/var/lib/docker", containerPath: "/var/lib/docker", readOnly: true },
      ]);
      expect(container.inputs.devices).to.deep.equal([
        { hostPath: "/dev/kmsg", containerPath: "/dev/kmsg", permissions: "r" },
      ]);
      expect(container.inputs.privileged).to.equal(undefined);
      expect(container.inputs.capabilities).to.deep.equal({ drops: ["ALL"], adds: ["CAP_SYSLOG"] });
      expect(container.inputs.ports ?? []).to.deep.equal([]);
      expect(container.inputs.readOnly).to.equal(true);
      expect(container.inputs.command).to.deep.equal([
        "--port=8080",
        "--docker_only=true",
        "--store_container_labels=false",
      ]);
      expect(container.inputs.memory).to.equal(planned.memoryMb);
      const off = await runStack({ host: { containers: false } });
      expect(off.resources.has("monitoring-cadvisor-container")).to.equal(false);
      expect(off.resources.has("monitoring-node-exporter-container")).to.equal(true);
    });

    it("declares no node exporter when host.enabled is false", async () => {
      const run = await runStack({ host: { enabled: false } });
      expect(byType(run, types.nodeExporter)).to.deep.equal([]);
      expect(run.resources.has("monitoring-node-exporter-container")).to.equal(false);
      expect(run.resources.has("monitoring-cadvisor-container")).to.equal(false);
      expect(byType(run, types.container)).to.have.length(8);
      expect(resource(run, "monitoring-prometheus-0").dependsOn).to.have.members([
        "monitoring-app-container",
        "monitoring-alertmanager-container",
        "monitoring-alertmanager-1-container",
      ]);
    });

    it("declares the blackbox exporter only while there are probes: no published port, as nobody, its modules uploaded", async () => {
      expect(byType(await runStack({}), types.blackboxExporter)).to.deep.equal([]);
      const probes = { probes: [{ name: "site", http: { url: "https://example.com/" } }] };
      const run = await runStack(probes);
      const { plan, files } = stackInputs(probes, mockProject, mockStack);
      const planned = plan.services.find((service) => service.key === dockerAliases.blackboxExporter);
      if (planned === undefined) throw new Error("the plan has no blackbox exporter");
      const [component] = byType(run, types.blackboxExporter);
      const container = resource(run, "monitoring-blackbox-exporter-container");
      expect(container.parent).to.equal(component?.name);
      expect(container.inputs.name).to.equal(planned.containerName);
      expect(container.inputs.ports ?? []).to.deep.equal([]);
      expect(container.inputs.user).to.equal("65534:65534");
      expect(container.inputs.capabilities).to.deep.equal({ drops: ["ALL"] });
      expect(container.inputs.command).to.deep.equal([
        "--web.listen-address=:9115",
        "--config.file=/etc/blackbox_exporter/config.yml",
      ]);
      expect(container.inputs.memory).to.equal(planned.memoryMb);
      expect((container.inputs.healthcheck as { tests: string[] }).tests).to.deep.equal([
        "CMD",
        ...(planned.healthcheck?.test ?? []),
      ]);
      // Pulumi uploads the modules into the container's root, which a read-only root would refuse.
      expect(container.inputs.readOnly).to.equal(undefined);
      expect(
        (container.inputs.uploads as { file: string; content: string }[]).map(({ file, content }) => [
          file,
          content,
        ]),
      ).to.deep.equal([["/etc/blackbox_exporter/config.yml", files["blackbox/blackbox.yml"]]]);
      expect(byType(run, types.container)).to.have.length(11);
      expect(resource(run, "monitoring-prometheus-0").dependsOn).to.include(
        "monitoring-blackbox-exporter-container",
      );
    });

    it("declares no load test when loadtest.enabled is false, and says how to turn it on", async () => {
      const run = await runStack({ loadtest: { enabled: false } });
      expect(byType(run, types.loadtest)).to.deep.equal([]);
      expect(run.outputs.loadtestRerun).to.include("loadtest.enabled");
    });
  });

  describe("with invalid settings", () => {
    const invalid: StackConfig = {
      scrape: { interval: "5 seconds" },
      ports: { grafana: 5002 },
      alerts: { highRequestVolume: { maxRequests: -1 } },
      prometheusReplicas: 2,
    };

    it("checks the load test's plan with the other settings, and only while the load test is on", async () => {
      const tooFewRequests = { alerts: { highRequestVolume: { maxRequests: 1 } } };
      let failure: unknown;
      const registered: string[] = [];
      try {
        await runStack(tooFewRequests, [], registered);
      } catch (error) {
        failure = error;
      }
      expect(pulumi.RunError.isInstance(failure)).to.equal(true);
      expect((failure as Error).message).to.include("loadtest.warmupFraction");
      expect(registered.filter((resource) => resource !== `pulumi:pulumi:Stack ${root}`)).to.deep.equal([]);

      const withoutLoadtest = await runStack({ ...tooFewRequests, loadtest: { enabled: false } });
      expect(byType(withoutLoadtest, types.loadtest)).to.deep.equal([]);
    });

    it("has the pinned promtool judge custom alerts that only Prometheus refuses, before any resource", async function () {
      requireBinaries(this, "promtool");
      const refused = {
        alerts: {
          custom: [
            {
              name: "Fine",
              expr: "up == 0",
              summary: "Down.",
              description: "{{ $labels.instance }} is down.",
            },
            { name: "TwoArguments", expr: "sum(up, up) > 0", summary: "Odd.", description: "Odd." },
          ],
        },
      };
      // The UI's linter lets this one through; Prometheus would refuse to start with it.
      expect(() => loadSettings(refused)).not.to.throw();
      const registered: string[] = [];
      const failure = await runStack(refused, [], registered).catch((error: unknown) => error);
      expect(pulumi.RunError.isInstance(failure)).to.equal(true);
      expect((failure as Error).message)
        .to.include("alerts.custom[1].expr")
        .and.include("wrong number of arguments for aggregate expression")
        .and.not.include("alerts.custom[0]");
      expect(registered.filter((resource) => resource !== `pulumi:pulumi:Stack ${root}`)).to.deep.equal([]);
    });

    it("fails before declaring any resource, with the messages validation gives", async () => {
      const expected = (() => {
        try {
          loadSettings(invalid);
        } catch (error) {
          return (error as Error).message;
        }
        throw new Error("the settings were expected to be invalid");
      })();
      expect(expected)
        .to.include("scrape.interval")
        .and.include("ports.grafana")
        .and.include("prometheusReplicas");

      let failure: unknown;
      const registered: string[] = [];
      try {
        await runStack(invalid, [], registered);
      } catch (error) {
        failure = error;
      }
      // A RunError: Pulumi prints its message without a stack trace.
      expect(pulumi.RunError.isInstance(failure)).to.equal(true);
      expect((failure as Error).message).to.equal(expected);
      // The root stack is Pulumi's own, registered before the program runs.
      expect(registered.filter((resource) => resource !== `pulumi:pulumi:Stack ${root}`)).to.deep.equal([]);
    });
  });
});
