/**
 * The deployment plan: every service of the stack as plain data (image, user, command, environment, ports,
 * files, secrets, volumes, healthcheck, start order, limits). The Pulumi program (`infra/`) and the Compose
 * renderer (`compose.ts`) each map it mechanically, so a decision such as a user, a path, a mode or a limit is
 * made once, here, and both renderings and their tests read it from here.
 */
import { createHash } from "node:crypto";
import * as path from "node:path";
import { probePaths } from "../../service/metrics-contract";
import { smtpPasswordFile } from "../alertmanager/config";
import { exporterPasswordHash, renderExporterWebConfig } from "../exporters/web-config";
import { grafanaDashboardsDir } from "../grafana/provider";
import { k6RunCommand, loadtestScriptPath } from "../loadtest/plan";
import { jobs } from "../names";
import { clusterWaitMs } from "../prometheus/alert-timing";
import {
  alertmanagerHostPort,
  containerPorts,
  dockerAliases,
  dockerName,
  longRunningServiceKeys,
  prometheusHostPort,
  publishedUrl,
} from "../runtime/docker-endpoints";
import { type Endpoints, firstReplica, type HostPort } from "../runtime/endpoints";
import { type RenderedFiles, renderedPaths } from "../runtime/layout";
import {
  alertmanagerFlags,
  blackboxExporterFlags,
  cadvisorFlags,
  nodeExporterFlags,
  prometheusFlags,
} from "../runtime/server-flags";
import {
  alertmanager,
  blackboxExporter,
  cadvisorImage,
  grafanaImage,
  imageRef,
  k6,
  mailpitImage,
  nodeExporter,
  nodeImage,
  prometheus,
} from "../runtime/versions";
import { type DockerWatchedHost, dockerHosts } from "../settings/hosts";
import type { Settings } from "../settings/schema";
import type { UserService } from "../settings/targets";

/** The secrets a service may be handed as a file; the plan names them, the renderings supply their content. */
export type SecretName = "grafanaAdminPassword" | "smtpPassword" | "hostExporterPassword";

/** A config file: where the process reads it, and where it sits in the rendered folder. */
export interface PlannedFile {
  readonly target: string;
  /** Path relative to the rendered folder, as `configs/runtime/layout.ts` lays it out. */
  readonly source: string;
  readonly content: string;
}

/**
 * A secret file. Its mode is 0444 and it names no owner: the Docker provider chowns an upload that names an
 * owner through the engine, and Engine 20.10 looks a numeric `uid:gid` up in the host's passwd database and
 * fails. World-readable inside the container is what Compose gives its file secrets too; only that service's
 * processes see the container's filesystem.
 */
export interface PlannedSecret {
  readonly target: string;
  readonly secret: SecretName;
  /**
   * Set when the file is made from the secret rather than being it: its content is `render(secret)`, and
   * `source` is where `npm run render` writes it. The exporters' web config holds a hash of the password.
   */
  readonly derived?: { readonly source: string; readonly render: (secret: string) => string };
}

/**
 * A file of the user's that a service is handed as it is (TLS material named by the settings): the plan names
 * it, and each rendering reads it where it runs. `secret` marks a private key: a Pulumi secret in the state.
 */
export interface PlannedCopy {
  readonly target: string;
  /** Where `npm run render` copies it, relative to the rendered folder. */
  readonly source: string;
  /** The file, relative to the project directory, and the setting that names it. */
  readonly path: string;
  readonly setting: string;
  readonly secret: boolean;
}

/** Mode of every file handed to a container: readable by the service's user, writable by nobody. */
export const plannedFileMode = "0444";

