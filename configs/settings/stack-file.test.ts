import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { makeTempDir, type TempDir } from "../../test-support/cleanup";
import { loadSettings } from "../validate";
import { isSecretMarker, projectName, readStackConfig, StackFileError, secretMarker } from "./stack-file";

describe("readStackConfig", () => {
  let project: TempDir;

  beforeEach(() => {
    project = makeTempDir("stack-file-");
    writeFileSync(join(project.path, "Pulumi.yaml"), "name: watchtower\nruntime: nodejs\n");
  });

  afterEach(() => project.remove());

  const writeStack = (stack: string, text: string) =>
    writeFileSync(join(project.path, `Pulumi.${stack}.yaml`), text);

  it("reads a Pulumi stack file: the project's keys without their namespace, others ignored", () => {
    writeStack(
      "dev",
      [
        "secretsprovider: passphrase",
        "encryptionsalt: v1:abc:def",
        "config:",
        "  docker:host: unix:///var/run/docker.sock",
        "  watchtower:scrape:",
        "    interval: 10s",
        "  watchtower:alerts:",
        "    highRequestVolume:",
        "      maxRequests: 750",
        "    custom:",
        "      - name: QueueBacklog",
        "        expr: vector(1)",
        "        summary: The queue is backing up.",
        "        description: '{{ $value }} jobs wait.'",
        "  watchtower:prometheus:",
        "    replicas: 3",
        "",
      ].join("\n"),
    );
    const raw = readStackConfig(project.path, "dev");
    expect(raw).to.deep.equal({
      scrape: { interval: "10s" },
      alerts: {
        highRequestVolume: { maxRequests: 750 },
        custom: [
          {
            name: "QueueBacklog",
            expr: "vector(1)",
            summary: "The queue is backing up.",
            description: "{{ $value }} jobs wait.",
          },
        ],
      },
      prometheus: { replicas: 3 },
    });
    const { settings } = loadSettings(raw);
    expect(settings.scrape.interval).to.equal("10s");
    expect(settings.alerts.highRequestVolume.maxRequests).to.equal(750);
    expect(settings.prometheus.replicas).to.equal(3);
  });

  it("replaces encrypted values by the marker, at any depth", () => {
    writeStack(
      "prod",
      [
        "config:",
        "  watchtower:email:",
        "    smarthost: smtp.example.com:587",
        "    authUsername: alerts",
        "    authPassword:",
        "      secure: v1:Jd8f0S2mBq==:aGVsbG8=",
        "  watchtower:grafana:",
        "    adminPassword:",
        "      secure: v1:kq9z==:c2VjcmV0",
        "",
      ].join("\n"),
    );
    const raw = readStackConfig(project.path, "prod");
    expect(raw).to.deep.equal({
      email: { smarthost: "smtp.example.com:587", authUsername: "alerts", authPassword: secretMarker },
      grafana: { adminPassword: secretMarker },
    });
    expect(JSON.stringify(raw)).not.to.include("v1:");
    const { settings } = loadSettings(raw);
    expect(isSecretMarker(settings.email.authPassword)).to.equal(true);
    expect(isSecretMarker(settings.grafana.adminPassword)).to.equal(true);
  });

  it("parses a top-level value given as JSON text, as the Pulumi program does", () => {
    writeStack("json", `config:\n  watchtower:scrape: '{"interval":"15s","timeout":"10s"}'\n`);
    expect(readStackConfig(project.path, "json")).to.deep.equal({
      scrape: { interval: "15s", timeout: "10s" },
    });
  });

  it("refuses a stack without a stack file, naming the file it looked for", () => {
    expect(() => readStackConfig(project.path, "missing"))
      .to.throw(StackFileError)
      .with.property("message")
      .that.includes(join(project.path, "Pulumi.missing.yaml"));
  });

  it("gives all defaults for a stack file without config", () => {
    writeStack("empty", "encryptionsalt: v1:abc\n");
    expect(readStackConfig(project.path, "empty")).to.deep.equal({});
  });

  it("names the file when the stack file is not YAML", () => {
    writeStack("broken", "config:\n  watchtower:scrape: [unclosed\n");
    expect(() => readStackConfig(project.path, "broken"))
      .to.throw(StackFileError)
      .with.property("message")
      .that.includes("Pulumi.broken.yaml");
  });

  it("requires Pulumi.yaml, which names the namespace", () => {
    const bare = join(project.path, "bare");
    mkdirSync(bare);
    expect(() => projectName(bare)).to.throw(StackFileError, /Pulumi\.yaml: not found/);
    writeFileSync(join(bare, "Pulumi.yaml"), "runtime: nodejs\n");
    expect(() => readStackConfig(bare, "dev")).to.throw(StackFileError, /no project `name`/);
  });

  it("reads the repository's own dev stack as valid settings", () => {
    const repository = join(__dirname, "..", "..");
    expect(() => loadSettings(readStackConfig(repository, "dev"))).not.to.throw();
  });
});
