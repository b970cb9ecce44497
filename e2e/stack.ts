/**
 * The alerting pipeline on loopback: the service, the Prometheus replicas, Alertmanager and an SMTP inbox, each
 * a real process configured by the same renderers as the Docker stack. Only the endpoints differ: free loopback
 * ports instead of container aliases. A plain async API (no mocha), so that the benchmarks drive the same stack.
 *
 * Everything lives in one temporary directory: the rendered files in their `renderedPaths` layout, the data
 * directories, and one log per process, whose tails are printed whenever a wait fails.
 */
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { smtpPasswordFile } from "../configs/alertmanager/config";
import { k6RunCommand, loadtestScriptPath } from "../configs/loadtest/plan";
import { alertmanagerReplicaName, jobs, replicaName } from "../configs/names";
import { prometheusSyntheticSeries } from "../configs/promql/upstream-metrics";
import { renderAll } from "../configs/render";
import { type Endpoints, firstReplica, type HostPort, hostPort } from "../configs/runtime/endpoints";
import { renderedPaths, writeRenderedFiles } from "../configs/runtime/layout";
import {
  alertmanagerFlags,
  blackboxExporterFlags,
  nodeExporterFlags,
  prometheusFlags,
} from "../configs/runtime/server-flags";
import { dockerHosts, machineExporters } from "../configs/settings/hosts";
import { probeTarget } from "../configs/settings/probes";
import type { Settings } from "../configs/settings/schema";
import { loadSettings } from "../configs/validate";
import { metricNames, probePaths } from "../service/metrics-contract";
import { makeTempDir, type TempDir } from "../test-support/cleanup";
import { boundedFetch } from "../test-support/http";
import { k6StartupBudgetMs } from "../test-support/k6";
import { freePort, loopback } from "../test-support/ports";
import { ManagedProcess } from "../test-support/processes";
import { PrometheusClient } from "../test-support/prometheus-client";
import { parseExposition } from "../test-support/service";
import { type Waited, waitFor } from "../test-support/wait";
import { AlertmanagerClient } from "./alertmanager-client";
import { Inbox } from "./inbox";

const repoRoot = resolve(__dirname, "..");

/** Starting a Prometheus or the service under tsx takes a few seconds on a busy two-core machine. */
export const readinessTimeoutMs = 30_000;

/** How often the service's request counter is read while waiting for k6's first request: its precision. */
const firstRequestPollMs = 50;

export interface StackBinaries {
  readonly prometheus: string;
  readonly alertmanager: string;
  /** Needed while `host.enabled`: node exporter, watching this machine as the stack watches its host. */
  readonly nodeExporter?: string;
  /**
   * Needed while there are `probes`: the blackbox exporter, and the certificates it trusts (its SSL_CERT_FILE)
   * when not the system's, for a test's own HTTPS server.
   */
  readonly blackboxExporter?: { readonly binary: string; readonly trustedCertificates?: string };
}

export interface LoadtestRun {
  /** `performance.now()` when k6 was started, comparable with `ReceivedEmail.receivedAt`. */
  readonly startedAt: number;
  readonly startedAtDate: Date;
  /**
   * `performance.now()` when the service was seen to have counted k6's first request (late by at most one poll
   * interval and one read of /metrics): where the load test's plan starts counting, after k6 compiled its
   * script and started its VUs.
   */
  readonly firstRequestAt: number;
  readonly process: ManagedProcess;
}

export interface StackOptions {
  /** Raw settings, as under the project's namespace in `Pulumi.<stack>.yaml`; `{}` means the shipped defaults. */
  readonly settings: unknown;
  readonly binaries: StackBinaries;
  /** Progress and measured times; defaults to console.log. */
  readonly log?: (line: string) => void;
  /**
   * The replicas' password for the exporters of `hosts[].docker`, which `pulumi up` would generate; needed
   * while there are any. Each one's CA is read from the file its settings name.
   */
  readonly hostExporterPassword?: string;
}

/** Names of the stack's processes, as they appear in log file names and failure messages. */
const appName = "app";
const nodeExporterName = "node-exporter";
const blackboxExporterName = "blackbox-exporter";

