import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import bcrypt from "bcryptjs";
import { expect } from "chai";
import { parse } from "yaml";
import { renderedPaths } from "../configs/runtime/layout";
import { secretMarker } from "../configs/settings/stack-file";
import { requireBinaries } from "../test-support/binaries";
import { makeCertificate } from "../test-support/certificates";
import { makeTempDir, type TempDir } from "../test-support/cleanup";
import { composeFile, composeSecretVariables, manifestFile, secretsEnvFile } from "./render";

const run = promisify(execFile);
const repository = resolve(__dirname, "..");
const tsx = join(repository, "node_modules", ".bin", "tsx");

interface CliRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function render(args: readonly string[], cwd = repository): Promise<CliRun> {
  try {
    const { stdout, stderr } = await run(tsx, [join(repository, "scripts", "render.ts"), ...args], {
      cwd,
      timeout: 60_000,
    });
    return { exitCode: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failed.code !== "number") throw error;
    return { exitCode: failed.code, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

describe("npm run render", function () {
  this.timeout(60_000);
  let project: TempDir;
  let out: TempDir;

  beforeEach(() => {
    project = makeTempDir("render-project-");
    out = makeTempDir("render-out-");
    writeFileSync(join(project.path, "Pulumi.yaml"), "name: watchtower\nruntime: nodejs\n");
  });

  afterEach(() => {
    project.remove();
    out.remove();
  });

  const stackFile = (stack: string, text: string) =>
    writeFileSync(join(project.path, `Pulumi.${stack}.yaml`), text);

  it("writes every file of the stack, lists them, and never writes a secret", async () => {
    stackFile(
      "prod",
      [
        "config:",
        "  watchtower:email:",
        "    smarthost: smtp.example.com:587",
        "    authUsername: alerts",
        "    authPassword:",
        "      secure: v1:bm90LXJlYWw=:c2VjcmV0",
        "  watchtower:prometheus:",
        "    replicas: 3",
        "",
      ].join("\n"),
    );
    const result = await render(["--project", project.path, "--stack", "prod", "--out", out.path]);
    expect(result.exitCode, result.stderr).to.equal(0);
    const written = filesUnder(out.path).filter((path) => path !== manifestFile);
    expect(written).to.include.members([
      renderedPaths.prometheusConfig(0),
      renderedPaths.prometheusConfig(2),
      renderedPaths.alertRules,
      renderedPaths.alertRuleTests,
      renderedPaths.alertmanagerConfig,
      renderedPaths.loadtestOptions,
    ]);
    for (const path of written) {
      expect(result.stdout).to.include(join(out.path, path));
      const content = readFileSync(join(out.path, path), "utf8");
      expect(content, path).not.to.include(secretMarker);
      expect(content, path).not.to.include("v1:bm90");
    }
  });

  it("writes compose.yaml with every file it mounts, and a Grafana password in .env once, kept across renders", async () => {
    stackFile(
      "dev",
      "config:\n  watchtower:email:\n    smarthost: smtp.example.com:587\n    authUsername: alerts\n    authPassword:\n      secure: v1:bm90LXJlYWw=:c2VjcmV0\n",
    );
    const first = await render(["--project", project.path, "--out", out.path]);
    expect(first.exitCode, first.stderr).to.equal(0);
    const compose = parse(readFileSync(join(out.path, composeFile), "utf8")) as {
      services: Record<string, { volumes?: { type: string; source: string }[] }>;
      secrets: Record<string, { environment: string }>;
    };
    for (const [service, { volumes = [] }] of Object.entries(compose.services)) {
      // Absolute sources are the host exporters' read-only mounts of the Docker host, not rendered files.
      for (const mount of volumes.filter(({ type, source }) => type === "bind" && !source.startsWith("/"))) {
        expect(existsSync(join(out.path, mount.source)), `${service} mounts ${mount.source}`).to.equal(true);
      }
    }
    expect(compose.secrets).to.deep.equal({
      grafana_admin_password: { environment: composeSecretVariables.grafanaAdminPassword },
      smtp_password: { environment: composeSecretVariables.smtpPassword },
    });
    const envFile = join(out.path, secretsEnvFile);
    expect(statSync(envFile).mode & 0o777).to.equal(0o600);
    const password = /^WATCHTOWER_GRAFANA_ADMIN_PASSWORD=([A-Za-z0-9]{24})$/m.exec(
      readFileSync(envFile, "utf8"),
    )?.[1];
    expect(password).to.be.a("string");
    expect(first.stdout).to.include(secretsEnvFile);

    writeFileSync(envFile, `${readFileSync(envFile, "utf8")}${composeSecretVariables.smtpPassword}=mine\n`);
    const second = await render(["--project", project.path, "--out", out.path]);
    expect(second.exitCode, second.stderr).to.equal(0);
    const kept = readFileSync(envFile, "utf8");
    expect(kept)
      .to.include(`WATCHTOWER_GRAFANA_ADMIN_PASSWORD=${password}`)
      .and.include("WATCHTOWER_SMTP_PASSWORD=mine");
    for (const path of filesUnder(out.path).filter((path) => path !== secretsEnvFile)) {
      expect(readFileSync(join(out.path, path), "utf8"), path).not.to.include(password);
    }
  });

  it("refuses a custom alert that only Prometheus refuses, naming its key, and writes nothing", async function () {
    requireBinaries(this, "promtool");
    stackFile(
      "dev",
      [
        "config:",
        "  watchtower:alerts:",
        "    custom:",
        "      - name: Experimental",
        '        expr: "limitk(2, up) > 0"',
        "        summary: Odd.",
        "        description: Odd.",
        "",
      ].join("\n"),
    );
    const result = await render(["--project", project.path, "--out", out.path]);
    expect(result.exitCode).to.equal(1);
    expect(result.stderr).to.include("alerts.custom[0].expr").and.include("limitk() is experimental");
    expect(result.stderr).to.include("Nothing was written.");
    expect(filesUnder(out.path)).to.deep.equal([]);
  });

  it("mounts the SMTP password from the file email.authPasswordFile names, relative to the project", async () => {
    stackFile(
      "dev",
      "config:\n  watchtower:email:\n    smarthost: smtp.example.com:587\n    authUsername: alerts\n    authPasswordFile: secrets/smtp\n",
    );
    const result = await render(["--project", project.path, "--out", out.path]);
    expect(result.exitCode, result.stderr).to.equal(0);
    const compose = parse(readFileSync(join(out.path, composeFile), "utf8")) as {
      secrets: Record<string, { file?: string }>;
    };
    expect(compose.secrets.smtp_password).to.deep.equal({ file: join(project.path, "secrets", "smtp") });
  });

  it("reads the dev stack and writes into rendered/ by default", async () => {
    stackFile("dev", "config:\n  watchtower:prometheus:\n    replicas: 1\n");
    const result = await render(["--project", project.path], out.path);
    expect(result.exitCode, result.stderr).to.equal(0);
    expect(result.stderr).to.include("warning: prometheus.replicas is 1");
    expect(filesUnder(join(out.path, "rendered"))).to.include(renderedPaths.prometheusConfig(0));
    expect(existsSync(join(out.path, "rendered", renderedPaths.prometheusConfig(1)))).to.equal(false);
  });

  it("writes each docker-kind machine's exporters folder, its web config made from the password in .env", async function () {
    const { "docker-compose": compose } = requireBinaries(this, "docker-compose");
    const tls = makeCertificate(project.path, 30);
    const host = (key: string) =>
      [
        "config:",
        "  watchtower:hosts:",
        "    - name: db-1",
        "      docker:",
        "        engine: ssh://deploy@db-1.internal",
        `        exporterTls: { certFile: cert.pem, ${key}: key.pem, caFile: cert.pem }`,
        "",
      ].join("\n");
    stackFile("dev", host("keyFile"));
    const result = await render(["--project", project.path, "--out", out.path]);
    expect(result.exitCode, result.stderr).to.equal(0);
    const folder = renderedPaths.machineExporters("db-1");
    expect(statSync(join(out.path, folder.dir)).mode & 0o777).to.equal(0o700);
    expect(readFileSync(join(out.path, folder.tlsKey), "utf8")).to.equal(readFileSync(tls.key, "utf8"));
    expect(readFileSync(join(out.path, renderedPaths.hostExporterCa("db-1")), "utf8")).to.equal(
      readFileSync(tls.cert, "utf8"),
    );
    const password = readFileSync(join(out.path, renderedPaths.hostExporterPassword), "utf8");
    expect(readFileSync(join(out.path, secretsEnvFile), "utf8")).to.include(
      `${composeSecretVariables.hostExporterPassword}=${password}\n`,
    );
    expect(statSync(join(out.path, dirname(renderedPaths.hostExporterPassword))).mode & 0o777).to.equal(
      0o700,
    );
    const webConfig = parse(readFileSync(join(out.path, folder.webConfig), "utf8")) as {
      basic_auth_users: Record<string, string>;
    };
    expect(bcrypt.compareSync(password, webConfig.basic_auth_users.prometheus ?? "")).to.equal(true);
    for (const path of filesUnder(out.path).filter(
      (path) => !path.endsWith("host_exporter_password") && path !== secretsEnvFile,
    )) {
      expect(readFileSync(join(out.path, path), "utf8"), path).not.to.include(password);
    }
    // Compose reads both files as written: every mount and secret resolves.
    await run(compose, ["-f", join(out.path, composeFile), "config", "-q"], {
      cwd: out.path,
      timeout: 30_000,
    });
    await run(compose, ["-f", join(out.path, folder.compose), "config", "-q"], {
      cwd: out.path,
      timeout: 30_000,
    });

    stackFile("dev", host("keyFile").replace("key.pem", "missing.pem"));
    const broken = await render(["--project", project.path, "--out", join(out.path, "never")]);
    expect(broken.exitCode).to.equal(1);
    expect(broken.stderr).to.include("hosts[0].docker.exporterTls.keyFile: cannot read missing.pem");
    expect(existsSync(join(out.path, "never"))).to.equal(false);
  });

  it("lists every problem of invalid settings, exits non-zero and writes nothing", async () => {
    stackFile(
      "broken",
      [
        "config:",
        "  watchtower:scrape:",
        "    interval: 30s",
        "  watchtower:ports:",
        "    grafana: 9093",
        "",
      ].join("\n"),
    );
    const target = join(out.path, "never");
    const result = await render(["--project", project.path, "--stack", "broken", "--out", target]);
    expect(result.exitCode).to.equal(1);
    expect(result.stderr).to.include("alerts.highRequestVolume.window").and.include("ports.grafana");
    expect(result.stderr).to.include("Nothing was written");
    expect(existsSync(target)).to.equal(false);
  });

  it("removes the files of an earlier render that are no longer rendered", async () => {
    stackFile("dev", "config:\n  watchtower:prometheus:\n    replicas: 3\n");
    expect((await render(["--project", project.path, "--out", out.path])).exitCode).to.equal(0);
    expect(existsSync(join(out.path, renderedPaths.prometheusConfig(2)))).to.equal(true);
    writeFileSync(join(out.path, "notes.txt"), "mine");

    stackFile("dev", "config:\n  watchtower:prometheus:\n    replicas: 2\n");
    const result = await render(["--project", project.path, "--out", out.path]);
    expect(result.exitCode, result.stderr).to.equal(0);
    expect(existsSync(join(out.path, renderedPaths.prometheusConfig(2)))).to.equal(false);
    expect(result.stdout).to.include(`removed ${join(out.path, renderedPaths.prometheusConfig(2))}`);
    expect(readFileSync(join(out.path, "notes.txt"), "utf8")).to.equal("mine");
  });

  it("removes the load test's options when the load test is turned off", async () => {
    stackFile("dev", "config:\n  watchtower:loadtest:\n    enabled: true\n");
    expect((await render(["--project", project.path, "--out", out.path])).exitCode).to.equal(0);
    expect(existsSync(join(out.path, renderedPaths.loadtestOptions))).to.equal(true);

    stackFile("dev", "config:\n  watchtower:loadtest:\n    enabled: false\n");
    const result = await render(["--project", project.path, "--out", out.path]);
    expect(result.exitCode, result.stderr).to.equal(0);
    expect(existsSync(join(out.path, renderedPaths.loadtestOptions))).to.equal(false);
    expect(result.stdout).to.include(`removed ${join(out.path, renderedPaths.loadtestOptions)}`);
  });

  it("rejects an unknown option with its usage", async () => {
    const result = await render(["--stak", "dev"]);
    expect(result.exitCode).to.equal(2);
    expect(result.stderr).to.include("usage: npm run render");
  });
});
