import { dirname } from "node:path";
import { expect } from "chai";
import { parse } from "yaml";
import { stackInputs } from "../../infra/stack-inputs";
import { otherServices } from "../../test-support/settings";
import { renderedPaths } from "../runtime/layout";
import type { SettingsInput } from "../settings/schema";
import { composeRootIsReadOnly, filesDigestLabel, renderCompose } from "./compose";
import { goDuration, isGoDuration } from "./go-duration";
import { appBuildArgs, hostRootfsTarget, loadtestServiceKey } from "./plan";

/** The plan exactly as `npm run render` and the Pulumi program compute it. */
function planFor(input: SettingsInput = {}) {
  return stackInputs(input, "watchtower", "test");
}

const composeSecrets = {
  grafanaAdminPassword: { environment: "WATCHTOWER_GRAFANA_ADMIN_PASSWORD" },
  smtpPassword: { environment: "WATCHTOWER_SMTP_PASSWORD" },
  hostExporterPassword: { environment: "WATCHTOWER_HOST_EXPORTER_PASSWORD" },
} as const;

describe("Go durations, as the Docker provider reads healthchecks back", () => {
  it("writes what time.Duration.String() prints", () => {
    const cases: [number, string][] = [
      [0, "0s"],
      [500, "500ms"],
      [5000, "5s"],
      [60_000, "1m0s"],
      [90_000, "1m30s"],
      [3_600_000, "1h0m0s"],
      [3_723_500, "1h2m3.5s"],
    ];
    for (const [ms, text] of cases) {
      expect(goDuration(ms), String(ms)).to.equal(text);
      expect(isGoDuration(text), text).to.equal(true);
    }
  });

  it("tells Go's form from others that mean the same", () => {
    for (const text of ["60s", "1m", "90s", "1h", "1000ms", "", "5"])
      expect(isGoDuration(text), text).to.equal(false);
  });
});

/** Where the rule unit tests are rendered: for promtool, never for a container. */
const ruleTestsDir = `${dirname(renderedPaths.alertRuleTests)}/`;