export class Stack {
  readonly inbox: Inbox;
  readonly prometheus: readonly PrometheusClient[];
  /** One client per Alertmanager replica, in replica order. */
  readonly alertmanagers: readonly AlertmanagerClient[];
  readonly log: (line: string) => void;
  private currentSettings: Settings;
  private files: Readonly<Record<string, string>> = {};
  /** Processes by name; `undefined` while a scenario has stopped one on purpose. */
  private readonly processes = new Map<string, ManagedProcess | undefined>();
  /** Runs that end by themselves, such as k6: their logs join the diagnostics, their exit is no failure. */
  private readonly runs: ManagedProcess[] = [];

  private constructor(
    private readonly tempDir: TempDir,
    private readonly binaries: StackBinaries,
    settings: Settings,
    readonly endpoints: Endpoints,
    inbox: Inbox,
    log: (line: string) => void,
    private readonly hostExporterPassword: string | undefined,
  ) {
    this.currentSettings = settings;
    this.inbox = inbox;
    this.log = log;
    this.prometheus = endpoints.prometheus.map((address) => new PrometheusClient(`http://${address}`));
    this.alertmanagers = endpoints.alertmanagers.map(
      (address) => new AlertmanagerClient(`http://${address}`),
    );
  }

  /** Replica 0 of Alertmanager: any replica shows the cluster's silences, and this one is there however many. */
  get alertmanager(): AlertmanagerClient {
    return firstReplica(this.alertmanagers, "Alertmanager");
  }

  /** Renders the files for `options.settings`, starts every process and waits until each one is ready. */
  static async start(options: StackOptions): Promise<Stack> {
    const log = options.log ?? console.log;
    const { settings, warnings } = loadSettings(options.settings);
    for (const warning of warnings) log(`      settings warning: ${warning}`);
    if (settings.host.enabled && options.binaries.nodeExporter === undefined) {
      throw new Error(
        "host.enabled is true but no node_exporter binary was given (binaries.nodeExporter): pass it, or set host.enabled to false",
      );
    }
    if (dockerHosts(settings.hosts).length > 0 && options.hostExporterPassword === undefined) {
      throw new Error(
        "hosts has entries of the docker kind but no password for their exporters was given (hostExporterPassword)",
      );
    }
    if (settings.probes.length > 0 && options.binaries.blackboxExporter === undefined) {
      throw new Error(
        "there are probes but no blackbox_exporter binary was given (binaries.blackboxExporter): pass it, or list no probes",
      );
    }
    const tempDir = makeTempDir("watchtower-e2e-");
    let inbox: Inbox | undefined;
    try {
      inbox = await Inbox.open(log);
      const endpoints = await loopbackEndpoints(settings, inbox);
      const stack = new Stack(
        tempDir,
        options.binaries,
        settings,
        endpoints,
        inbox,
        log,
        options.hostExporterPassword,
      );
      try {
        stack.writeFiles();
        await Promise.all([
          ...endpoints.alertmanagers.map((_, replica) => stack.startAlertmanager(replica)),
          stack.startApp(),
          ...(settings.host.enabled ? [stack.startNodeExporter()] : []),
          ...(settings.probes.length > 0 ? [stack.startBlackboxExporter()] : []),
          ...endpoints.prometheus.map((_, replica) => stack.startPrometheus(replica)),
        ]);
      } catch (error) {
        await stack.stop();
        throw error;
      }
      return stack;
    } catch (error) {
      await inbox?.stop();
      tempDir.remove();
      throw error;
    }
  }

  get settings(): Settings {
    return this.currentSettings;
  }

  /** The temporary directory holding the rendered files, the data and the logs. */
  get dir(): string {
    return this.tempDir.path;
  }

  /** Absolute path of a rendered file, by its `renderedPaths` entry. */
  renderedFile(relativePath: string): string {
    return join(this.dir, relativePath);
  }

  /** Starts the service (again), on the same port, and waits until it answers /readyz. */
  async startApp(): Promise<void> {
    await this.startAppInstance(appName, this.endpoints.app);
  }

