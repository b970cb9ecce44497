/**
 * The Docker test set-up itself: the stand-in images (`npm run standins`) are laid out as the official images
 * are, hold the tools the stack's healthchecks call, and the Grafana stand-in holds the stack to what it hands
 * Grafana; the egress block is in place; the pinned Compose drives the engine; the service's image builds on
 * the Node.js stand-in and runs as `node`. Every container runs on `--network none` or on a network this file
 * creates, publishes only on 127.0.0.1, and is removed afterwards, also when a test fails.
 */
import { execFile } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import {
  appBuildArgs,
  type DeploymentPlan,
  deploymentPlan,
  type ServicePlan,
} from "../../configs/deployment/plan";
import { renderAll } from "../../configs/render";
import { dockerAliases, dockerEndpoints } from "../../configs/runtime/docker-endpoints";
import {
  alertmanager,
  blackboxExporter,
  compose,
  k6,
  mailpit,
  nodeExporter,
  prometheus,
} from "../../configs/runtime/versions";
import { loadSettings } from "../../configs/validate";
import { makeTempDir, onExitCleanup, type TempDir } from "../../test-support/cleanup";
import {
  buildAppImage,
  type CommandResult,
  type DockerTools,
  egressBlocked,
  requireDocker,
  runBounded,
  standinBaseImage,
  standinImages,
  standinLabel,
} from "../../test-support/docker";
import { boundedFetch } from "../../test-support/http";
import { waitFor } from "../../test-support/wait";

type StandinName = keyof typeof standinImages;

/** Every Docker object this file creates carries this prefix. */
const prefix = `watchtower-standins-test-${process.pid}`;
/** Longest wait for a container to answer or to exit: generous for a two-core machine under load. */
const containerWaitMs = 60_000;

/** What each official Dockerfile sets (cited in test-support/standins/<name>/Dockerfile). */
const officialLayout: Record<
  StandinName,
  {
    readonly user: string;
    readonly entrypoint: readonly string[];
    readonly cmd: readonly string[] | null;
    readonly workdir: string;
    /** A command of the image's own program and what it prints: the binary runs in the image. */
    readonly runs?: { readonly command: readonly string[]; readonly prints: string };
  }
> = {
  prometheus: {
    user: "nobody",
    entrypoint: ["/bin/prometheus"],
    cmd: ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"],
    workdir: "/prometheus",
    runs: { command: ["/bin/prometheus", "--version"], prints: prometheus.version },
  },
  alertmanager: {
    user: "nobody",
    entrypoint: ["/bin/alertmanager"],
    cmd: ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"],
    workdir: "/alertmanager",
    runs: { command: ["/bin/alertmanager", "--version"], prints: alertmanager.version },
  },
  k6: {
    user: "12345",
    entrypoint: ["k6"],
    cmd: null,
    workdir: "/home/k6",
    runs: { command: ["k6", "version"], prints: `v${k6.version}` },
  },
  mailpit: {
    user: "",
    entrypoint: ["/mailpit"],
    cmd: null,
    workdir: "",
    runs: { command: ["/mailpit", "version", "--no-release-check"], prints: mailpit.imageTag },
  },
  "node-exporter": {
    user: "nobody",
    entrypoint: ["/bin/node_exporter"],
    cmd: null,
    workdir: "",
    runs: { command: ["/bin/node_exporter", "--version"], prints: nodeExporter.version },
  },
  "blackbox-exporter": {
    user: "",
    entrypoint: ["/bin/blackbox_exporter"],
    cmd: ["--config.file=/etc/blackbox_exporter/config.yml"],
    workdir: "",
    runs: { command: ["/bin/blackbox_exporter", "--version"], prints: blackboxExporter.version },
  },
  cadvisor: { user: "", entrypoint: ["/usr/bin/cadvisor", "-logtostderr"], cmd: null, workdir: "" },
  grafana: { user: "472", entrypoint: ["/run.sh"], cmd: null, workdir: "/usr/share/grafana" },
  node: {
    user: "",
    entrypoint: ["docker-entrypoint.sh"],
    cmd: ["node"],
    workdir: "",
    // The stand-in's Node.js is the host's, not the pinned one.
    runs: { command: ["node", "--version"], prints: process.version },
  },
};