export interface PlannedHealthcheck {
  /** Arguments of an exec-form test (no shell). */
  readonly test: readonly string[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly startPeriodMs: number;
}

export type PlannedImage =
  | { readonly kind: "pinned"; readonly ref: string }
  /** Built from this repository: context is the repository root, the Dockerfile relative to it. */
  | {
      readonly kind: "build";
      readonly tag: string;
      readonly dockerfile: string;
      readonly args: Readonly<Record<string, string>>;
    };

export interface PlannedPort {
  readonly container: number;
  readonly host: number;
  readonly hostIp: string;
}

export interface PlannedVolume {
  /** Key of the volume in `DeploymentPlan.volumes`. */
  readonly volume: string;
  readonly target: string;
}

/**
 * A directory of the Docker host bind-mounted into the container, always read-only: what a host exporter reads.
 * No propagation is asked for: node exporter's README adds `rslave`, which an engine refuses where the host's
 * `/` is neither a shared nor a slave mount, so the engine's default applies (Engine 20.10 of the Docker tests
 * chose `rslave` for `/` itself). With a private mount, a filesystem mounted on the host after the container
 * started is seen once it restarts.
 */
export interface PlannedHostMount {
  readonly source: string;
  readonly target: string;
  readonly readOnly: true;
}

/** A device node of the Docker host, passed into the container at the same path, read-only. */
export interface PlannedDevice {
  readonly path: string;
  readonly permissions: "r";
}

/**
 * A file system the container gets in memory, for a program that writes scratch files under a read-only root.
 * Its pages count towards the container's memory limit, so each is small.
 */
export interface PlannedTmpfs {
  readonly target: string;
  readonly sizeMb: number;
}

/** The mount options of a tmpfs, as Docker's `--tmpfs <target>:<options>` takes them (mode 1777, as /tmp). */
export function tmpfsOptions(tmpfs: PlannedTmpfs): string {
  return `size=${tmpfs.sizeMb}m,mode=1777`;
}

export interface ServicePlan {
  /** Compose service name, and the suffix of the Docker container name. */
  readonly key: string;
  /**
   * The `hosts` entry whose Docker engine runs the service, on that machine's default network with its ports
   * published there; unset for the stack's own Docker host and private network.
   */
  readonly machine?: string;
  /** One of the stack's own services, or a service of the user's (`services` in the settings). */
  readonly origin: "stack" | "user";
  /**
   * Replicas of one server share a group (`prometheusGroup`): one image, declared together, each with its number
   * in the group. Unset for a service that stands alone.
   */
  readonly group?: { readonly name: string; readonly index: number };
  readonly containerName: string;
  /** Names on the private network that the rendered configs dial. */
  readonly aliases: readonly string[];
  readonly image: PlannedImage;
  /**
   * `uid:gid` or a user name the image defines; every service of the stack runs unprivileged. Unset for a user
   * service: its image's own USER.
   */
  readonly user?: string;
  readonly entrypoint?: readonly string[];
  readonly command?: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  readonly workingDir?: string;
  /** Published only on the bind address: Docker's published ports bypass host firewalls. */
  readonly ports: readonly PlannedPort[];
  readonly files: readonly PlannedFile[];
  readonly secrets: readonly PlannedSecret[];
  /** Files of the user's, handed over as they are. */
  readonly copies?: readonly PlannedCopy[];
  readonly volumes: readonly PlannedVolume[];
  /** Directories of the Docker host, read-only: only a host exporter has any. */
  readonly hostMounts: readonly PlannedHostMount[];
  /**
   * `host`: the container shares the host's PID namespace, so /proc lists the host's processes (node exporter's
   * process and pressure figures). Unset: a namespace of its own.
   */
  readonly pidMode?: "host";
  /** Devices of the Docker host the container may read: only cAdvisor has one, the kernel's log. */
  readonly devices?: readonly PlannedDevice[];
  /** Capabilities added back after every one is dropped: only cAdvisor has one. */
  readonly capAdd?: readonly string[];
  readonly healthcheck?: PlannedHealthcheck;
  /** `/etc/hosts` entries; `host-gateway` is the Docker host, as Docker Desktop's host.docker.internal is. */
  readonly extraHosts?: readonly { readonly host: string; readonly ip: string }[];
  /** Longest wait for the healthcheck to pass once created; creation fails after it. */
  readonly healthyWithinSeconds?: number;
  /** Services that must be healthy before this one starts, and that are replaced before it. */
  readonly after: readonly string[];
  readonly memoryMb: number;
  /** A service runs until stopped; a one-off (the load test) runs once per creation. */
  readonly lifecycle: "service" | "one-off";
  /**
   * Whether the root file system is mounted read-only: the process then writes only to its volumes and its
   * `tmpfs` mounts. False only where the image's writable paths are unknown (a user's own image).
   */
  readonly readOnlyRootFilesystem: boolean;
  /** Scratch space in memory, where the program writes outside its volumes. */
  readonly tmpfs: readonly PlannedTmpfs[];
}

/**
 * Where a secret's content comes from. The plan names the source and never holds the content as data: a
 * printed or serialized plan shows no secret (`content` is a function, which JSON leaves out).
 */
export type PlannedSecretSource =
  /** Given in the settings at `setting`. */
  | { readonly kind: "setting"; readonly setting: string; readonly content: () => string }
  /** In the file at `path` (relative to the project directory), named by the setting `setting`. */
  | { readonly kind: "file"; readonly setting: string; readonly path: string }
  /** Generated once and kept: letters and digits only, as it is typed into a login form and pasted into shells. */
  | { readonly kind: "generated"; readonly length: number };

/** What a person opens or runs once the stack is up: each a URL or a command, or a sentence saying why not. */
export interface PlannedAccess {
  readonly appUrl: string;
  readonly prometheusUrls: readonly string[];
  /** One per Alertmanager replica; any shows the cluster's silences. */
  readonly alertmanagerUrls: readonly string[];
  readonly grafanaUrl: string;
  /** The inbox's web UI, or where e-mail goes instead when `email.smarthost` names a real SMTP server. */
  readonly mailpitUrl: string;
  readonly grafanaAdminUser: string;
  /** The command that runs the load test again, or how to turn it on. */
  readonly loadtestRerun: string;
}

/** The delivery check run on `pulumi up`: proves that alert e-mail reaches a person (infra/delivery-check.ts). */
export type PlannedDeliveryCheck =
  | {
      readonly enabled: true;
      /** The first Alertmanager replica's URL as this machine reaches it: its published port. */
      readonly alertmanagerUrl: string;
      /**
       * How long that replica may wait for its peers before it sends: it may be last in the cluster's order,
       * and the check sends to it alone.
       */
      readonly clusterWaitMs: number;
      /** Mailpit's published web UI; unset when `email.smarthost` names a real SMTP server. */
      readonly inboxUrl?: string;
      /** The rendered alertmanager.yml, which decides delivery. */
      readonly alertmanagerConfig: string;
      /** The e-mail settings but the password; the password's content comes from `secrets.smtpPassword`. */
      readonly email: Omit<Settings["email"], "authPassword">;
      /** Key of the service whose log names the SMTP error of a failed check. */
      readonly logsOf: string;
      /** Keys of the services that must be up before the check runs. */
      readonly after: readonly string[];
    }
  | { readonly enabled: false; readonly reason: string };

/** Another machine's Docker engine, which runs the services planned for it (`hosts[].docker`). */
export interface PlannedMachine {
  readonly name: string;
  /** As DOCKER_HOST names it: ssh:// or tcp://. */
  readonly engine: string;
  /** The client TLS files of a tcp:// engine, each with the setting that names it. */
  readonly tls?: Readonly<Record<"ca" | "cert" | "key", { readonly path: string; readonly setting: string }>>;
}

export interface DeploymentPlan {
  /** `<project>-<stack>`: prefix of every Docker object, unique per stack on one Docker host. */
  readonly prefix: string;
  readonly network: string;
  /** Named volumes by key; each outlives the stack when `keepOnDestroy`. */
  readonly volumes: Readonly<Record<string, string>>;
  readonly keepVolumesOnDestroy: boolean;
  readonly services: readonly ServicePlan[];
  /** The other machines that run services of the plan. */
  readonly machines: readonly PlannedMachine[];
  /** Where the content of each secret a service names comes from. */
  readonly secrets: Readonly<Partial<Record<SecretName, PlannedSecretSource>>>;
  readonly access: PlannedAccess;
  readonly deliveryCheck: PlannedDeliveryCheck;
}

/** What every container shares: hardening, log rotation and a graceful stop. */
export const containerBaseline = {
  /**
   * Without a grace period a replaced container is killed at once: Alertmanager writes its silences and
   * notification log on a clean shutdown, Prometheus would replay its write-ahead log, the app would drop
   * requests in flight.
   */
  stopGraceSeconds: 30,
  // setuid binaries cannot raise privileges, and no process needs a capability: every one listens above 1024
  // and owns the files it writes.
  securityOpts: ["no-new-privileges"],
  capDrop: ["ALL"],
  // Docker keeps json-file logs forever by default; a stack left running for weeks would fill the disk.
  logDriver: "json-file",
  logOptions: { "max-size": "10m", "max-file": "3" },
} as const;

/** `nobody`: the user the Prometheus and Alertmanager images run as, and enough for Mailpit. */
const nobody = "65534:65534";

/**
 * A healthcheck: every 5 s, three failures in a row mark the container unhealthy. No start interval: it needs
 * Docker API 1.44 (Engine 25), and Engine 20.10 refuses a container that sets one.
 */
function healthcheck(test: readonly string[], startPeriodMs = 30_000): PlannedHealthcheck {
  return { test, intervalMs: 5000, timeoutMs: 3000, retries: 3, startPeriodMs };
}

/** The Docker host, for `extraHosts`. */
export const dockerHostGateway = { host: "host.docker.internal", ip: "host-gateway" } as const;

/**
 * A container of the user's own: their pinned image on the private network, reached by its job name, with the
 * stack's hardening (containerBaseline), no published port and the healthcheck they give.
 */
function userService(service: UserService, name: (what: string) => string): ServicePlan {
  return {
    key: service.job,
    origin: "user",
    containerName: name(service.job),
    aliases: [service.job],
    image: { kind: "pinned", ref: service.image },
    environment: service.env,
    ports: [],
    files: [],
    secrets: [],
    volumes: [],
    hostMounts: [],
    healthcheck: healthcheck(service.healthcheck),
    healthyWithinSeconds: 120,
    extraHosts: [dockerHostGateway],
    after: [],
    // A default for a small HTTP service; nothing measured it, as nothing knows the image.
    memoryMb: 512,
    lifecycle: "service",
    // Nothing here knows where the image writes: its root stays writable.
    readOnlyRootFilesystem: false,
    tmpfs: [],
  };
}

/** The group of the Prometheus replicas. */
export const prometheusGroup = jobs.prometheus;

/** The k6 run's key; the other services are keyed by their network alias (`dockerAliases`). */
export const loadtestServiceKey = "loadtest";

/** The service's Dockerfile, relative to the repository root. */
export const appDockerfile = "service/Dockerfile";

/**
 * The app image's build arguments: the pinned Node.js base, and the port the app listens on, which the image
 * both EXPOSEs and sets as its PORT. The one definition of that port is `containerPorts.app`.
 */
export const appBuildArgs = { NODE_IMAGE: nodeImage, PORT: String(containerPorts.app) } as const;

/** Where each image reads its files: the official images' own paths. */
export const containerPaths = {
  prometheusConfig: "/etc/prometheus/prometheus.yml",
  prometheusData: "/prometheus",
  alertmanagerConfigDir: "/etc/alertmanager",
  alertmanagerData: "/alertmanager",
  grafanaProvisioning: "/etc/grafana/provisioning",
  grafanaData: "/var/lib/grafana",
  grafanaAdminPassword: "/etc/grafana/secrets/admin_password",
  loadtestDir: "/home/k6/watchtower",
  /** Where the official blackbox exporter image keeps its modules. */
  blackboxConfig: "/etc/blackbox_exporter/config.yml",
  /** node exporter's web config and TLS files on a machine of `hosts[].docker`. */
  nodeExporterWebConfig: "/etc/node_exporter/web-config.yml",
  nodeExporterTlsCert: "/etc/node_exporter/tls/cert.pem",
  nodeExporterTlsKey: "/etc/node_exporter/tls/key.pem",
} as const;

/**
 * Path of a rules file (the alerts by default, or the SLOs') inside a Prometheus container. The rendered config
 * names its rule files relative to itself (`rules/*.yml`), so they keep the position they have next to the
 * config in the rendered layout.
 */
export function prometheusRulesTarget(rulesFile: string = renderedPaths.alertRules): string {
  return prometheusFileTarget(rulesFile);
}

/** Where a file beside the Prometheus configs in the rendered layout sits in a Prometheus container. */
function prometheusFileTarget(relativePath: string): string {
  const relative = path.posix.relative(path.posix.dirname(renderedPaths.prometheusConfig(0)), relativePath);
  return path.posix.join(path.posix.dirname(containerPaths.prometheusConfig), relative);
}

export const alertmanagerConfigTarget = path.posix.join(
  containerPaths.alertmanagerConfigDir,
  path.posix.basename(renderedPaths.alertmanagerConfig),
);
/** The SMTP password file, at the path the rendered config names relative to Alertmanager's working directory. */
export const alertmanagerSmtpPasswordTarget = path.posix.join(
  containerPaths.alertmanagerConfigDir,
  smtpPasswordFile,
);

/** Where the k6 script files sit in the rendered folder: their repository layout, under one directory. */
export function loadtestScriptSource(relativePath: string): string {
  return path.posix.join(path.posix.dirname(renderedPaths.loadtestOptions), "script", relativePath);
}

/**
 * The image's entrypoint, preceded by a password reset. GF_SECURITY_ADMIN_PASSWORD only seeds a new database,
 * so on an existing one the current password is written with Grafana's own CLI (user 1 is the admin that the
 * first start created). The CLI gets the same paths the image's /run.sh gives the server, or it would open a
 * different database. A new database gets the password from GF_SECURITY_ADMIN_PASSWORD__FILE instead, which
 * /run.sh reads.
 */
export const grafanaResetPasswordThenStart = [
  "set -eu",
  'if [ -f "$GF_PATHS_DATA/grafana.db" ]; then',
  '  grafana cli --homepath "$GF_PATHS_HOME" --config "$GF_PATHS_CONFIG" \\',
  '    --configOverrides "cfg:default.paths.data=$GF_PATHS_DATA cfg:default.paths.logs=$GF_PATHS_LOGS cfg:default.paths.plugins=$GF_PATHS_PLUGINS cfg:default.log.mode=console" \\',
  '    admin reset-admin-password --password-from-stdin < "$GF_SECURITY_ADMIN_PASSWORD__FILE"',
  "fi",
  'exec /run.sh "$@"',
].join("\n");

/**
 * Grafana's and Mailpit's phone-home settings, off: the stack makes no outbound connection but those the user
 * configures (the SMTP smarthost, the dead man's switch URL). Keys from Grafana's conf/defaults.ini
 * ([analytics], [news], [security], [plugins], [snapshots]) and Mailpit's MP_DISABLE_VERSION_CHECK (v1.26.2+).
 */
export const phoneHomeOff = {
  grafana: {
    GF_ANALYTICS_REPORTING_ENABLED: "false",
    GF_ANALYTICS_CHECK_FOR_UPDATES: "false",
    GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES: "false",
    GF_ANALYTICS_FEEDBACK_LINKS_ENABLED: "false",
    GF_NEWS_NEWS_FEED_ENABLED: "false",
    GF_SECURITY_DISABLE_GRAVATAR: "true",
    GF_PLUGINS_PREINSTALL_DISABLED: "true",
    GF_PLUGINS_PREINSTALL_AUTO_UPDATE: "false",
    GF_SNAPSHOTS_EXTERNAL_ENABLED: "false",
  },
  mailpit: { MP_DISABLE_VERSION_CHECK: "true" },
} as const;

/** The user the official Grafana image runs as (uid 472, group root). */
const grafanaUser = "472:0";
/** The unprivileged user of the official Node.js images. */
const nodeUser = "node";
/** The unprivileged user of the k6 image. */
const k6User = "12345:12345";

/** The app image's local tag, for `docker images`; containers run it by digest. */
export function appImageTag(prefix: string, stack: string): string {
  return `${prefix}-app:${stack}`;
}

export interface PlanInputs {
  readonly settings: Settings;
  readonly endpoints: Endpoints;
  readonly files: RenderedFiles;
  /** The k6 script and the files it imports, by path relative to the repository root; empty when off. */
  readonly loadtestScript: Readonly<Record<string, string>>;
  /** `<project>-<stack>`. */
  readonly prefix: string;
  /** Tag of the app image, built locally. */
  readonly appImageTag: string;
}

function requireFile(files: RenderedFiles, relativePath: string): string {
  const content = files[relativePath];
  if (content === undefined) {
    throw new Error(
      `the renderers produced no ${relativePath}; rendered: ${Object.keys(files).sort().join(", ")}`,
    );
  }
  return content;
}

function file(files: RenderedFiles, source: string, target: string): PlannedFile {
  return { target, source, content: requireFile(files, source) };
}

function port(endpoint: HostPort): number {
  return Number(endpoint.slice(endpoint.lastIndexOf(":") + 1));
}

function alias(endpoint: HostPort): string {
  return endpoint.slice(0, endpoint.lastIndexOf(":"));
}

/** The whole stack as data. Pure: the same inputs give the same plan. */
export function deploymentPlan(inputs: PlanInputs): DeploymentPlan {
  const { settings, endpoints, files, prefix } = inputs;
  const hostIp = settings.network.bindAddress;
  const name = (what: string) => dockerName(prefix, what);
  // Which optional services run is the one list the renderers read too (ContainerMissing expects them).
  const running = new Set<string>(longRunningServiceKeys(settings));
  const volumes: Record<string, string> = {};
  const volume = (key: string, target: string): PlannedVolume => {
    volumes[key] = name(key);
    return { volume: key, target };
  };

  const appPort = port(endpoints.app);
  if (String(appPort) !== appBuildArgs.PORT) {
    throw new Error(`the app's endpoint ${endpoints.app} is not on the port its image is built for`);
  }
  const demoApp: ServicePlan = {
    key: dockerAliases.app,
    origin: "stack",
    containerName: name(dockerAliases.app),
    aliases: [alias(endpoints.app)],
    image: {
      kind: "build",
      tag: inputs.appImageTag,
      dockerfile: appDockerfile,
      args: { ...appBuildArgs },
    },
    user: nodeUser,
    environment: { PORT: String(appPort) },
    ports: [{ container: appPort, host: settings.ports.app, hostIp }],
    files: [],
    secrets: [],
    volumes: [],
    hostMounts: [],
    // The image is built FROM a Node.js image, so node itself can probe: no curl or wget needed.
    healthcheck: healthcheck([
      "node",
      "-e",
      `fetch("http://127.0.0.1:${appPort}${probePaths.readiness}").then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
    ]),
    healthyWithinSeconds: 60,
    after: [],
    // Peaks near a third of this under the load test (docs/performance.md, "What the stack costs its host").
    memoryMb: 256,
    lifecycle: "service",
    // The bundle is read-only code and logs go to stdout; /tmp is Node's os.tmpdir(), for anything that asks.
    readOnlyRootFilesystem: true,
    tmpfs: [{ target: "/tmp", sizeMb: 16 }],
  };

  const app = running.has(dockerAliases.app) ? demoApp : undefined;
  const userServices = settings.services.map((service) => userService(service, name));

  const inbox: ServicePlan | undefined = running.has(dockerAliases.mailpit)
    ? {
        key: dockerAliases.mailpit,
        origin: "stack",
        containerName: name(dockerAliases.mailpit),
        aliases: [alias(endpoints.inboxSmtp)],
        image: { kind: "pinned", ref: mailpitImage },
        user: nobody,
        environment: {
          MP_SMTP_BIND_ADDR: `0.0.0.0:${port(endpoints.inboxSmtp)}`,
          MP_UI_BIND_ADDR: `0.0.0.0:${containerPorts.mailpitWeb}`,
          ...phoneHomeOff.mailpit,
        },
        // Only the web UI is published: SMTP is for the containers on the private network.
        ports: [{ container: containerPorts.mailpitWeb, host: settings.ports.mailpit, hostIp }],
        files: [],
        secrets: [],
        volumes: [],
        hostMounts: [],
        // Mailpit's own probe, the one its image declares.
        healthcheck: healthcheck(["/mailpit", "readyz"]),
        healthyWithinSeconds: 60,
        after: [],
        // Peaks at a fifth of this at most; Mailpit keeps at most 500 messages, so a long run adds little.
        memoryMb: 128,
        lifecycle: "service",
        // Without MP_DATABASE, Mailpit keeps its SQLite database in a temporary file under os.TempDir(): /tmp.
        // 500 alert e-mails take a few megabytes.
        readOnlyRootFilesystem: true,
        tmpfs: [{ target: "/tmp", sizeMb: 32 }],
      }
    : undefined;

  const hostExporter = running.has(dockerAliases.nodeExporter)
    ? nodeExporterService(endpoints.nodeExporter, name)
    : undefined;
  const containerExporter = running.has(dockerAliases.cadvisor)
    ? cadvisorService(endpoints.cadvisor, name)
    : undefined;
  const prober = running.has(dockerAliases.blackboxExporter)
    ? blackboxExporterService(endpoints.blackboxExporter, files, name)
    : undefined;

  const watchedByDocker = dockerHosts(settings.hosts);
  const settingPath = (host: DockerWatchedHost) => `hosts[${settings.hosts.indexOf(host)}]`;
  const machineServices = watchedByDocker.flatMap((host) =>
    exportersOnMachine(host, settingPath(host), endpoints, name),
  );
  const hostExporterPassword: PlannedSecret[] =
    watchedByDocker.length > 0
      ? [{ target: prometheusFileTarget(renderedPaths.hostExporterPassword), secret: "hostExporterPassword" }]
      : [];
  const hostExporterCas: PlannedCopy[] = watchedByDocker.map((host) => ({
    target: prometheusFileTarget(renderedPaths.hostExporterCa(host.name)),
    source: renderedPaths.hostExporterCa(host.name),
    path: host.docker.exporterTls.caFile,
    setting: `${settingPath(host)}.docker.exporterTls.caFile`,
    secret: false,
  }));

  const gossip = endpoints.alertmanagerCluster;
  const alertmanagerServices: ServicePlan[] = endpoints.alertmanagers.map((endpoint, replica) => {
    const key = dockerAliases.alertmanager(replica);
    const listenPort = port(endpoint);
    const externalUrl = endpoints.links.alertmanagers[replica];
    const gossipAddress = gossip[replica];
    if (externalUrl === undefined || gossipAddress === undefined) {
      throw new Error(`Alertmanager replica ${replica} (${endpoint}) has no link or no gossip address`);
    }
    return {
      key,
      origin: "stack",
      containerName: name(key),
      aliases: [alias(endpoint)],
      image: { kind: "pinned", ref: imageRef(alertmanager) },
      user: nobody,
      command: alertmanagerFlags(
        {
          configFile: alertmanagerConfigTarget,
          dataDir: containerPaths.alertmanagerData,
          listenAddress: `:${listenPort}`,
          externalUrl,
        },
        gossip.length > 1
          ? {
              // Every interface of the container: Alertmanager then advertises its address on the private
              // network, which Docker takes from a private range (RFC 1918) unless its daemon is told otherwise.
              listenAddress: `0.0.0.0:${port(gossipAddress)}`,
              peers: gossip.filter((_, other) => other !== replica),
              peerTimeout: settings.alertmanager.peerTimeout,
            }
          : undefined,
      ),
      environment: {},
      // Alertmanager reads `auth_password_file` relative to its working directory, not to the config file.
      workingDir: containerPaths.alertmanagerConfigDir,
      ports: [{ container: listenPort, host: alertmanagerHostPort(settings, replica), hostIp }],
      files: [file(files, renderedPaths.alertmanagerConfig, alertmanagerConfigTarget)],
      // The rendered config names the password file exactly when it authenticates.
      secrets:
        settings.email.authUsername === undefined
          ? []
          : [{ target: alertmanagerSmtpPasswordTarget, secret: "smtpPassword" }],
      volumes: [volume(`${key}-data`, containerPaths.alertmanagerData)],
      hostMounts: [],
      // amtool ships in the image; it fails unless the API answers.
      healthcheck: healthcheck([
        "/bin/amtool",
        "cluster",
        "show",
        `--alertmanager.url=http://127.0.0.1:${listenPort}`,
      ]),
      healthyWithinSeconds: 60,
      // Each replica after the one before it: a change replaces them one at a time, each once the one before
      // is healthy, so the cluster always has a replica that sends.
      after: [
        ...(inbox ? [inbox.key] : []),
        ...(replica > 0 ? [dockerAliases.alertmanager(replica - 1)] : []),
      ],
      // Peaks at a fifth to two fifths of this under the load test (docs/performance.md, "What the stack costs its host").
      memoryMb: 128,
      lifecycle: "service",
      // Silences and the notification log go to --storage.path (the volume); amtool only reads.
      readOnlyRootFilesystem: true,
      tmpfs: [],
    };
  });
  const [firstAlertmanager] = alertmanagerServices;
  if (firstAlertmanager === undefined) throw new Error("the endpoints list no Alertmanager replica");

  const replicas: ServicePlan[] = endpoints.prometheus.map((endpoint, replica) => {
    const key = dockerAliases.prometheus(replica);
    const externalUrl = endpoints.links.prometheus[replica];
    if (externalUrl === undefined) throw new Error(`Prometheus replica ${replica} (${endpoint}) has no link`);
    const listenPort = port(endpoint);
    return {
      key,
      origin: "stack",
      group: { name: prometheusGroup, index: replica },
      containerName: name(key),
      aliases: [alias(endpoint)],
      image: { kind: "pinned", ref: imageRef(prometheus) },
      user: nobody,
      command: prometheusFlags(
        {
          configFile: containerPaths.prometheusConfig,
          dataDir: containerPaths.prometheusData,
          listenAddress: `:${listenPort}`,
          externalUrl,
        },
        settings.prometheus.retention,
      ),
      environment: {},
      ports: [{ container: listenPort, host: prometheusHostPort(settings, replica), hostIp }],
      files: [
        file(files, renderedPaths.prometheusConfig(replica), containerPaths.prometheusConfig),
        file(files, renderedPaths.alertRules, prometheusRulesTarget()),
        file(files, renderedPaths.sloRules, prometheusRulesTarget(renderedPaths.sloRules)),
      ],
      secrets: hostExporterPassword,
      copies: hostExporterCas,
      volumes: [volume(`${key}-data`, containerPaths.prometheusData)],
      hostMounts: [],
      // Targets on the Docker host are written host.docker.internal:<port>, which Linux engines only resolve
      // when asked (Engine 20.10 added host-gateway for this).
      extraHosts: [dockerHostGateway],
      // The image has promtool, and no shell utilities are guaranteed: it asks the server whether it is ready.
      healthcheck: healthcheck(["/bin/promtool", "check", "ready", `--url=http://127.0.0.1:${listenPort}`]),
      // Replaying a large write-ahead log after a restart can take a while.
      healthyWithinSeconds: 180,
      // After the app and Alertmanager, so a fresh stack fires no InstanceDown while the app image builds. Each
      // replica after the one before it: a change that replaces them all then replaces one at a time, and a
      // healthy replica is always watching.
      after: [
        ...(app ? [app.key] : []),
        ...userServices.map((service) => service.key),
        ...(hostExporter ? [hostExporter.key] : []),
        ...(containerExporter ? [containerExporter.key] : []),
        ...(prober ? [prober.key] : []),
        ...alertmanagerServices.map((service) => service.key),
        ...(replica > 0 ? [dockerAliases.prometheus(replica - 1)] : []),
      ],
      // The load test peaks below a sixth of this (docs/performance.md, "What the stack costs its host"). The rest is for
      // what it does not exercise: dashboard queries over the retention, compaction after 3 h, WAL replay.
      memoryMb: 1024,
      lifecycle: "service",
      // The TSDB, its WAL and the active query log all live under --storage.tsdb.path (the volume).
      readOnlyRootFilesystem: true,
      tmpfs: [],
    };
  });

  const grafanaProvisioningRoot = path.posix.dirname(path.posix.dirname(renderedPaths.grafanaDatasources));
  const grafanaDashboardsSource = path.posix.dirname(renderedPaths.grafanaDashboard("any"));
  const grafanaFiles = Object.keys(files)
    .filter(
      (source) =>
        source.startsWith(`${grafanaProvisioningRoot}/`) ||
        path.posix.dirname(source) === grafanaDashboardsSource,
    )
    .sort()
    .map((source) =>
      file(
        files,
        source,
        path.posix.dirname(source) === grafanaDashboardsSource
          ? path.posix.join(grafanaDashboardsDir, path.posix.basename(source))
          : path.posix.join(
              containerPaths.grafanaProvisioning,
              path.posix.relative(grafanaProvisioningRoot, source),
            ),
      ),
    );
  const grafana: ServicePlan = {
    key: dockerAliases.grafana,
    origin: "stack",
    containerName: name(dockerAliases.grafana),
    aliases: [dockerAliases.grafana],
    image: { kind: "pinned", ref: grafanaImage },
    user: grafanaUser,
    entrypoint: ["/bin/sh", "-c", grafanaResetPasswordThenStart, "grafana-entrypoint"],
    environment: {
      GF_SERVER_HTTP_PORT: String(containerPorts.grafana),
      GF_SERVER_ROOT_URL: endpoints.links.grafana,
      GF_SECURITY_ADMIN_USER: settings.grafana.adminUser,
      GF_SECURITY_ADMIN_PASSWORD__FILE: containerPaths.grafanaAdminPassword,
      GF_USERS_ALLOW_SIGN_UP: "false",
      ...phoneHomeOff.grafana,
    },
    ports: [{ container: containerPorts.grafana, host: settings.ports.grafana, hostIp }],
    files: grafanaFiles,
    secrets: [{ target: containerPaths.grafanaAdminPassword, secret: "grafanaAdminPassword" }],
    volumes: [volume(`${dockerAliases.grafana}-data`, containerPaths.grafanaData)],
    hostMounts: [],
    // The official image ships curl for exactly this. The first start creates and migrates the database.
    healthcheck: healthcheck(
      ["curl", "-fsS", "-o", "/dev/null", `http://127.0.0.1:${containerPorts.grafana}/api/health`],
      60_000,
    ),
    healthyWithinSeconds: 180,
    after: [],
    // Not measured: only a stand-in of Grafana runs where the footprint bench ran.
    memoryMb: 512,
    lifecycle: "service",
    // The image's GF_PATHS_DATA and GF_PATHS_PLUGINS are on the volume (/var/lib/grafana). Its default log mode
    // is "console file", which writes GF_PATHS_LOGS (/var/log/grafana); SQLite and Grafana's own temporary
    // files go to /tmp.
    readOnlyRootFilesystem: true,
    tmpfs: [
      { target: "/tmp", sizeMb: 64 },
      { target: "/var/log/grafana", sizeMb: 16 },
    ],
  };

  const services = [
    ...(app ? [app] : []),
    ...userServices,
    ...(inbox ? [inbox] : []),
    ...(hostExporter ? [hostExporter] : []),
    ...(containerExporter ? [containerExporter] : []),
    ...(prober ? [prober] : []),
    ...alertmanagerServices,
    ...replicas,
    grafana,
    ...machineServices,
  ];
  const remoteWrite = endpoints.prometheus[0];
  if (settings.loadtest.enabled && remoteWrite !== undefined) {
    services.push(loadtestService(inputs, remoteWrite, name, services));
  }

  const loadtest = services.find((service) => service.key === loadtestServiceKey);
  const mailpitUrl = publishedUrl(settings, settings.ports.mailpit);
  return {
    prefix,
    network: prefix,
    volumes,
    keepVolumesOnDestroy: settings.data.keepOnDestroy,
    services,
    machines: watchedByDocker.map((host) => plannedMachine(host, settingPath(host))),
    secrets: plannedSecrets(settings),
    access: {
      appUrl: app ? publishedUrl(settings, settings.ports.app) : "the demo app is off: app.enabled is false",
      prometheusUrls: endpoints.links.prometheus,
      alertmanagerUrls: endpoints.links.alertmanagers,
      grafanaUrl: endpoints.links.grafana,
      mailpitUrl: inbox ? mailpitUrl : `no inbox: alert e-mail goes to ${settings.email.smarthost}`,
      grafanaAdminUser: settings.grafana.adminUser,
      loadtestRerun: loadtest
        ? `docker start --attach ${loadtest.containerName}`
        : "the load test is off: set loadtest.enabled to true in the stack's settings (Pulumi.<stack>.yaml) and run npm run up",
    },
    deliveryCheck: settings.delivery.checkOnUp
      ? {
          enabled: true,
          alertmanagerUrl: firstReplica(endpoints.links.alertmanagers, "Alertmanager"),
          clusterWaitMs: clusterWaitMs(settings, settings.alertmanager.replicas - 1),
          ...(inbox ? { inboxUrl: mailpitUrl } : {}),
          alertmanagerConfig: requireFile(files, renderedPaths.alertmanagerConfig),
          email: withoutPassword(settings.email),
          logsOf: firstAlertmanager.key,
          after: [...alertmanagerServices.map((service) => service.key), ...(inbox ? [inbox.key] : [])],
        }
      : { enabled: false, reason: "off: delivery.checkOnUp is false" },
  };
}