  /**
   * Starts another instance of the service at `address` (a target of the settings, say), under `name`, and
   * waits until it answers /readyz; the stack stops it with the rest.
   */
  async startAppInstance(name: string, address: HostPort): Promise<void> {
    const [, port] = address.split(":");
    await this.startProcess(
      name,
      {
        command: process.execPath,
        args: ["--import", "tsx", "service/main.ts"],
        cwd: repoRoot,
        env: { ...process.env, HOST: loopback, PORT: port, LOG_LEVEL: "warn" },
      },
      async () => (await boundedFetch(`http://${address}${probePaths.readiness}`)).ok,
    );
  }

  /** Starts node exporter on this machine's root, as the Docker stack runs it on its host's, and waits for it. */
  async startNodeExporter(): Promise<void> {
    const binary = this.binaries.nodeExporter;
    if (binary === undefined) throw new Error("no node_exporter binary was given");
    const address = this.endpoints.nodeExporter;
    await this.startProcess(
      nodeExporterName,
      { command: binary, args: nodeExporterFlags({ listenAddress: address, rootfs: "/" }) },
      async () => (await boundedFetch(`http://${address}/metrics`)).ok,
    );
  }

  /**
   * Starts the blackbox exporter on the rendered modules, as the Docker stack runs it, and waits for it. Its
   * modules are read at start: settings applied later with other probes need a new stack.
   */
  async startBlackboxExporter(): Promise<void> {
    const prober = this.binaries.blackboxExporter;
    if (prober === undefined) throw new Error("no blackbox_exporter binary was given");
    const address = this.endpoints.blackboxExporter;
    const { trustedCertificates } = prober;
    await this.startProcess(
      blackboxExporterName,
      {
        command: prober.binary,
        args: blackboxExporterFlags({
          listenAddress: address,
          configFile: this.renderedFile(renderedPaths.blackboxConfig),
        }),
        ...(trustedCertificates === undefined
          ? {}
          : { env: { ...process.env, SSL_CERT_FILE: trustedCertificates } }),
      },
      async () => (await boundedFetch(`http://${address}/-/healthy`)).ok,
    );
  }

  /** Kills the service abruptly (SIGKILL), as a crash would. */
  async killApp(): Promise<void> {
    await this.killProcess(appName);
  }

  async startPrometheus(replica: number): Promise<void> {
    const address = this.endpoints.prometheus[replica];
    const externalUrl = this.endpoints.links.prometheus[replica];
    const client = this.prometheus[replica];
    if (address === undefined || externalUrl === undefined || client === undefined)
      throw new RangeError(`no Prometheus replica ${replica}`);
    const name = replicaName(replica);
    await this.startProcess(
      name,
      {
        command: this.binaries.prometheus,
        args: prometheusFlags(
          {
            configFile: this.renderedFile(renderedPaths.prometheusConfig(replica)),
            dataDir: this.dataDir(name),
            listenAddress: address,
            externalUrl,
          },
          this.settings.prometheus.retention,
        ),
      },
      () => client.isReady(),
    );
  }

  /** Kills one Prometheus replica abruptly (SIGKILL); its data directory stays for a restart. */
  async killPrometheus(replica: number): Promise<void> {
    await this.killProcess(replicaName(replica));
  }

  /**
   * Starts Alertmanager replica `replica` (again), with the Docker stack's flags but loopback addresses: its
   * gossip on its own port, every other replica's as a peer. Waits until its API answers.
   */
  async startAlertmanager(replica = 0): Promise<void> {
    const configPath = this.renderedFile(renderedPaths.alertmanagerConfig);
    const name = alertmanagerReplicaName(replica);
    const gossip = this.endpoints.alertmanagerCluster;
    const listen = this.endpoints.alertmanagers[replica];
    const link = this.endpoints.links.alertmanagers[replica];
    const gossipAddress = gossip[replica];
    const client = this.alertmanagers[replica];
    if (listen === undefined || link === undefined || gossipAddress === undefined || client === undefined) {
      throw new Error(`there is no Alertmanager replica ${replica}`);
    }
    await this.startProcess(
      name,
      {
        command: this.binaries.alertmanager,
        args: alertmanagerFlags(
          { configFile: configPath, dataDir: this.dataDir(name), listenAddress: listen, externalUrl: link },
          gossip.length > 1
            ? {
                listenAddress: gossipAddress,
                peers: gossip.filter((_, other) => other !== replica),
                peerTimeout: this.settings.alertmanager.peerTimeout,
              }
            : undefined,
        ),
        // auth_password_file is resolved against the working directory (see configs/alertmanager/config.ts).
        cwd: dirname(configPath),
      },
      () => client.isReady(),
    );
  }