describe("the deployment plan", () => {
  it("hands every rendered file but the rule tests to exactly one service, or the rule files to every replica", () => {
    const { plan, files } = planFor();
    const sources = plan.services.flatMap((service) => service.files.map((file) => file.source));
    for (const renderedPath of Object.keys(files)) {
      if (renderedPath === renderedPaths.alertRuleTests || renderedPath.startsWith(ruleTestsDir)) {
        expect(sources).not.to.include(renderedPath);
        continue;
      }
      const count = sources.filter((source) => source === renderedPath).length;
      // The rules go to every Prometheus replica, alertmanager.yml to every Alertmanager replica: two of each.
      const everyReplica =
        renderedPath === renderedPaths.alertRules ||
        renderedPath === renderedPaths.sloRules ||
        renderedPath === renderedPaths.alertmanagerConfig;
      expect(count, renderedPath).to.equal(everyReplica ? 2 : 1);
    }
    for (const service of plan.services) {
      for (const file of service.files)
        expect(files[file.source] ?? file.content, file.source).to.equal(file.content);
    }
  });

  it("runs as long-running services exactly the containers the renderers were told of, by the same names", () => {
    for (const input of [{}, otherServices, { ...otherServices, prometheus: { replicas: 3 } }]) {
      const { plan, endpoints } = planFor(input);
      const running = plan.services.filter((service) => service.lifecycle === "service");
      expect(running.map((service) => service.containerName)).to.deep.equal(endpoints.containers);
    }
    const oneOff = planFor().plan.services.filter((service) => service.lifecycle === "one-off");
    expect(oneOff.map((service) => service.key)).to.deep.equal([loadtestServiceKey]);
  });

  it("starts each service only after services planned before it, and orders the replicas", () => {
    const { plan } = planFor({ prometheus: { replicas: 3 } });
    const seen: string[] = [];
    for (const service of plan.services) {
      for (const key of service.after) expect(seen, `${service.key} after ${key}`).to.include(key);
      seen.push(service.key);
    }
    const startsAfter = (key: string) => plan.services.find((service) => service.key === key)?.after ?? [];
    expect(startsAfter("prometheus-1")).to.include("prometheus-0");
    expect(startsAfter("prometheus-2")).to.include("prometheus-1");
    expect(startsAfter(loadtestServiceKey)).to.include.members([
      "app",
      "mailpit",
      "alertmanager",
      "prometheus-0",
      "prometheus-2",
    ]);
  });

  it("names secrets without holding them, and only when the rendered config reads them", () => {
    const password = "smtp-password-in-settings";
    const grafanaPassword = "grafana-password-in-settings";
    const { plan } = planFor({
      email: { smarthost: "smtp.example.com:587", authUsername: "a@example.com", authPassword: password },
      grafana: { adminPassword: grafanaPassword },
    });
    const text = JSON.stringify(plan);
    expect(text).not.to.include(password);
    expect(text).not.to.include(grafanaPassword);
    const secrets = plan.services.flatMap((service) =>
      service.secrets.map(({ secret }) => `${service.key}:${secret}`),
    );
    expect(secrets.sort()).to.deep.equal([
      "alertmanager-1:smtpPassword",
      "alertmanager:smtpPassword",
      "grafana:grafanaAdminPassword",
    ]);
    expect(
      planFor().plan.services.flatMap((service) => service.secrets.map(({ secret }) => secret)),
    ).to.deep.equal(["grafanaAdminPassword"]);
  });

  it("takes each secret from where the settings say, or generates the Grafana password", () => {
    const given = planFor({
      email: { smarthost: "smtp.example.com:587", authUsername: "a@example.com", authPassword: "p1" },
      grafana: { adminPassword: "p2-long-enough" },
    }).plan.secrets;
    expect(given.smtpPassword?.kind === "setting" && given.smtpPassword.content()).to.equal("p1");
    expect(given.grafanaAdminPassword?.kind === "setting" && given.grafanaAdminPassword.content()).to.equal(
      "p2-long-enough",
    );
    const fromFile = planFor({
      email: { smarthost: "smtp.example.com:587", authUsername: "a@example.com", authPasswordFile: "pw" },
    }).plan.secrets;
    expect(fromFile).to.deep.equal({
      grafanaAdminPassword: { kind: "generated", length: 24 },
      smtpPassword: { kind: "file", setting: "email.authPasswordFile", path: "pw" },
    });
  });

  it("holds the links a person opens, the load test's rerun command and the delivery check's inputs", () => {
    const { plan, files } = planFor();
    expect(plan.access).to.deep.equal({
      appUrl: "http://127.0.0.1:5002",
      prometheusUrls: ["http://127.0.0.1:9090", "http://127.0.0.1:9091"],
      alertmanagerUrls: ["http://127.0.0.1:9093", "http://127.0.0.1:9094"],
      grafanaUrl: "http://127.0.0.1:3000",
      mailpitUrl: "http://127.0.0.1:8025",
      grafanaAdminUser: "admin",
      loadtestRerun: `docker start --attach ${plan.prefix}-loadtest`,
    });
    expect(plan.deliveryCheck).to.deep.include({
      enabled: true,
      alertmanagerUrl: plan.access.alertmanagerUrls[0],
      inboxUrl: plan.access.mailpitUrl,
      alertmanagerConfig: files[renderedPaths.alertmanagerConfig],
      logsOf: "alertmanager",
      after: ["alertmanager", "alertmanager-1", "mailpit"],
    });
    const other = planFor({
      app: { enabled: false },
      loadtest: { enabled: false },
      delivery: { checkOnUp: false },
      email: { smarthost: "smtp.example.com:587" },
      network: { bindAddress: "0.0.0.0" },
    }).plan;
    expect(other.access.appUrl).to.equal("the demo app is off: app.enabled is false");
    expect(other.access.mailpitUrl).to.equal("no inbox: alert e-mail goes to smtp.example.com:587");
    expect(other.access.grafanaUrl).to.equal("http://localhost:3000");
    expect(other.access.loadtestRerun).to.include("set loadtest.enabled to true");
    expect(other.deliveryCheck).to.deep.equal({ enabled: false, reason: "off: delivery.checkOnUp is false" });
  });

  it("builds the app's image for the port the app listens on, named once", () => {
    const app = planFor().plan.services.find((service) => service.key === "app");
    expect(app?.image.kind === "build" && app.image.args).to.deep.equal(appBuildArgs);
    expect(app?.environment.PORT).to.equal(appBuildArgs.PORT);
    expect(app?.ports.map((port) => String(port.container))).to.deep.equal([appBuildArgs.PORT]);
  });

  it("makes every root file system read-only but a user image's, with small scratch mounts", () => {
    const { plan } = planFor({
      services: [{ job: "orders", image: "ghcr.io/acme/orders:1.4.2", port: 8080, healthcheck: ["true"] }],
    });
    for (const service of plan.services) {
      expect(service.readOnlyRootFilesystem, service.key).to.equal(service.origin === "stack");
      const mounts = [
        ...service.volumes.map((volume) => volume.target),
        ...service.tmpfs.map((t) => t.target),
      ];
      expect(new Set(mounts).size, `${service.key} mounts a path twice`).to.equal(mounts.length);
      for (const tmpfs of service.tmpfs)
        expect(tmpfs.sizeMb, `${service.key} ${tmpfs.target}`).to.be.within(1, service.memoryMb / 4);
    }
    const tmpfsOf = (key: string) =>
      plan.services.find((service) => service.key === key)?.tmpfs.map((tmpfs) => tmpfs.target);
    expect(tmpfsOf("grafana")).to.have.members(["/tmp", "/var/log/grafana"]);
    expect(tmpfsOf("mailpit")).to.deep.equal(["/tmp"]);
    expect(tmpfsOf("app")).to.deep.equal(["/tmp"]);
  });

  it("runs every service unprivileged, limited, with a healthcheck that needs no start interval", () => {
    for (const service of planFor().plan.services) {
      expect(service.user, service.key).not.to.match(/^(root|0)(:|$)/);
      expect(service.memoryMb, service.key).to.be.greaterThan(0);
      if (service.lifecycle === "service") expect(service.healthcheck, service.key).not.to.equal(undefined);
      for (const port of service.ports) expect(port.hostIp, service.key).to.equal("127.0.0.1");
    }
  });
});