/**
 * The stack's plan with the default settings and one probe (so that the blackbox exporter runs): what each
 * service is handed, and its healthcheck.
 */
function defaultPlan(): DeploymentPlan {
  // Without the load test, whose script files the plan would read from the repository.
  const { settings } = loadSettings({
    loadtest: { enabled: false },
    probes: [{ name: "app", http: { url: "http://app:5002/healthz" } }],
  });
  const endpoints = dockerEndpoints(settings, prefix);
  return deploymentPlan({
    settings,
    endpoints,
    files: renderAll(settings, endpoints),
    loadtestScript: {},
    prefix,
    appImageTag: `${prefix}-app:plan`,
  });
}

/** The stand-in image a service of the plan runs: its pinned image, or the Node.js base it is built on. */
function standinOf(service: ServicePlan): StandinName | undefined {
  const ref = service.image.kind === "pinned" ? service.image.ref : service.image.args.NODE_IMAGE;
  return (Object.keys(standinImages) as StandinName[]).find((name) => standinImages[name] === ref);
}

describe("Docker test set-up: stand-in images, egress block, Compose (real engine)", () => {
  let tools: DockerTools;
  let plan: DeploymentPlan;
  /** Containers, networks and images created by the current test, removed after it. */
  let created: { containers: string[]; networks: string[]; images: string[] };
  let removeOnExit: () => void;

  function docker(
    args: readonly string[],
    options: { timeoutMs?: number; input?: string } = {},
  ): CommandResult {
    return runBounded(tools.docker, args, { env: tools.env, ...options });
  }

  function dockerOk(args: readonly string[], options: { timeoutMs?: number; input?: string } = {}): string {
    const result = docker(args, options);
    expect(result.status, `docker ${args.join(" ")}:\n${result.stdout}\n${result.stderr}`).to.equal(0);
    return result.stdout;
  }

  function removeCreated(): void {
    if (created.containers.length > 0) docker(["rm", "--force", "--volumes", ...created.containers]);
    if (created.networks.length > 0) docker(["network", "rm", ...created.networks]);
    if (created.images.length > 0) docker(["image", "rm", "--force", ...created.images]);
    created = { containers: [], networks: [], images: [] };
  }

  function isStandin(name: StandinName): boolean {
    const labels = dockerOk(["image", "inspect", "--format", "{{json .Config.Labels}}", standinImages[name]]);
    return (JSON.parse(labels) as Record<string, string> | null)?.[standinLabel] !== undefined;
  }

  before(function () {
    tools = requireDocker(this);
    plan = defaultPlan();
    created = { containers: [], networks: [], images: [] };
    removeOnExit = onExitCleanup(removeCreated);
  });

  afterEach(function () {
    this.timeout(60_000);
    removeCreated();
  });

  after(() => removeOnExit?.());

  it("the egress block is in place", () => {
    expect(egressBlocked(), "scripts/docker-engine.sh check").to.equal(true);
  });

  for (const name of Object.keys(officialLayout) as StandinName[]) {
    it(`${standinImages[name]}: user, entrypoint, cmd and workdir of the official image; its program and healthcheck tools run`, function () {
      this.timeout(120_000);
      if (!isStandin(name)) this.skip();
      const layout = officialLayout[name];
      const config = JSON.parse(
        dockerOk(["image", "inspect", "--format", "{{json .Config}}", standinImages[name]]),
      ) as { User?: string; Entrypoint?: string[] | null; Cmd?: string[] | null; WorkingDir?: string };
      // The engine leaves out what the image does not set.
      expect({
        user: config.User ?? "",
        entrypoint: config.Entrypoint ?? null,
        cmd: config.Cmd ?? null,
        workdir: config.WorkingDir ?? "",
      }).to.deep.equal({
        user: layout.user,
        entrypoint: layout.entrypoint,
        cmd: layout.cmd,
        workdir: layout.workdir,
      });
      if (layout.runs) {
        const [program = "", ...args] = layout.runs.command;
        const output = dockerOk([
          "run",
          "--rm",
          "--network",
          "none",
          "--entrypoint",
          program,
          standinImages[name],
          ...args,
        ]);
        expect(output).to.include(layout.runs.prints);
      }
      const healthcheckTools = plan.services
        .filter((service) => standinOf(service) === name && service.healthcheck !== undefined)
        .map((service) => service.healthcheck?.test[0] ?? "");
      // The load test is a one-off without a healthcheck; every other image has a service that checks its health.
      if (name !== "k6")
        expect(healthcheckTools, `services of the plan on ${standinImages[name]}`).to.not.be.empty;
      for (const tool of new Set(healthcheckTools)) {
        const found = docker([
          "run",
          "--rm",
          "--network",
          "none",
          "--entrypoint",
          "/bin/sh",
          standinImages[name],
          "-c",
          'command -v "$0"',
          tool,
        ]);
        expect(found.status, `${tool} in ${standinImages[name]}: ${found.stderr}`).to.equal(0);
      }
    });
  }

  describe("the Grafana stand-in, given what the plan hands Grafana", () => {
    let grafana: ServicePlan;
    let handed: TempDir;
    const password = "first-admin-password";

    before(function () {
      if (!isStandin("grafana")) this.skip();
      const found = plan.services.find((service) => service.key === dockerAliases.grafana);
      if (found === undefined) throw new Error("the plan has no Grafana service");
      grafana = found;
      handed = makeTempDir("grafana-standin-");
    });

    after(() => handed?.remove());

    /** `docker run` arguments that hand the container the plan's files and, unless left out, its secret. */
    function runArgs(options: { withSecret: boolean; withDashboards: boolean }): string[] {
      const mounts: string[] = [];
      for (const [index, file] of grafana.files.entries()) {
        if (!options.withDashboards && file.target.endsWith(".json")) continue;
        const source = join(handed.path, `file-${index}`);
        writeFileSync(source, file.content);
        // The plan's mode; the Compose rendering bind-mounts files the same way.
        chmodSync(source, 0o444);
        mounts.push("--volume", `${source}:${file.target}:ro`);
      }
      if (options.withSecret) {
        for (const secret of grafana.secrets) {
          mounts.push("--volume", `${join(handed.path, "admin-password")}:${secret.target}:ro`);
        }
      }
      const [entrypoint = "", ...entrypointArgs] = grafana.entrypoint ?? [];
      return [
        ...(grafana.user === undefined ? [] : ["--user", grafana.user]),
        ...Object.entries(grafana.environment).flatMap(([key, value]) => ["--env", `${key}=${value}`]),
        ...mounts,
        "--entrypoint",
        entrypoint,
        standinImages.grafana,
        ...entrypointArgs,
      ];
    }

    function writePassword(value: string): void {
      const file = join(handed.path, "admin-password");
      // Rewritten in place: a bind mount follows the inode, so a restarted container reads the new password.
      writeFileSync(file, value);
      chmodSync(file, 0o444);
    }

    it("refuses to start without the admin password file, naming it", function () {
      this.timeout(containerWaitMs + 10_000);
      const result = docker(
        ["run", "--rm", "--network", "none", ...runArgs({ withSecret: false, withDashboards: true })],
        {
          timeoutMs: containerWaitMs,
        },
      );
      expect(result.status, result.stdout).to.not.equal(0);
      expect(result.stderr).to.include("GF_SECURITY_ADMIN_PASSWORD__FILE");
    });

    it("refuses to start without the dashboards the provider names, naming the directory", function () {
      this.timeout(containerWaitMs + 10_000);
      writePassword(password);
      const result = docker(
        ["run", "--rm", "--network", "none", ...runArgs({ withSecret: true, withDashboards: false })],
        {
          timeoutMs: containerWaitMs,
        },
      );
      expect(result.status, result.stdout).to.not.equal(0);
      expect(result.stderr).to.include("no dashboard (*.json) in /etc/grafana/dashboards");
    });

    it("starts, passes its healthcheck, and a restart applies a changed password through `grafana cli`", async function () {
      this.timeout(4 * containerWaitMs);
      writePassword(password);
      const network = `${prefix}-net`;
      const container = `${prefix}-grafana`;
      dockerOk(["network", "create", network]);
      created.networks.push(network);
      const port = grafana.ports[0]?.container ?? 3000;
      created.containers.push(container);
      dockerOk([
        "run",
        "--detach",
        "--name",
        container,
        "--network",
        network,
        "--publish",
        `127.0.0.1::${port}`,
        ...runArgs({ withSecret: true, withDashboards: true }),
      ]);
      // Read again after a restart: the engine then picks another free host port.
      const baseUrl = () => {
        const published =
          dockerOk(["port", container, `${port}/tcp`])
            .trim()
            .split("\n")[0] ?? "";
        expect(published).to.match(/^127\.0\.0\.1:\d+$/);
        return `http://${published}`;
      };
      let base = baseUrl();
      const logs = () => {
        const { stdout, stderr } = docker(["logs", container]);
        return `container logs:\n${stdout}${stderr}`;
      };
      const answersHealth = async () => {
        const response = await boundedFetch(`${base}/api/health`);
        return response.ok ? ((await response.json()) as { database: string }) : undefined;
      };
      const { value: health } = await waitFor("the Grafana stand-in's /api/health", answersHealth, {
        timeoutMs: containerWaitMs,
        diagnostics: logs,
      });
      expect(health.database).to.equal("ok");
      const test = grafana.healthcheck?.test ?? [];
      expect(test[0], "the plan's healthcheck").to.equal("curl");
      const healthcheck = docker(["exec", container, ...test]);
      expect(healthcheck.status, `${test.join(" ")}: ${healthcheck.stderr}`).to.equal(0);

      const login = grafana.environment.GF_SECURITY_ADMIN_USER ?? "admin";
      const asAdmin = (secret: string) => ({
        headers: { authorization: `Basic ${Buffer.from(`${login}:${secret}`).toString("base64")}` },
      });
      const search = await boundedFetch(`${base}/api/search`, asAdmin(password));
      expect(search.status).to.equal(200);
      const dashboards = (await search.json()) as { uid: string }[];
      const planned = grafana.files.filter((file) => file.target.endsWith(".json"));
      expect(dashboards.map((dashboard) => dashboard.uid)).to.have.length(planned.length);

      const changed = "second-admin-password";
      writePassword(changed);
      dockerOk(["restart", "--time", "10", container], { timeoutMs: containerWaitMs });
      base = baseUrl();
      await waitFor("the restarted stand-in's /api/health", answersHealth, {
        timeoutMs: containerWaitMs,
        diagnostics: logs,
      });
      expect(logs()).to.include("Admin password changed successfully");
      expect((await boundedFetch(`${base}/api/user`, asAdmin(changed))).status).to.equal(200);
      expect((await boundedFetch(`${base}/api/user`, asAdmin(password))).status).to.equal(401);
    });
  });

  it(`the pinned Compose ${compose.version}, standalone and as a CLI plugin, brings a service up with --wait and an inline config`, function () {
    this.timeout(3 * containerWaitMs);
    if (!isStandin("mailpit")) this.skip();
    const plugin = dockerOk(["compose", "version", "--short"]);
    expect(plugin.trim()).to.equal(compose.version);
    const project = `${prefix}-compose`;
    const composeFile = [
      "services:",
      "  inbox:",
      `    image: ${standinImages.mailpit}`,
      "    network_mode: none",
      "    configs: [{ source: greeting, target: /etc/greeting }]",
      "    healthcheck: { test: [CMD, /mailpit, readyz], interval: 1s, timeout: 5s, retries: 30 }",
      "configs:",
      "  greeting: { content: hello from an inline config }",
      "",
    ].join("\n");
    const composeCommand = (args: readonly string[]) =>
      runBounded(tools.compose, ["--project-name", project, "--file", "-", ...args], {
        env: tools.env,
        input: composeFile,
        timeoutMs: containerWaitMs + 10_000,
      });
    try {
      const up = composeCommand([
        "up",
        "--detach",
        "--wait",
        "--wait-timeout",
        String(containerWaitMs / 1000),
      ]);
      expect(up.status, up.stderr).to.equal(0);
      const read = composeCommand(["exec", "-T", "inbox", "cat", "/etc/greeting"]);
      expect(read.stdout, read.stderr).to.equal("hello from an inline config");
    } finally {
      const down = composeCommand(["down", "--volumes", "--timeout", "5"]);
      expect(down.status, down.stderr).to.equal(0);
    }
  });

  it("the engine refuses an upload into a read-only root, as the Pulumi provider makes it (why infra/containers.ts keeps those roots writable)", function () {
    this.timeout(containerWaitMs);
    const handed = makeTempDir("watchtower-upload-");
    try {
      writeFileSync(join(handed.path, "config.yml"), "a: 1\n");
      const readOnly = `${prefix}-read-only-upload`;
      const writable = `${prefix}-writable-upload`;
      for (const [name, flags] of [
        [readOnly, ["--read-only"]],
        [writable, []],
      ] as const) {
        created.containers.push(name);
        dockerOk(["create", "--name", name, "--network", "none", ...flags, standinBaseImage, "true"]);
      }
      // terraform-provider-docker extracts every upload at "/" (dstPath := "/"); `docker cp` to / does the same.
      const refused = docker(["cp", join(handed.path, "config.yml"), `${readOnly}:/`]);
      expect(refused.status).to.not.equal(0);
      expect(refused.stderr).to.include("read-only");
      dockerOk(["cp", join(handed.path, "config.yml"), `${writable}:/`]);
    } finally {
      handed.remove();
    }
  });

  it("containers on a network of their own still reach the host itself", async function () {
    this.timeout(containerWaitMs);
    const network = `${prefix}-host-net`;
    dockerOk(["network", "create", network]);
    created.networks.push(network);
    const gateway = dockerOk([
      "network",
      "inspect",
      "--format",
      "{{(index .IPAM.Config 0).Gateway}}",
      network,
    ]).trim();
    // Bound to the bridge's own address: reachable from the network's containers, not from outside the host.
    // Plain TCP, read with nc: busybox's wget, linked statically against glibc, crashes looking names up.
    const server = createServer((socket) => socket.end("host"));
    await new Promise<void>((resolve) => server.listen(0, gateway, resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const container = `${prefix}-to-host`;
      created.containers.push(container);
      // Asynchronous, so that this process's server can answer while the container asks.
      const { stdout } = await promisify(execFile)(
        tools.docker,
        [
          "run",
          "--name",
          container,
          "--network",
          network,
          standinBaseImage,
          "nc",
          "-w",
          "10",
          gateway,
          String(port),
        ],
        { env: tools.env, timeout: containerWaitMs - 5000 },
      );
      expect(stdout).to.equal("host");
    } finally {
      server.close();
    }
  });

  it("buildAppImage builds the service's image on the Node.js stand-in, and it runs as node", async function () {
    this.timeout(12 * 60_000);
    if (!isStandin("node")) this.skip();
    const tag = `${prefix}-app:test`;
    created.images.push(tag);
    const started = performance.now();
    await buildAppImage(tag);
    console.log(`      built ${tag} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    expect(dockerOk(["image", "inspect", "--format", "{{.Config.User}}", tag]).trim()).to.equal("node");
    // One port: the one the plan builds the image for is the one it exposes and the app listens on.
    const exposed = dockerOk(["image", "inspect", "--format", "{{json .Config.ExposedPorts}}", tag]);
    expect(Object.keys(JSON.parse(exposed) as Record<string, unknown>)).to.deep.equal([
      `${appBuildArgs.PORT}/tcp`,
    ]);
    expect(dockerOk(["image", "inspect", "--format", "{{json .Config.Env}}", tag])).to.include(
      `"PORT=${appBuildArgs.PORT}"`,
    );
    const uid = dockerOk([
      "run",
      "--rm",
      "--network",
      "none",
      tag,
      "node",
      "-e",
      "process.stdout.write(String(process.getuid()))",
    ]);
    expect(uid).to.equal("1000");
  });
});