  /**
   * Stops Alertmanager replica `replica` the way `docker stop` does: SIGTERM, so that it writes its notification
   * log and silences to its data directory, where `startAlertmanager` finds them again.
   */
  async stopAlertmanager(replica = 0): Promise<void> {
    const name = alertmanagerReplicaName(replica);
    const running = this.processes.get(name);
    this.processes.set(name, undefined);
    await running?.stop();
  }

  /**
   * Starts the k6 load test with the rendered options against the service, writing its metrics to Prometheus
   * replica 0 through remote write, with the same command line as the Docker stack, and waits (at most
   * `k6StartupBudgetMs`) until the service has counted its first request.
   */
  async runLoadtest(k6Binary: string, testId: string): Promise<LoadtestRun> {
    const remoteWrite = this.endpoints.prometheus[0];
    if (remoteWrite === undefined)
      throw new Error("the stack has no Prometheus replica to write k6's metrics to");
    const command = k6RunCommand({
      scriptPath: join(repoRoot, loadtestScriptPath),
      optionsPath: this.renderedFile(renderedPaths.loadtestOptions),
      remoteWrite,
      testId,
    });
    const name = `k6-${testId}`;
    const countedBefore = await this.appRequestsCounted();
    const startedAt = performance.now();
    const startedAtDate = new Date();
    const run = ManagedProcess.start({
      name,
      command: k6Binary,
      args: command.args,
      cwd: repoRoot,
      env: { ...process.env, ...command.env },
      logFile: this.logFile(name),
    });
    this.runs.push(run);
    const { value: firstRequestAt } = await waitFor(
      `the service to count ${name}'s first request`,
      async () => ((await this.appRequestsCounted()) > countedBefore ? performance.now() : undefined),
      {
        timeoutMs: k6StartupBudgetMs,
        intervalMs: firstRequestPollMs,
        diagnostics: () => this.diagnostics(),
        hopeless: () => this.unexpectedExit() ?? (run.running ? undefined : `${name} exited`),
      },
    );
    return { startedAt, startedAtDate, firstRequestAt, process: run };
  }

  /** Requests the service has counted, over every route, method and status, read from its own /metrics. */
  private async appRequestsCounted(): Promise<number> {
    const url = `http://${this.endpoints.app}${probePaths.metrics}`;
    const response = await boundedFetch(url);
    if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
    return parseExposition(await response.text())
      .filter((sample) => sample.name === metricNames.requestsTotal)
      .reduce((total, sample) => total + sample.value, 0);
  }

  /**
   * Validates and renders new settings into the same files, then has every running Prometheus (and Alertmanager,
   * if its file changed) reload them, as a redeploy would. Throws if a process rejects its new configuration.
   */
  async applySettings(raw: unknown): Promise<void> {
    const { settings, warnings } = loadSettings(raw);
    for (const warning of warnings) this.log(`      settings warning: ${warning}`);
    const previous = this.files;
    this.currentSettings = settings;
    this.writeFiles();
    const reloads = this.prometheus
      .filter((_, replica) => this.processes.get(replicaName(replica)) !== undefined)
      .map((client) => client.reload());
    if (previous[renderedPaths.alertmanagerConfig] !== this.files[renderedPaths.alertmanagerConfig]) {
      reloads.push(
        ...this.alertmanagers
          .filter((_, replica) => this.processes.get(alertmanagerReplicaName(replica)) !== undefined)
          .map((client) => client.reload()),
      );
    }
    await Promise.all(reloads);
  }

  /** The longest evaluation interval of the rule groups the first replica loaded. */
  async longestRuleIntervalMs(): Promise<number> {
    const groups = (await this.prometheus[0]?.ruleGroups()) ?? [];
    return Math.max(0, ...groups.map((group) => group.interval * 1000));
  }