describe("the Compose rendering of the plan", () => {
  const { plan } = planFor();
  const text = renderCompose({ plan, repositoryRoot: "..", secrets: composeSecrets });
  const compose = parse(text) as {
    name: string;
    services: Record<string, Record<string, unknown>>;
    volumes: Record<string, { name: string }>;
    networks: Record<string, { name: string }>;
    secrets: Record<string, { environment?: string }>;
  };

  it("has one service per planned service, named and limited as planned", () => {
    expect(compose.name).to.equal(plan.prefix);
    expect(Object.keys(compose.services)).to.deep.equal(plan.services.map((service) => service.key));
    for (const service of plan.services) {
      const rendered = compose.services[service.key] ?? {};
      expect(rendered.container_name, service.key).to.equal(service.containerName);
      expect(rendered.user, service.key).to.equal(service.user);
      expect(rendered.mem_limit, service.key).to.equal(`${service.memoryMb}m`);
      expect(rendered.memswap_limit, service.key).to.equal(`${service.memoryMb}m`);
      expect(rendered.cap_drop, service.key).to.deep.equal(["ALL"]);
      const dependsOn = Object.keys((rendered.depends_on as Record<string, unknown> | undefined) ?? {});
      expect(dependsOn, service.key).to.deep.equal([...service.after]);
    }
  });

  it("runs node exporter with the host's PID namespace and its root read-only, on the private network only", () => {
    const planned = plan.services.find((service) => service.key === "node-exporter");
    const rendered = compose.services["node-exporter"] ?? {};
    expect(planned?.image).to.deep.equal({ kind: "pinned", ref: "prom/node-exporter:v1.12.1" });
    expect(rendered.pid).to.equal("host");
    expect(rendered.volumes).to.deep.equal([
      { type: "bind", source: "/", target: hostRootfsTarget, read_only: true },
    ]);
    expect(rendered.ports).to.equal(undefined);
    expect(rendered.network_mode).to.equal(undefined);
    expect(rendered.networks).to.deep.equal({ stack: { aliases: ["node-exporter"] } });
    expect(rendered.command).to.deep.equal([
      "--web.listen-address=:9100",
      `--path.rootfs=${hostRootfsTarget}`,
    ]);
    for (const [key, other] of Object.entries(compose.services)) {
      if (key === "node-exporter") continue;
      if (key === "cadvisor") {
        expect(other.pid, key).to.equal(undefined);
        continue;
      }
      expect(other.pid, key).to.equal(undefined);
      const binds = ((other.volumes as { type: string; source: string }[] | undefined) ?? []).filter(
        (mount) => mount.type === "bind" && !mount.source.startsWith("./"),
      );
      expect(binds, key).to.deep.equal([]);
    }
    const off = planFor({ host: { enabled: false } }).plan;
    expect(off.services.map((service) => service.key)).not.to.include("node-exporter");
    expect(off.services.find((service) => service.key === "prometheus-0")?.after).not.to.include(
      "node-exporter",
    );
  });

  it("runs the blackbox exporter only while there are probes: as nobody, read-only, with its modules, no published port", () => {
    expect(plan.services.map((service) => service.key)).not.to.include("blackbox-exporter");
    const probes = { probes: [{ name: "site", http: { url: "https://example.com/" } }] };
    const withProbes = planFor(probes);
    const planned = withProbes.plan.services.find((service) => service.key === "blackbox-exporter");
    expect(planned?.image).to.deep.equal({ kind: "pinned", ref: "prom/blackbox-exporter:v0.27.0" });
    expect(planned?.files.map(({ source, target }) => [source, target])).to.deep.equal([
      [renderedPaths.blackboxConfig, "/etc/blackbox_exporter/config.yml"],
    ]);
    expect(planned?.healthcheck?.test).to.deep.equal([
      "wget",
      "-q",
      "--spider",
      "http://127.0.0.1:9115/-/healthy",
    ]);
    expect(planned?.memoryMb).to.equal(64);
    expect(withProbes.plan.services.find((service) => service.key === "prometheus-0")?.after).to.include(
      "blackbox-exporter",
    );
    const rendered =
      parse(renderCompose({ plan: withProbes.plan, repositoryRoot: "..", secrets: composeSecrets })).services[
        "blackbox-exporter"
      ] ?? {};
    expect(rendered.ports).to.equal(undefined);
    expect(rendered.user).to.equal("65534:65534");
    expect(rendered.read_only).to.equal(true);
    expect(rendered.cap_drop).to.deep.equal(["ALL"]);
    expect(rendered.mem_limit ?? rendered.deploy).to.not.equal(undefined);
    expect(rendered.networks).to.deep.equal({ stack: { aliases: ["blackbox-exporter"] } });
  });

  it("runs cAdvisor with its README's read-only mounts and /dev/kmsg, SYSLOG only, unpublished, not privileged", () => {
    const rendered = compose.services.cadvisor ?? {};
    const planned = plan.services.find((service) => service.key === "cadvisor");
    expect(planned?.image).to.deep.equal({ kind: "pinned", ref: "gcr.io/cadvisor/cadvisor:v0.52.1" });
    expect(rendered.volumes).to.deep.equal(
      [
        ["/", "/rootfs"],
        ["/var/run", "/var/run"],
        ["/sys", "/sys"],
        ["/var/lib/docker", "/var/lib/docker"],
      ].map(([source, target]) => ({ type: "bind", source, target, read_only: true })),
    );
    expect(rendered.devices).to.deep.equal(["/dev/kmsg:/dev/kmsg:r"]);
    expect(rendered.cap_drop).to.deep.equal(["ALL"]);
    expect(rendered.cap_add).to.deep.equal(["CAP_SYSLOG"]);
    expect(rendered.privileged).to.equal(undefined);
    expect(rendered.ports).to.equal(undefined);
    expect(rendered.read_only).to.equal(true);
    expect(rendered.networks).to.deep.equal({ stack: { aliases: ["cadvisor"] } });
    for (const [key, other] of Object.entries(compose.services)) {
      if (key === "cadvisor") continue;
      expect(other.devices, key).to.equal(undefined);
      expect(other.cap_add, key).to.equal(undefined);
    }
    for (const off of [{ host: { containers: false } }, { host: { enabled: false } }])
      expect(planFor(off).plan.services.map((service) => service.key)).not.to.include("cadvisor");
  });

  it("names its volumes and network as the Pulumi program does", () => {
    expect(Object.values(compose.volumes).map(({ name }) => name)).to.deep.equal(Object.values(plan.volumes));
    expect(compose.networks.stack?.name).to.equal(plan.network);
  });

  it("writes every dollar literally, so Compose interpolates nothing", () => {
    const grafana = compose.services.grafana ?? {};
    const script = (grafana.entrypoint as string[])[2] ?? "";
    expect(script).to.include("$$GF_PATHS_DATA");
    expect(text.replaceAll("$$", "")).not.to.include("$");
  });

  it("mounts each read-only root and its tmpfs as planned, but where a secret is copied in", () => {
    const readOnly: string[] = [];
    for (const service of plan.services) {
      const rendered = compose.services[service.key] ?? {};
      const copiesSecret = service.secrets.some(({ secret }) => !("file" in composeSecrets[secret]));
      expect(rendered.read_only ?? false, service.key).to.equal(
        service.readOnlyRootFilesystem && !copiesSecret,
      );
      if (rendered.read_only) readOnly.push(service.key);
      expect(rendered.tmpfs ?? [], service.key).to.deep.equal(
        service.tmpfs.map((tmpfs) => `${tmpfs.target}:size=${tmpfs.sizeMb}m,mode=1777`),
      );
    }
    // Grafana's password comes from the environment here, so Compose copies it in.
    expect(readOnly).to.have.members(plan.services.map((s) => s.key).filter((key) => key !== "grafana"));
    const grafana = plan.services.find(
      (service) => service.key === "grafana",
    ) as (typeof plan.services)[number];
    expect(
      composeRootIsReadOnly(grafana, {
        secrets: { ...composeSecrets, grafanaAdminPassword: { file: "/run/password" } },
      }),
    ).to.equal(true);
  });

  it("reads secrets from the environment and holds none", () => {
    expect(compose.secrets).to.deep.equal({
      grafana_admin_password: { environment: "WATCHTOWER_GRAFANA_ADMIN_PASSWORD" },
    });
  });

  it("labels a service with a digest of its files, so a changed file recreates it and nothing else", () => {
    const changed = parse(
      renderCompose({
        plan: planFor({ alerts: { instanceDown: { for: "45s" } } }).plan,
        repositoryRoot: "..",
        secrets: composeSecrets,
      }),
    ) as typeof compose;
    const digest = (document: typeof compose, key: string) =>
      (document.services[key]?.labels as Record<string, string> | undefined)?.[filesDigestLabel];
    const differing = Object.keys(compose.services).filter(
      (key) => digest(compose, key) !== digest(changed, key),
    );
    expect(differing).to.deep.equal(["prometheus-0", "prometheus-1"]);
  });
});