function withoutPassword(email: Settings["email"]): Omit<Settings["email"], "authPassword"> {
  const { authPassword: _, ...rest } = email;
  return rest;
}

/**
 * The secrets' sources. The Grafana password is generated unless the settings give one; the SMTP password
 * exists when the settings give it or a file holding it.
 */
function plannedSecrets(settings: Settings): DeploymentPlan["secrets"] {
  const { adminPassword } = settings.grafana;
  const { authPassword, authPasswordFile } = settings.email;
  return {
    grafanaAdminPassword:
      adminPassword === undefined
        ? { kind: "generated", length: 24 }
        : { kind: "setting", setting: "grafana.adminPassword", content: () => adminPassword },
    ...(dockerHosts(settings.hosts).length > 0
      ? { hostExporterPassword: { kind: "generated", length: 32 } as const }
      : {}),
    ...(authPassword !== undefined
      ? {
          smtpPassword: {
            kind: "setting",
            setting: "email.authPassword",
            content: () => authPassword,
          } as const,
        }
      : authPasswordFile !== undefined
        ? {
            smtpPassword: {
              kind: "file",
              setting: "email.authPasswordFile",
              path: authPasswordFile,
            } as const,
          }
        : {}),
  };
}

/** Where the host's root filesystem is mounted in node exporter's container, and its `--path.rootfs`. */
export const hostRootfsTarget = "/host";