  /**
   * Until every rule group of every replica has evaluated since this call, so that recorded series cover what
   * came before it; the slowest group may take its whole interval, and `marginMs` more.
   */
  async waitForRuleEvaluations(marginMs: number): Promise<Waited<true>> {
    const since = Date.now();
    return this.waitFor(
      "every rule group to evaluate on every replica",
      async () => {
        for (const client of this.prometheus) {
          const groups = await client.ruleGroups();
          if (!groups.every((group) => Date.parse(group.lastEvaluation) > since)) return undefined;
        }
        return true as const;
      },
      (await this.longestRuleIntervalMs()) + marginMs,
    );
  }

  /**
   * Waits until every replica has scraped every target of the stack's own jobs successfully (the app, each
   * replica, Alertmanager, every machine's exporters): only from then on can an alert about any of them fire.
   * Prometheus applies its targets a few seconds after it starts.
   */
  waitForAllTargetsUp(timeoutMs: number): Promise<Waited<true>> {
    const expected = describeTargets([
      ...[this.endpoints.app].map((instance) => ({ job: jobs.app, instance })),
      ...this.endpoints.prometheus.map((instance) => ({ job: jobs.prometheus, instance })),
      ...this.endpoints.alertmanagers.map((instance) => ({ job: jobs.alertmanager, instance })),
      ...(this.settings.host.enabled ? [{ job: jobs.node, instance: this.endpoints.nodeExporter }] : []),
      ...this.settings.hosts
        .map(machineExporters)
        .flatMap((address) => [
          { job: jobs.node, instance: address.nodeExporter },
          ...(address.cadvisor === undefined ? [] : [{ job: jobs.cadvisor, instance: address.cadvisor }]),
        ]),
      // The exporter answers for a probe even when the probe fails: up is the exporter's, probe_success the probe's.
      ...this.settings.probes.map((probe) => ({ job: jobs.probe, instance: probeTarget(probe) })),
    ]);
    return this.waitFor(
      "every target up on every replica",
      async () => {
        for (const [replica, client] of this.prometheus.entries()) {
          // The stack's own targets: targets of the settings are the scenarios' to check.
          const own = new Set<string>(Object.values(jobs));
          const samples = (await client.query(prometheusSyntheticSeries.up)).filter((sample) =>
            own.has(sample.labels.job ?? ""),
          );
          const seen = describeTargets(
            samples.map((sample) => ({
              job: sample.labels.job ?? "(no job)",
              instance: `${sample.labels.instance}${sample.value === 1 ? "" : ` (up=${sample.value})`}`,
            })),
          );
          if (seen !== expected)
            throw new Error(`replica ${replica} has up=1 for ${seen || "nothing"}; expected ${expected}`);
        }
        return true as const;
      },
      timeoutMs,
    );
  }

  /**
   * Polls until `probe` returns a value; on failure the error carries the tail of every process's log and the
   * inbox's contents, and a process of the stack that died unexpectedly ends the wait at once.
   */
  waitFor<T>(
    description: string,
    probe: () => Promise<T | undefined> | T | undefined,
    timeoutMs: number,
  ): Promise<Waited<T>> {
    return waitFor(description, probe, {
      timeoutMs,
      diagnostics: () => this.diagnostics(),
      hopeless: () => this.unexpectedExit(),
    });
  }

  /** What the inbox holds and the tail of every process's log, for failure messages. */
  diagnostics(): string {
    const tails = [...this.processes.keys()].map((name) => {
      const running = this.processes.get(name);
      return running ? running.tail() : `── ${name}: stopped by the scenario`;
    });
    return [this.inbox.summary(), ...tails, ...this.runs.map((run) => run.tail())].join("\n");
  }

  /** Stops every process, the inbox, and removes the temporary directory. Safe to call more than once. */
  async stop(): Promise<void> {
    const running = [...this.processes.values(), ...this.runs].filter((process) => process !== undefined);
    for (const name of this.processes.keys()) this.processes.set(name, undefined);
    await Promise.all(running.map((process) => process.stop()));
    await this.inbox.stop();
    this.tempDir.remove();
  }

