/**
 * The whole stack on the real Docker engine, brought up the way a user without Pulumi does (render, then
 * `docker compose up -d --wait`), from the same deployment plan the Pulumi program maps. Images are the
 * stand-ins at the pinned tags; the app's is built from service/Dockerfile. Grafana itself is not exercised:
 * its stand-in only proves that what the stack hands Grafana is where Grafana reads it.
 *
 * The steps build on one another (one stack, brought up once: two minutes on two cores), in order; each
 * prints its measured time beside its budget.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { composeRootIsReadOnly } from "../../configs/deployment/compose";
import { dockerHostGateway, hostRootfsTarget, loadtestServiceKey } from "../../configs/deployment/plan";
import { loadtestPlan } from "../../configs/loadtest/plan";
import { hostExporterUser, hostLabel, jobs, probeLabel } from "../../configs/names";
import { clusterWaitMs } from "../../configs/prometheus/alert-timing";
import { jobSelector, targetUp } from "../../configs/promql/queries";
import { blackboxMetrics, nodeExporterMetrics } from "../../configs/promql/upstream-metrics";
import { alertmanagerHostPort, containerPorts, dockerAliases } from "../../configs/runtime/docker-endpoints";
import { renderedPaths } from "../../configs/runtime/layout";
import { alertNames } from "../../configs/settings/alert-specs";
import { durationMs } from "../../configs/settings/duration";
import { probeScrape } from "../../configs/settings/probes";
import type { SettingsInput } from "../../configs/settings/schema";
import { loadSettings } from "../../configs/validate";
import { repositoryRoot } from "../../infra/repository";
import { composeSecretSources } from "../../scripts/render";
import { probePaths } from "../../service/metrics-contract";
import { makeCertificate } from "../../test-support/certificates";
import { makeTempDir } from "../../test-support/cleanup";
import { buildAppImage, type DockerTools, requireDocker, runBounded } from "../../test-support/docker";
import { boundedFetch, requestStatus } from "../../test-support/http";
import { freePort, freeStackPorts } from "../../test-support/ports";
import { PrometheusClient } from "../../test-support/prometheus-client";
import { waitFor } from "../../test-support/wait";
import { AlertmanagerClient } from "../alertmanager-client";
import {
  afterConditionBudgetMs,
  firingEmailBudgetMs,
  formatMeasurement,
  marginMs,
  mochaTimeoutMs,
  resolvedEmailBudgetMs,
} from "../budgets";
import { bodyField, parseHumanized } from "../notifications";
import { e2eSettings } from "../test-settings";
import { ComposeStack, containerName, upWaitSeconds } from "./compose-stack";
import { MailpitClient } from "./mailpit";

/** The name the stack gives its Docker host, as the `host` label of node exporter's series. */
const dockerHostName = "docker-test-host";

/** The one probe of the Docker test: the app's own liveness endpoint, inside the stack's network. */
const appProbe = {
  name: "app-healthz",
  http: { url: `http://${dockerAliases.app}:${containerPorts.app}${probePaths.liveness}` },
} as const;

/**
 * The end-to-end suite's fast settings, on free loopback ports, with node exporter watching the engine's host:
 * its disk and memory alerts fire only if this machine is nearly full, which no other step would survive. One
 * probe, of the app's own /healthz, so that the blackbox exporter runs and never reaches outside the stack.
 */
async function dockerTestSettings(machine: OtherMachine): Promise<SettingsInput> {
  return {
    ...e2eSettings,
    // The shipped two Alertmanager replicas, with the cluster suite's shortened peer timeout.
    alertmanager: { ...e2eSettings.alertmanager, replicas: 2, peerTimeout: "5s" },
    host: { enabled: true, name: dockerHostName },
    hosts: [
      {
        name: otherMachineName,
        docker: {
          engine: "ssh://docker-test@127.0.0.1",
          // The replicas reach this engine's published ports through the Docker host's gateway.
          scrapeAddress: dockerHostGateway.host,
          nodeExporterPort: machine.port,
          exporterTls: { certFile: machine.tls.cert, keyFile: machine.tls.key, caFile: machine.tls.cert },
        },
      },
    ],
    probes: [appProbe],
    ports: await freeStackPorts(),
  };
}