/**
 * Node exporter on the stack's own host, as its README runs it in a container: the host's `/` read-only at
 * `--path.rootfs`, and the host's PID namespace.
 *
 * Not on the host's network: there it would listen on every interface of the host (nothing narrower is both
 * reachable from the replicas on the private network and unreachable from outside), and the stack publishes no
 * exporter. On the private network the replicas reach it by its alias and nothing else can; the price is that
 * its network figures are the container's own interface, not the host's (docs/hosts.md says so).
 *
 * As `nobody`, the image's own user: statfs() of a mount point and the world-readable files under /proc and
 * /sys need no privilege, so the read-only mount and the PID namespace do not call for root. A filesystem
 * mounted under a directory `nobody` cannot enter is reported with `node_filesystem_device_error` instead of
 * its size.
 */
/**
 * cAdvisor on the stack's own host, with the read-only mounts of its README's "Running cAdvisor in a Docker
 * Container": the host's `/` at /rootfs, /var/run (the Docker socket), /sys (the cgroups) and /var/lib/docker
 * (the containers' state). Not /dev/disk: it only names disks by id in machine figures the stack drops, and a
 * host without udev (a container, a CI runner) has none, where a bind mount of a missing path fails.
 *
 * Not `privileged`, which the README also uses: on a cgroup v2 host everything it reads is readable by root
 * with the mounts above. What narrower grants it needs instead: root (the image's user), because the Docker
 * socket and /var/lib/docker belong to root; and, of every capability dropped, SYSLOG back with the device
 * /dev/kmsg read-only, the kernel log where it reads OOM kills (`container_oom_events_total`): with
 * `kernel.dmesg_restrict=1`, the default of most distributions, reading it needs CAP_SYSLOG.
 *
 * No published port: its /metrics has no authentication, so only the replicas reach it, on the private
 * network. Its network figures are each container's own interfaces, read through /sys and /proc.
 */
