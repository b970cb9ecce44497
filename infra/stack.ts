/**
 * The whole stack as one component: a private network, the app, the Prometheus replicas, Alertmanager,
 * Grafana, the inbox and the load test. `createStack` is the program: it validates the settings and renders
 * every config file before declaring any resource, so invalid settings fail with the same messages as
 * `npm run render` and leave nothing half-created.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import {
  containerPorts,
  dockerAliases,
  dockerEndpoints,
  prometheusHostPort,
  publishedUrl,
} from "../configs/docker-endpoints";
import type { Endpoints } from "../configs/endpoints";
import { type RenderedFiles, renderedPaths } from "../configs/layout";
import { type LoadedSettings, loadSettings, SettingsError } from "../configs/load";
import { loadtestScriptFiles } from "../configs/loadtest";
import { renderAll } from "../configs/render";
import type { Settings } from "../configs/settings";
import { AlertmanagerService } from "./alertmanager";
import { AppService, repositoryRoot } from "./app";
import { GrafanaService } from "./grafana";
import { MailpitInbox } from "./inbox";
import { LoadTest } from "./loadtest";
import { PrometheusReplicas } from "./prometheus";
import { requireRendered } from "./rendered";
import { readStackSettings } from "./stack-config";

/** What `pulumi up` prints: where to look, how to log in, how to run the load test again. */
export interface StackOutputs {
  readonly appUrl: string;
  readonly prometheusUrls: readonly string[];
  readonly alertmanagerUrl: string;
  readonly grafanaUrl: string;
  /** The inbox's web UI, or where e-mail goes instead when `email.smarthost` names a real SMTP server. */
  readonly mailpitUrl: string;
  readonly grafanaAdminUser: string;
  /** A secret: `pulumi stack output grafanaAdminPassword --show-secrets` prints it. */
  readonly grafanaAdminPassword: pulumi.Output<string>;
  /** The command that runs the load test again, or how to turn it on. */
  readonly loadtestRerun: string;
}

export interface MonitoringStackArgs {
  /** Validated settings, defaults applied. */
  readonly settings: Settings;
  /** Where each service is reachable on the private network, and the links a person opens. */
  readonly endpoints: Endpoints;
  /** Every rendered config file, keyed by its path in `configs/layout.ts`. */
  readonly files: RenderedFiles;
  /** The k6 script and the files it imports, keyed by path relative to the repository root. */
  readonly loadtestScript: Readonly<Record<string, string>>;
  /** Prefix of every Docker object's name, unique per project and stack on one Docker host. */
  readonly dockerPrefix: string;
}

export class MonitoringStack extends pulumi.ComponentResource {
  readonly network: docker.Network;
  readonly app: AppService;
  readonly prometheus: PrometheusReplicas;
  readonly alertmanager: AlertmanagerService;
  readonly grafana: GrafanaService;
  /** Present when alerts go to the stack's own inbox. */
  readonly inbox?: MailpitInbox;
  /** Present when `loadtest.enabled`. */
  readonly loadTest?: LoadTest;
  readonly outputs: StackOutputs;