  private logFile(name: string): string {
    const path = join(this.dir, "logs", `${name}.log`);
    mkdirSync(dirname(path), { recursive: true });
    return path;
  }

  private dataDir(name: string): string {
    const path = join(this.dir, "data", name);
    mkdirSync(path, { recursive: true });
    return path;
  }

  private writeFiles(): void {
    const files = renderAll(this.settings, this.endpoints);
    writeRenderedFiles(this.dir, files);
    const password = this.settings.email.authPassword;
    if (password !== undefined) {
      const path = join(dirname(this.renderedFile(renderedPaths.alertmanagerConfig)), smtpPasswordFile);
      writeFileSync(path, password, { mode: 0o600 });
    }
    // What pulumi up hands the replicas for the machines of the docker kind: their CAs and the password.
    for (const host of dockerHosts(this.settings.hosts)) {
      const target = this.renderedFile(renderedPaths.hostExporterCa(host.name));
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(host.docker.exporterTls.caFile, target);
    }
    if (this.hostExporterPassword !== undefined) {
      const target = this.renderedFile(renderedPaths.hostExporterPassword);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, this.hostExporterPassword, { mode: 0o600 });
    }
    this.files = files;
  }

  private async startProcess(
    name: string,
    spec: { command: string; args: readonly string[]; cwd?: string; env?: NodeJS.ProcessEnv },
    isReady: () => Promise<boolean>,
  ): Promise<void> {
    if (this.processes.get(name)?.running) throw new Error(`${name} is already running`);
    const started = ManagedProcess.start({ name, logFile: this.logFile(name), ...spec });
    this.processes.set(name, started);
    await this.waitFor(
      `${name} to be ready`,
      async () => ((await isReady()) ? true : undefined),
      readinessTimeoutMs,
    );
  }

  private async killProcess(name: string): Promise<void> {
    const running = this.processes.get(name);
    if (!running) throw new Error(`${name} is not running`);
    this.processes.set(name, undefined);
    await running.kill();
  }

  private unexpectedExit(): string | undefined {
    for (const [name, running] of this.processes) {
      if (running && !running.running) return `${name} exited unexpectedly`;
    }
    return undefined;
  }
}

/** "app: a; prometheus: b, c", sorted, so that two sets of targets compare as text. */
function describeTargets(targets: readonly { job: string; instance: string }[]): string {
  const byJob = new Map<string, string[]>();
  for (const { job, instance } of targets) byJob.set(job, [...(byJob.get(job) ?? []), instance]);
  return [...byJob.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([job, instances]) => `${job}: ${instances.sort().join(", ")}`)
    .join("; ");
}

/** Loopback endpoints on free ports; links point at the same addresses, as a person on this host opens them. */
async function loopbackEndpoints(settings: Settings, inbox: Inbox): Promise<Endpoints> {
  const address = async () => hostPort(loopback, await freePort());
  const app = await address();
  const prometheus: HostPort[] = [];
  for (let replica = 0; replica < settings.prometheus.replicas; replica++) prometheus.push(await address());
  const alertmanagers: HostPort[] = [];
  const alertmanagerCluster: HostPort[] = [];
  for (let replica = 0; replica < settings.alertmanager.replicas; replica++) {
    alertmanagers.push(await address());
    alertmanagerCluster.push(await address());
  }
  const nodeExporter = await address();
  const blackboxExporter = await address();
  // cAdvisor is not run on real binaries (its module is not served here): the address stays unanswered.
  const cadvisor = await address();
  return {
    app,
    prometheus,
    alertmanagers,
    alertmanagerCluster,
    nodeExporter,
    blackboxExporter,
    cadvisor,
    inboxSmtp: inbox.address,
    // Processes, not containers: ContainerMissing expects none.
    containers: [],
    links: {
      // No Grafana runs here; the link is where it would be, and only appears in e-mail text.
      grafana: `http://${loopback}:${settings.ports.grafana}`,
      prometheus: prometheus.map((target) => `http://${target}`),
      alertmanagers: alertmanagers.map((target) => `http://${target}`),
    },
  };
}