function cadvisorService(endpoint: HostPort, name: (what: string) => string): ServicePlan {
  const listenPort = port(endpoint);
  return {
    key: dockerAliases.cadvisor,
    origin: "stack",
    containerName: name(dockerAliases.cadvisor),
    aliases: [alias(endpoint)],
    image: { kind: "pinned", ref: cadvisorImage },
    // The image's entrypoint is cadvisor -logtostderr; these are its arguments. Docker's containers only, and
    // none of their labels: the scrape job would drop them anyway.
    command: cadvisorFlags({ port: listenPort }),
    environment: {},
    ports: [],
    files: [],
    secrets: [],
    volumes: [],
    hostMounts: [
      { source: "/", target: "/rootfs", readOnly: true },
      { source: "/var/run", target: "/var/run", readOnly: true },
      { source: "/sys", target: "/sys", readOnly: true },
      { source: "/var/lib/docker", target: "/var/lib/docker", readOnly: true },
    ],
    devices: [{ path: "/dev/kmsg", permissions: "r" }],
    capAdd: ["CAP_SYSLOG"],
    // The official image ships busybox's wget, as its own HEALTHCHECK uses it.
    healthcheck: healthcheck(["wget", "-q", "--spider", `http://127.0.0.1:${listenPort}/healthz`]),
    healthyWithinSeconds: 60,
    after: [],
    // Its own figures grow with the number of containers; a few dozen here.
    memoryMb: 256,
    lifecycle: "service",
    readOnlyRootFilesystem: true,
    tmpfs: [],
  };
}