  constructor(name: string, args: MonitoringStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchtower:index:MonitoringStack", name, {}, opts);
    const { settings, endpoints, files, dockerPrefix } = args;
    const { bindAddress } = settings.network;
    const keepData = settings.data.keepOnDestroy;

    this.network = new docker.Network(
      `${name}-network`,
      { name: dockerPrefix, driver: "bridge" },
      // The name is fixed, so a replacement cannot exist beside the old network.
      { parent: this, deleteBeforeReplace: true },
    );
    const network = this.network.name;

    this.app = new AppService(
      `${name}-app`,
      { network, endpoint: endpoints.app, hostPort: settings.ports.app, bindAddress, dockerPrefix },
      { parent: this },
    );

    if (settings.email.smarthost === undefined) {
      this.inbox = new MailpitInbox(
        `${name}-inbox`,
        {
          network,
          smtpEndpoint: endpoints.inboxSmtp,
          webPort: containerPorts.mailpitWeb,
          hostPort: settings.ports.mailpit,
          bindAddress,
          dockerPrefix,
        },
        { parent: this },
      );
    }

    const { authPassword } = settings.email;
    this.alertmanager = new AlertmanagerService(
      `${name}-alertmanager`,
      {
        network,
        endpoint: endpoints.alertmanager,
        externalUrl: endpoints.links.alertmanager,
        hostPort: settings.ports.alertmanager,
        bindAddress,
        files,
        smtpPassword: authPassword === undefined ? undefined : pulumi.secret(authPassword),
        keepData,
        dockerPrefix,
      },
      { parent: this },
    );

    this.prometheus = new PrometheusReplicas(
      `${name}-prometheus`,
      {
        network,
        endpoints: endpoints.prometheus,
        externalUrls: endpoints.links.prometheus,
        hostPorts: endpoints.prometheus.map((_, replica) => prometheusHostPort(settings, replica)),
        bindAddress,
        files,
        retention: settings.prometheus.retention,
        keepData,
        dockerPrefix,
        // Started after the app and Alertmanager exist: a Prometheus that came up while the app image was
        // still building would fire InstanceDown into the inbox of a fresh stack.
        waitFor: [this.app.container, this.alertmanager.container],
      },
      { parent: this },
    );

    const { adminPassword } = settings.grafana;
    this.grafana = new GrafanaService(
      `${name}-grafana`,
      {
        network,
        alias: dockerAliases.grafana,
        port: containerPorts.grafana,
        rootUrl: endpoints.links.grafana,
        hostPort: settings.ports.grafana,
        bindAddress,
        files,
        adminUser: settings.grafana.adminUser,
        adminPassword: adminPassword === undefined ? undefined : pulumi.secret(adminPassword),
        keepData,
        dockerPrefix,
      },
      { parent: this },
    );

    const prometheusForLoadtest = endpoints.prometheus[0];
    if (settings.loadtest.enabled && prometheusForLoadtest !== undefined) {
      this.loadTest = new LoadTest(
        `${name}-loadtest`,
        {
          network,
          script: args.loadtestScript,
          options: requireRendered(files, renderedPaths.loadtestOptions),
          // The datasource dashboards default to is replica 0, so the k6 series go there.
          remoteWrite: prometheusForLoadtest,
          waitFor: [
            this.app.container,
            ...this.prometheus.containers,
            this.alertmanager.container,
            ...(this.inbox ? [this.inbox.container] : []),
          ],
          dockerPrefix,
        },
        { parent: this },
      );
    }

    this.outputs = {
      appUrl: publishedUrl(settings, settings.ports.app),
      prometheusUrls: endpoints.links.prometheus,
      alertmanagerUrl: endpoints.links.alertmanager,
      grafanaUrl: endpoints.links.grafana,
      mailpitUrl: this.inbox
        ? publishedUrl(settings, settings.ports.mailpit)
        : `no inbox: alert e-mail goes to ${settings.email.smarthost}`,
      grafanaAdminUser: settings.grafana.adminUser,
      grafanaAdminPassword: this.grafana.adminPassword,
      loadtestRerun: this.loadTest
        ? `docker start --attach ${this.loadTest.containerName}`
        : `the load test is off: set loadtest.enabled to true in Pulumi.${pulumi.getStack()}.yaml and run npm run up`,
    };
    this.registerOutputs({ ...this.outputs });
  }
}

/** The k6 script and every file it imports, read from the repository. */
function readLoadtestScript(): Record<string, string> {
  return Object.fromEntries(
    loadtestScriptFiles.map((relativePath) => [
      relativePath,
      fs.readFileSync(path.join(repositoryRoot, relativePath), "utf8"),
    ]),
  );
}

/** What the stack is built from, all of it computed before the first resource is declared. */
interface StackInputs {
  readonly loaded: LoadedSettings;
  readonly endpoints: Endpoints;
  readonly files: RenderedFiles;
}

/**
 * The stack's settings, validated, and every file rendered from them. Invalid settings, whether validation or a
 * renderer finds them, end the program as a RunError, which Pulumi prints without a stack trace: the message
 * already names every bad key.
 */
function validatedAndRendered(): StackInputs {
  try {
    const loaded = loadSettings(readStackSettings());
    const endpoints = dockerEndpoints(loaded.settings);
    return { loaded, endpoints, files: renderAll(loaded.settings, endpoints) };
  } catch (error) {
    if (error instanceof SettingsError) throw new pulumi.RunError(error.message);
    throw error;
  }
}

/** Where the program's warnings go: Pulumi's log when Pulumi runs it, a list in the tests. */
export interface ProgramLog {
  warn(message: string): Promise<void> | void;
}

/**
 * The program. Settings are validated, and every file rendered, before the first resource is declared;
 * warnings about valid but risky settings go to `log`.
 */
export function createStack(log: ProgramLog = pulumi.log): StackOutputs {
  const { loaded, endpoints, files } = validatedAndRendered();
  const { settings, warnings } = loaded;
  for (const warning of warnings) log.warn(warning);
  const loadtestScript = settings.loadtest.enabled ? readLoadtestScript() : {};

  const stack = new MonitoringStack("monitoring", {
    settings,
    endpoints,
    files,
    loadtestScript,
    dockerPrefix: `${pulumi.getProject()}-${pulumi.getStack()}`,
  });
  return stack.outputs;
}