/**
 * A machine of `hosts[].docker` that is this engine again: its exporters run from the Compose file render
 * writes for it, published on a free port, with a certificate made here for the name the replicas dial.
 */
const otherMachineName = "docker-other";
interface OtherMachine {
  readonly port: number;
  readonly tls: { readonly cert: string; readonly key: string };
}

const loopbackUrl = (port: number) => `http://127.0.0.1:${port}`;
/** The app image's build runs `npm ci` from the registry: minutes on a cold cache. */
const buildBudgetMs = 8 * 60_000;

describe("the stack on the real Docker engine, through docker compose", () => {
  let tools: DockerTools;
  let stack: ComposeStack;
  let input: SettingsInput;
  let settings: ReturnType<typeof loadSettings>["settings"];
  let replicas: PrometheusClient[];
  let mailpit: MailpitClient;
  let alertmanagers: AlertmanagerClient[];
  /** When `up` returned: the load test is running by then. */
  let upAt: number;
  let machine: OtherMachine;
  const machineFiles = makeTempDir("docker-other-tls-");
  /** A moment at which both replicas had samples, for the "oldest sample survives" check. */
  let firstSampleAt: Date;
  const diagnostics = () => `${stack.ps()}\n${stack.logs()}`;

  before(async function () {
    this.timeout(buildBudgetMs + (upWaitSeconds + 120) * 1000);
    tools = requireDocker(this);
    machine = {
      port: await freePort(),
      tls: makeCertificate(machineFiles.path, 30, [`DNS:${dockerHostGateway.host}`]),
    };
    input = await dockerTestSettings(machine);
    ({ settings } = loadSettings(input));
    stack = new ComposeStack(tools);
    stack.render(input);
    // A run that was interrupted before its `after` may have left the stack up.
    stack.down();
    const buildStarted = performance.now();
    await buildAppImage(stack.appImage);
    console.log(formatMeasurement("app image built", performance.now() - buildStarted, buildBudgetMs));
    const upStarted = performance.now();
    stack.up();
    upAt = performance.now();
    console.log(formatMeasurement("docker compose up --wait", upAt - upStarted, upWaitSeconds * 1000));
    stack.upMachine(otherMachineName);
    replicas = [0, 1].map(
      (replica) => new PrometheusClient(loopbackUrl(settings.ports.prometheus + replica)),
    );
    mailpit = new MailpitClient(loopbackUrl(settings.ports.mailpit));
    alertmanagers = [0, 1].map(
      (replica) => new AlertmanagerClient(loopbackUrl(alertmanagerHostPort(settings, replica))),
    );
  });

  after(function () {
    this.timeout(180_000);
    stack?.dispose();
    machineFiles.remove();
  });

  it("1. runs every service healthy, and both replicas see every job up", async function () {
    // The probe is scraped less often than the rest: its first scrape may come a probe interval late.
    const budgetMs = 4 * durationMs(settings.scrape.interval) + durationMs(probeScrape.interval) + marginMs;
    this.timeout(mochaTimeoutMs(budgetMs));
    for (const container of stack.containers()) {
      if (container.service === loadtestServiceKey) {
        expect(container.exitCode, "the load test is running or finished cleanly").to.equal(0);
        continue;
      }
      expect(container.health, container.service).to.equal("healthy");
    }
    const expected = [
      jobs.app,
      jobs.alertmanager,
      jobs.alertmanager,
      jobs.prometheus,
      jobs.prometheus,
      jobs.node,
      jobs.node,
      jobs.cadvisor,
      jobs.probe,
    ].sort();
    const waited = await waitFor(
      "up == 1 for every target on both replicas",
      async () => {
        for (const replica of replicas) {
          const up = await replica.query("up");
          const jobsUp = up.filter((sample) => sample.value === 1).map((sample) => sample.labels.job ?? "");
          if (JSON.stringify(jobsUp.sort()) !== JSON.stringify(expected)) return undefined;
        }
        return true;
      },
      { timeoutMs: budgetMs, diagnostics },
    );
    firstSampleAt = new Date();
    console.log(formatMeasurement("every target up on both replicas", waited.elapsedMs, budgetMs));
    // The Alertmanager replicas found each other over the private network: each counts both as members.
    const clustered = await waitFor(
      "both Alertmanager replicas in one cluster, as each reports",
      async () => {
        const members = await replicas[0]?.query("alertmanager_cluster_members");
        return members?.length === 2 && members.every((sample) => sample.value === 2) ? true : undefined;
      },
      { timeoutMs: budgetMs, diagnostics },
    );
    console.log(formatMeasurement("Alertmanager cluster of two", clustered.elapsedMs, budgetMs));
  });

  it("1. runs node exporter on the host's PID namespace and root, unpublished, scraped by both replicas as its host", async () => {
    const name = containerName(dockerAliases.nodeExporter);
    const [inspected] = JSON.parse(stack.docker(["inspect", name]).stdout) as {
      HostConfig: { PidMode: string; NetworkMode: string };
      Mounts: { Type: string; Source: string; Destination: string; RW: boolean }[];
      NetworkSettings: { Ports: Record<string, unknown> };
      Config: { User: string };
    }[];
    if (inspected === undefined) throw new Error(`docker inspect ${name} returned nothing`);
    const pidMode = inspected.HostConfig.PidMode;
    const networkMode = inspected.HostConfig.NetworkMode;
    const mounts = inspected.Mounts;
    const ports = inspected.NetworkSettings.Ports;
    const user = inspected.Config.User;
    expect(pidMode).to.equal("host");
    expect(networkMode).to.not.equal("host");
    expect(
      mounts.map(({ Type, Source, Destination, RW }) => ({ Type, Source, Destination, RW })),
    ).to.deep.equal([{ Type: "bind", Source: "/", Destination: hostRootfsTarget, RW: false }]);
    // EXPOSE 9100 shows as a port with no host binding: nothing is published.
    for (const bindings of Object.values(ports)) expect(bindings).to.equal(null);
    expect(user).to.equal("65534:65534");
    // The host's PID namespace: it sees the host's processes, not only its own.
    const processes = stack.docker(["exec", name, "sh", "-c", "ls -d /proc/[0-9]* | wc -l"]);
    expect(Number(processes.stdout.trim()), processes.stderr).to.be.greaterThan(10);
    for (const [replica, client] of replicas.entries()) {
      const up = await client.query(`${targetUp(jobs.node)} == 1`);
      expect(up.map((sample) => sample.labels[hostLabel]).sort(), `replica ${replica}`).to.deep.equal([
        otherMachineName,
        dockerHostName,
      ]);
      const root = await client.query(
        `${nodeExporterMetrics.filesystemSizeBytes}{${jobSelector(jobs.node)},${hostLabel}="${dockerHostName}",mountpoint="/"}`,
      );
      expect(root, `replica ${replica}: the host's root filesystem`).to.have.length(1);
    }
  });

  it("1. runs a docker-kind machine's node exporter from its own Compose file, read-only, answering only over TLS with the password", async () => {
    const name = `${stack.prefix}-${otherMachineName}-${dockerAliases.nodeExporter}`;
    const [inspected] = JSON.parse(stack.docker(["inspect", name]).stdout) as {
      HostConfig: { ReadonlyRootfs: boolean; PidMode: string };
      Config: { User: string };
    }[];
    if (inspected === undefined) throw new Error(`docker inspect ${name} returned nothing`);
    expect(inspected.HostConfig.ReadonlyRootfs).to.equal(true);
    expect(inspected.HostConfig.PidMode).to.equal("host");
    expect(inspected.Config.User).to.equal("65534:65534");
    const password = readFileSync(join(stack.renderedDir, renderedPaths.hostExporterPassword), "utf8");
    const ca = readFileSync(machine.tls.cert, "utf8");
    const metrics = `https://127.0.0.1:${machine.port}/metrics`;
    expect(await requestStatus(metrics, { ca, auth: `${hostExporterUser}:${password}` })).to.equal(200);
    expect(await requestStatus(metrics, { ca })).to.equal(401);
    expect(await requestStatus(metrics, { ca, auth: `${hostExporterUser}:wrong` })).to.equal(401);
    for (const [replica, client] of replicas.entries()) {
      const memory = await client.query(
        `${nodeExporterMetrics.memoryAvailableBytes}{${jobSelector(jobs.node)},${hostLabel}="${otherMachineName}"}`,
      );
      expect(memory, `replica ${replica}: the other machine's memory`).to.have.length(1);
    }
  });

  it("1. runs cAdvisor (its stand-in) healthy, unpublished, with its README's mounts read-only; both replicas keep only its kept series", async () => {
    const name = containerName(dockerAliases.cadvisor);
    const [inspected] = JSON.parse(stack.docker(["inspect", name]).stdout) as {
      State: { Health?: { Status: string } };
      HostConfig: { Privileged: boolean; CapAdd: string[] | null; Devices: { PathOnHost: string }[] | null };
      Mounts: { Type: string; Source: string; Destination: string; RW: boolean }[];
      NetworkSettings: { Ports: Record<string, unknown> };
    }[];
    if (inspected === undefined) throw new Error(`docker inspect ${name} returned nothing`);
    expect(inspected.State.Health?.Status).to.equal("healthy");
    expect(inspected.HostConfig.Privileged).to.equal(false);
    expect(inspected.HostConfig.Devices?.map((device) => device.PathOnHost)).to.deep.equal(["/dev/kmsg"]);
    expect(inspected.Mounts.filter((mount) => mount.RW)).to.deep.equal([]);
    expect(inspected.Mounts.map((mount) => mount.Destination).sort()).to.deep.equal(
      ["/rootfs", "/sys", "/var/lib/docker", "/var/run"].sort(),
    );
    for (const bindings of Object.values(inspected.NetworkSettings.Ports)) expect(bindings).to.equal(null);
    for (const [replica, client] of replicas.entries()) {
      const up = await client.query(`${targetUp(jobs.cadvisor)} == 1`);
      expect(
        up.map((sample) => sample.labels[hostLabel]),
        `replica ${replica}`,
      ).to.deep.equal([dockerHostName]);
      // The stand-in serves a series the job drops (container_memory_rss) and the host's root cgroup (no name).
      const kept = await client.query(`{${jobSelector(jobs.cadvisor)},__name__=~"container_.*"}`);
      expect(kept.length, `replica ${replica}`).to.be.greaterThan(0);
      for (const sample of kept) {
        expect(Object.keys(sample.labels).sort(), `replica ${replica}`).to.satisfy((labels: string[]) =>
          labels.every((label) =>
            ["__name__", "job", "instance", hostLabel, "name", "interface"].includes(label),
          ),
        );
        expect(sample.labels.name, `replica ${replica}`).to.not.equal(undefined);
        expect(sample.labels.__name__, `replica ${replica}`).to.not.equal("container_memory_rss");
      }
    }
  });

  it("1. runs the blackbox exporter healthy, unpublished, as nobody; both replicas see the app's /healthz probe succeed", async () => {
    const name = containerName(dockerAliases.blackboxExporter);
    const [inspected] = JSON.parse(stack.docker(["inspect", name]).stdout) as {
      State: { Health?: { Status: string } };
      HostConfig: { ReadonlyRootfs: boolean; Memory: number };
      NetworkSettings: { Ports: Record<string, unknown> };
      Config: { User: string };
    }[];
    if (inspected === undefined) throw new Error(`docker inspect ${name} returned nothing`);
    const health = inspected.State.Health?.Status;
    const ports = inspected.NetworkSettings.Ports;
    expect(health).to.equal("healthy");
    for (const bindings of Object.values(ports)) expect(bindings).to.equal(null);
    expect(inspected.Config.User).to.equal("65534:65534");
    expect(inspected.HostConfig.ReadonlyRootfs).to.equal(true);
    expect(inspected.HostConfig.Memory).to.be.greaterThan(0);
    for (const [replica, client] of replicas.entries()) {
      const success = await client.query(`${blackboxMetrics.success}{${jobSelector(jobs.probe)}}`);
      expect(
        success.map((sample) => [sample.labels[probeLabel], sample.labels.instance, sample.value]),
        `replica ${replica}`,
      ).to.deep.equal([[appProbe.name, appProbe.http.url, 1]]);
    }
  });

  it("1. runs every planned read-only root read-only: a write to / is refused, each tmpfs takes one", () => {
    const plan = stack.plan(input);
    const readOnly = plan.services.filter((service) =>
      composeRootIsReadOnly(service, { secrets: composeSecretSources(settings, stack.projectDir) }),
    );
    expect(readOnly.map((service) => service.key)).to.include.members([
      "app",
      "mailpit",
      "node-exporter",
      "alertmanager",
      "alertmanager-1",
      "prometheus-0",
      "prometheus-1",
      loadtestServiceKey,
    ]);
    for (const service of readOnly) {
      const inspected = stack.docker([
        "inspect",
        "--format",
        "{{.HostConfig.ReadonlyRootfs}} {{.State.Running}}",
        service.containerName,
      ]);
      const [rootReadOnly, running] = inspected.stdout.trim().split(" ");
      expect(rootReadOnly, service.key).to.equal("true");
      // The load test may have finished: only a running container can be asked to write.
      if (running !== "true") continue;
      const write = stack.docker(["exec", service.containerName, "sh", "-c", "touch /x"]);
      expect(write.status, `${service.key}: touch /x`).to.not.equal(0);
      expect(write.stderr, service.key).to.include("Read-only file system");
      for (const { target } of service.tmpfs) {
        const scratch = stack.docker(["exec", service.containerName, "sh", "-c", `touch ${target}/x`]);
        expect(scratch.status, `${service.key}: touch ${target}/x: ${scratch.stderr}`).to.equal(0);
      }
      for (const { target } of service.volumes) {
        const data = stack.docker(["exec", service.containerName, "sh", "-c", `touch ${target}/.write-test`]);
        expect(data.status, `${service.key}: touch ${target}/.write-test: ${data.stderr}`).to.equal(0);
        stack.docker(["exec", service.containerName, "rm", "-f", `${target}/.write-test`]);
      }
    }
  });

  it("1. proves delivery through the real route and receiver: the check's e-mail arrives in Mailpit", function () {
    this.timeout(60_000);
    const checked = runBounded(
      join(repositoryRoot, "node_modules", ".bin", "tsx"),
      [
        join(repositoryRoot, "scripts", "check-delivery.ts"),
        "--alertmanager",
        loopbackUrl(settings.ports.alertmanager),
        "--inbox",
        loopbackUrl(settings.ports.mailpit),
        "--alertmanager-container",
        containerName("alertmanager"),
      ],
      { env: tools.env, timeoutMs: 50_000 },
    );
    expect(checked.status, `${checked.stdout}${checked.stderr}`).to.equal(0);
    expect(checked.stdout).to.match(/delivered to oncall@example\.com in [\d.]+ s/);
    console.log(`      ${checked.stdout.trim().split("\n").pop()}`);
  });

  it("2. runs the app built from service/Dockerfile as node, serving the API and its metrics", async () => {
    const user = stack.docker(["exec", containerName("app"), "id", "-un"]);
    expect(user.stdout.trim(), user.stderr).to.equal("node");
    const image = stack.docker(["inspect", "--format", "{{.Config.Image}}", containerName("app")]);
    expect(image.stdout.trim()).to.equal(stack.appImage);
    const app = loopbackUrl(settings.ports.app);
    const items = await boundedFetch(`${app}/api/items`);
    expect(items.status).to.equal(200);
    const metrics = await (await boundedFetch(`${app}/metrics`)).text();
    expect(metrics).to.include("app_http_requests_total");
  });

  it("3. e-mails HighRequestVolume once for the load test's spike, with its severity and value, then its resolution", async function () {
    const plan = loadtestPlan(settings);
    const { spike, cooldown } = plan.phases;
    const firingBudgetMs =
      spike.startMs + plan.alertFiresWithinMs + durationMs(settings.alertmanager.groupWait) + 2 * marginMs;
    const resolvedBudgetMs =
      cooldown.startMs +
      plan.alertResolvesWithinMs +
      durationMs(settings.alertmanager.groupInterval) +
      2 * marginMs;
    this.timeout(mochaTimeoutMs(resolvedBudgetMs));
    const rule = settings.alerts.highRequestVolume;
    const firing = await waitFor(
      "the HighRequestVolume e-mail in Mailpit",
      async () => (await mailpit.notifications(alertNames.highRequestVolume, "firing"))[0],
      { timeoutMs: Math.max(0, firingBudgetMs - (performance.now() - upAt)), diagnostics },
    );
    console.log(
      formatMeasurement("HighRequestVolume e-mail after up", performance.now() - upAt, firingBudgetMs),
    );
    const text = await mailpit.text(firing.value.id);
    const email = {
      subject: firing.value.subject,
      text,
      html: undefined,
      recipients: firing.value.to,
      from: "",
      receivedAt: 0,
    };
    expect(bodyField(email, "Severity")).to.equal(rule.severity);
    expect(parseHumanized(bodyField(email, "Value") ?? "")).to.be.greaterThan(rule.maxRequests);

    await waitFor(
      "the HighRequestVolume RESOLVED e-mail",
      async () => (await mailpit.notifications(alertNames.highRequestVolume, "resolved"))[0],
      { timeoutMs: Math.max(0, resolvedBudgetMs - (performance.now() - upAt)), diagnostics },
    );
    console.log(
      formatMeasurement("its RESOLVED e-mail after up", performance.now() - upAt, resolvedBudgetMs),
    );
    expect(
      await mailpit.notifications(alertNames.highRequestVolume, "firing"),
      "one firing e-mail",
    ).to.have.length(1);
  });

  it("4. e-mails InstanceDown when the app container stops, and keeps it sent once across Alertmanager restarts", async function () {
    const budgetMs = firingEmailBudgetMs(settings, settings.alerts.instanceDown.for);
    // Long enough for a restarted replica to send what it holds: its place in the cluster, then a flush.
    const quietMs =
      clusterWaitMs(settings, settings.alertmanager.replicas - 1) +
      durationMs(settings.alertmanager.groupWait) +
      durationMs(settings.alertmanager.groupInterval) +
      marginMs;
    this.timeout(
      mochaTimeoutMs(budgetMs, 2 * upWaitSeconds * 1000, quietMs, resolvedEmailBudgetMs(settings)),
    );
    const stoppedAt = performance.now();
    stack.containerCommand("stop", "app");
    const down = await waitFor(
      "the InstanceDown e-mail",
      async () => (await mailpit.notifications(alertNames.instanceDown, "firing"))[0],
      { timeoutMs: budgetMs, diagnostics },
    );
    console.log(formatMeasurement("InstanceDown after docker stop", performance.now() - stoppedAt, budgetMs));
    expect(down.value.subject).to.include(`job=${jobs.app}`);

    // 5. The notification log is on each Alertmanager replica's volume, and gossiped: restarting each in turn
    // does not send the same e-mail again. Each restarted replica is handed the alert at once, as Prometheus
    // would within its resend delay, so that there is something it could send again.
    for (const replica of [0, 1]) {
      const restarted = alertmanagers[replica];
      const other = alertmanagers[1 - replica];
      if (!restarted || !other) throw new Error("the Docker stack runs two Alertmanager replicas");
      const held = (await other.alerts()).filter(
        (alert) => alert.labels.alertname === alertNames.instanceDown,
      );
      stack.containerCommand("restart", dockerAliases.alertmanager(replica));
      await waitFor(
        "the restarted Alertmanager replica to answer",
        async () => ((await restarted.isReady()) ? true : undefined),
        {
          timeoutMs: upWaitSeconds * 1000,
          diagnostics,
        },
      );
      await restarted.postAlerts(held);
    }
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    expect(
      await mailpit.notifications(alertNames.instanceDown, "firing"),
      "InstanceDown e-mailed again after the Alertmanager restart",
    ).to.have.length(1);
    console.log(
      `      no duplicate InstanceDown in ${Math.round(quietMs / 1000)} s after each Alertmanager replica restarted`,
    );

    stack.containerCommand("start", "app");
    await waitFor(
      "the InstanceDown RESOLVED e-mail",
      async () => (await mailpit.notifications(alertNames.instanceDown, "resolved"))[0],
      { timeoutMs: resolvedEmailBudgetMs(settings) + 15_000, diagnostics },
    );
  });

  it("4. e-mails PrometheusDown from the other replica when one replica's container stops", async function () {
    const budgetMs =
      afterConditionBudgetMs(settings, settings.alerts.prometheusDown.for) +
      2 * durationMs(settings.scrape.interval);
    this.timeout(mochaTimeoutMs(budgetMs, 60_000));
    const stoppedAt = performance.now();
    stack.containerCommand("stop", "prometheus-1");
    try {
      await waitFor(
        "the PrometheusDown e-mail",
        async () => (await mailpit.notifications(alertNames.prometheusDown, "firing"))[0],
        { timeoutMs: budgetMs, diagnostics },
      );
      console.log(
        formatMeasurement("PrometheusDown after docker stop", performance.now() - stoppedAt, budgetMs),
      );
    } finally {
      stack.containerCommand("start", "prometheus-1");
    }
  });

  it("6. recreates only the services whose files a threshold change touched, and keeps Prometheus's data", async function () {
    this.timeout((upWaitSeconds + 120) * 1000);
    const before = new Map(stack.containers().map((container) => [container.service, container.id]));
    const changed = {
      ...input,
      alerts: {
        ...input.alerts,
        highRequestVolume: { ...e2eSettings.alerts.highRequestVolume, maxRequests: 61 },
      },
    };
    stack.render(changed);
    const started = performance.now();
    stack.up();
    console.log(
      formatMeasurement(
        "docker compose up after a threshold change",
        performance.now() - started,
        upWaitSeconds * 1000,
      ),
    );
    const after = new Map(stack.containers().map((container) => [container.service, container.id]));
    const recreated = [...before.keys()]
      .filter((service) => after.get(service) !== before.get(service))
      .sort();
    expect(recreated).to.deep.equal(["grafana", loadtestServiceKey, "prometheus-0", "prometheus-1"].sort());
    for (const replica of replicas) {
      const old = await waitFor(
        "the first samples, after the restart",
        async () => {
          const samples = await replica.query(`up{job="${jobs.app}"}`, firstSampleAt);
          return samples.length > 0 ? samples : undefined;
        },
        { timeoutMs: 30_000, diagnostics },
      );
      expect(old.value, replica.baseUrl).to.have.length(1);
    }
  });

  it("7. docker compose down -v leaves no container, volume or network of the stack", function () {
    this.timeout(180_000);
    const result = stack.down();
    expect(result.status, result.stderr).to.equal(0);
    expect(stack.leftovers()).to.deep.equal({ containers: [], volumes: [], networks: [] });
  });
});