function nodeExporterService(endpoint: HostPort, name: (what: string) => string): ServicePlan {
  const listenPort = port(endpoint);
  return {
    key: dockerAliases.nodeExporter,
    origin: "stack",
    containerName: name(dockerAliases.nodeExporter),
    aliases: [alias(endpoint)],
    image: { kind: "pinned", ref: imageRef(nodeExporter) },
    user: nobody,
    // The image's entrypoint is node_exporter; these are its arguments.
    command: nodeExporterFlags({ listenAddress: `:${listenPort}`, rootfs: hostRootfsTarget }),
    environment: {},
    // No published port: only the replicas scrape it, over the private network.
    ports: [],
    files: [],
    secrets: [],
    volumes: [],
    hostMounts: [{ source: "/", target: hostRootfsTarget, readOnly: true }],
    pidMode: "host",
    // The official image is busybox-based: its wget asks the exporter's landing page.
    healthcheck: healthcheck(["wget", "-q", "--spider", `http://127.0.0.1:${listenPort}/`]),
    healthyWithinSeconds: 60,
    after: [],
    // A few tens of megabytes on a small host; the rest is for hosts with many CPUs, disks and interfaces.
    memoryMb: 128,
    lifecycle: "service",
    // It only reads: /proc, /sys and the host's root under /host.
    readOnlyRootFilesystem: true,
    tmpfs: [],
  };
}

/** A machine of `hosts[].docker`, with the settings that name its engine's client TLS files. */
function plannedMachine(host: DockerWatchedHost, settingPath: string): PlannedMachine {
  const { engine, tls } = host.docker;
  const setting = (key: string) => `${settingPath}.docker.tls.${key}`;
  return {
    name: host.name,
    engine,
    ...(tls
      ? {
          tls: {
            ca: { path: tls.caFile, setting: setting("caFile") },
            cert: { path: tls.certFile, setting: setting("certFile") },
            key: { path: tls.keyFile, setting: setting("keyFile") },
          },
        }
      : {}),
  };
}

/**
 * The exporters the stack runs on a machine of `hosts[].docker`, through its engine: node exporter as on the
 * stack's own host, but published on every interface of the machine (the replicas scrape it across the
 * network) behind TLS and basic auth, and cAdvisor when asked, published only on the private address the
 * settings give, since it has no authentication of its own.
 *
 * No healthcheck for node exporter: every path of it, `/` included, asks for the password, which a
 * healthcheck inside the container would have to hold. The replicas' HostExporterDown watches it instead,
 * through the same TLS and password as every scrape.
 */
function exportersOnMachine(
  host: DockerWatchedHost,
  settingPath: string,
  endpoints: Endpoints,
  name: (what: string) => string,
): ServicePlan[] {
  const { docker } = host;
  const paths = renderedPaths.machineExporters(host.name);
  // Named for the machine too: unique even where one engine runs the stack and a machine's exporters.
  const onMachine = (key: string) => `${host.name}-${key}`;
  const local = nodeExporterService(endpoints.nodeExporter, name);
  const tlsFiles = {
    certFile: containerPaths.nodeExporterTlsCert,
    keyFile: containerPaths.nodeExporterTlsKey,
  };
  const nodeExporterOnMachine: ServicePlan = {
    ...local,
    key: onMachine(dockerAliases.nodeExporter),
    machine: host.name,
    containerName: name(onMachine(dockerAliases.nodeExporter)),
    aliases: [],
    command: [...(local.command ?? []), `--web.config.file=${containerPaths.nodeExporterWebConfig}`],
    ports: [{ container: port(endpoints.nodeExporter), host: docker.nodeExporterPort, hostIp: "0.0.0.0" }],
    copies: [
      {
        target: tlsFiles.certFile,
        source: paths.tlsCert,
        path: docker.exporterTls.certFile,
        setting: `${settingPath}.docker.exporterTls.certFile`,
        secret: false,
      },
      {
        target: tlsFiles.keyFile,
        source: paths.tlsKey,
        path: docker.exporterTls.keyFile,
        setting: `${settingPath}.docker.exporterTls.keyFile`,
        secret: true,
      },
    ],
    secrets: [
      {
        target: containerPaths.nodeExporterWebConfig,
        secret: "hostExporterPassword",
        derived: {
          source: paths.webConfig,
          render: (password) => renderExporterWebConfig(tlsFiles, exporterPasswordHash(host.name, password)),
        },
      },
    ],
    healthcheck: undefined,
  };
  if (docker.cadvisor === undefined) return [nodeExporterOnMachine];
  const cadvisor = cadvisorService(endpoints.cadvisor, name);
  return [
    nodeExporterOnMachine,
    {
      ...cadvisor,
      key: onMachine(dockerAliases.cadvisor),
      machine: host.name,
      containerName: name(onMachine(dockerAliases.cadvisor)),
      aliases: [],
      ports: [
        {
          container: port(endpoints.cadvisor),
          host: docker.cadvisor.port,
          hostIp: docker.cadvisor.bindAddress,
        },
      ],
    },
  ];
}

/**
 * The blackbox exporter that runs `probes`, while there are any: its modules (configs/blackbox/config.ts) where
 * the official image keeps them, and the replicas' `probe` job asks it for each probe. The one container of the
 * stack that reaches outside its network, and only to the targets of `probes`.
 *
 * As `nobody`, with every capability dropped: HTTP(S) and TCP probes need no privilege (only ICMP would, and
 * no probe uses it). Its root is read-only where the adapter can mount the modules file (Compose); the Pulumi
 * program uploads files into the container, which a read-only root refuses (infra/containers.ts). No published
 * port: only the replicas reach it, by its alias.
 */
function blackboxExporterService(
  endpoint: HostPort,
  files: RenderedFiles,
  name: (what: string) => string,
): ServicePlan {
  const listenPort = port(endpoint);
  return {
    key: dockerAliases.blackboxExporter,
    origin: "stack",
    containerName: name(dockerAliases.blackboxExporter),
    aliases: [alias(endpoint)],
    image: { kind: "pinned", ref: imageRef(blackboxExporter) },
    user: nobody,
    // The image's entrypoint is blackbox_exporter; these are its arguments.
    command: blackboxExporterFlags({
      listenAddress: `:${listenPort}`,
      configFile: containerPaths.blackboxConfig,
    }),
    environment: {},
    ports: [],
    files: [file(files, renderedPaths.blackboxConfig, containerPaths.blackboxConfig)],
    secrets: [],
    volumes: [],
    hostMounts: [],
    // The official image is busybox-based: its wget asks the exporter's own health endpoint.
    healthcheck: healthcheck(["wget", "-q", "--spider", `http://127.0.0.1:${listenPort}/-/healthy`]),
    healthyWithinSeconds: 60,
    after: [],
    // A probe holds one response body at a time; tens of megabytes even with many probes.
    memoryMb: 64,
    lifecycle: "service",
    readOnlyRootFilesystem: true,
    tmpfs: [],
  };
}

/**
 * Value of the run's `testid` tag: a digest of what the run does, so each new script or plan writes series of
 * its own while a deployment with nothing changed keeps the same container.
 */
export function loadtestId(script: Readonly<Record<string, string>>, options: string): string {
  const digest = createHash("sha256");
  for (const relativePath of Object.keys(script).sort())
    digest.update(`${relativePath}\0${script[relativePath]}\0`);
  digest.update(options);
  return `watchtower-${digest.digest("hex").slice(0, 12)}`;
}

/** The k6 run: once per creation, after the app and the whole alerting path are healthy. */
function loadtestService(
  inputs: PlanInputs,
  remoteWrite: HostPort,
  name: (what: string) => string,
  before: readonly ServicePlan[],
): ServicePlan {
  if (inputs.loadtestScript[loadtestScriptPath] === undefined) {
    throw new Error(`the load test's script files do not include ${loadtestScriptPath}`);
  }
  const optionsTarget = path.posix.join(containerPaths.loadtestDir, renderedPaths.loadtestOptions);
  const command = k6RunCommand({
    scriptPath: path.posix.join(containerPaths.loadtestDir, loadtestScriptPath),
    optionsPath: optionsTarget,
    // The datasource dashboards default to is replica 0, so the k6 series go there.
    remoteWrite,
    testId: loadtestId(inputs.loadtestScript, requireFile(inputs.files, renderedPaths.loadtestOptions)),
  });
  const scriptFiles = Object.entries(inputs.loadtestScript)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([relativePath, content]) => ({
      target: path.posix.join(containerPaths.loadtestDir, relativePath),
      source: loadtestScriptSource(relativePath),
      content,
    }));
  return {
    key: loadtestServiceKey,
    origin: "stack",
    containerName: name(loadtestServiceKey),
    aliases: [],
    image: { kind: "pinned", ref: imageRef(k6) },
    user: k6User,
    // The image's entrypoint is k6; these are its arguments.
    command: command.args,
    environment: command.env,
    workingDir: containerPaths.loadtestDir,
    ports: [],
    files: [...scriptFiles, file(inputs.files, renderedPaths.loadtestOptions, optionsTarget)],
    secrets: [],
    volumes: [],
    hostMounts: [],
    // loadtest.target may be a target on the Docker host, written host.docker.internal:<port>.
    extraHosts: [dockerHostGateway],
    // Not after another machine's exporters: the load test does not reach them, and that engine is not this one.
    after: before
      .filter((service) => service.machine === undefined && service.key !== dockerAliases.grafana)
      .map((service) => service.key),
    // Under a tenth of this with the default maxVUs (docs/performance.md, "What the stack costs its host"); each VU has
    // a JavaScript runtime of its own, and loadtest.maxVUs allows 1000.
    memoryMb: 512,
    lifecycle: "one-off",
    // `k6 run` with the remote-write output reads its script and options and writes nothing to disk.
    readOnlyRootFilesystem: true,
    tmpfs: [],
  };
}
