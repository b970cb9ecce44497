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
import { type DeploymentPlan, loadtestServiceKey } from "../configs/deployment/plan";
import { dockerAliases, publishedUrl } from "../configs/runtime/docker-endpoints";
import type { Endpoints } from "../configs/runtime/endpoints";
import { renderedPaths } from "../configs/runtime/layout";
import { SettingsError } from "../configs/settings/load";
import type { Settings } from "../configs/settings/schema";
import { AlertmanagerService } from "./alertmanager";
import { AppService } from "./app";
import { DeliveryCheck } from "./delivery-check";
import { checkDocker, DockerPreflightError, dockerEndpoint } from "./docker-preflight";
import { GrafanaService } from "./grafana";
import { MailpitInbox } from "./inbox";
import { LoadTest } from "./loadtest";
import { PrometheusReplicas } from "./prometheus";
import { PinnedContainer, plannedService, type StackContext } from "./service";
import { readStackSettings } from "./stack-config";
import { type StackInputs, stackInputs } from "./stack-inputs";

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
  /** What the last delivery check found, and when; or that it is off. */
  readonly deliveryCheck: pulumi.Output<string> | string;
}

export interface MonitoringStackArgs {
  /** Validated settings, defaults applied. */
  readonly settings: Settings;
  /** Where each service is reachable on the private network, and the links a person opens. */
  readonly endpoints: Endpoints;
  /** Every service as plain data; this component only maps it onto resources. */
  readonly plan: DeploymentPlan;
  /** The SMTP password, from `email.authPassword` or the file `email.authPasswordFile` names. */
  readonly smtpPassword?: string;
}

export class MonitoringStack extends pulumi.ComponentResource {
  readonly network: docker.Network;
  /** Present when `app.enabled`. */
  readonly app?: AppService;
  /** One per entry of `services`. */
  readonly userServices: readonly PinnedContainer[];
  readonly prometheus: PrometheusReplicas;
  readonly alertmanager: AlertmanagerService;
  readonly grafana: GrafanaService;
  /** Present when alerts go to the stack's own inbox. */
  readonly inbox?: MailpitInbox;
  /** Present when `loadtest.enabled`. */
  readonly loadTest?: LoadTest;
  /** Present when `delivery.checkOnUp`: on `pulumi up`, proves that alert e-mail is delivered. */
  readonly deliveryCheck?: DeliveryCheck;
  readonly outputs: StackOutputs;

  constructor(name: string, args: MonitoringStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchtower:index:MonitoringStack", name, {}, opts);
    const { settings, endpoints, plan } = args;

    this.network = new docker.Network(
      `${name}-network`,
      { name: plan.network, driver: "bridge" },
      // The name is fixed, so a replacement cannot exist beside the old network.
      { parent: this, deleteBeforeReplace: true },
    );
    const { smtpPassword } = args;
    const context: StackContext = {
      plan,
      network: this.network.name,
      secrets: smtpPassword === undefined ? {} : { smtpPassword: pulumi.secret(smtpPassword) },
      containers: new Map(),
    };
    const service = (key: string) => plannedService(plan, key);
    const has = (key: string) => plan.services.some((candidate) => candidate.key === key);

    // Declared in the plan's start order: each service's `after` names only services declared before it.
    if (has(dockerAliases.app)) {
      this.app = new AppService(`${name}-app`, service(dockerAliases.app), context, { parent: this });
    }
    this.userServices = settings.services.map(
      (userService) =>
        new PinnedContainer(
          "watchtower:index:UserService",
          `${name}-service-${userService.job}`,
          service(userService.job),
          context,
          { parent: this },
        ),
    );
    if (has(dockerAliases.mailpit)) {
      this.inbox = new MailpitInbox(`${name}-inbox`, service(dockerAliases.mailpit), context, {
        parent: this,
      });
    }
    this.alertmanager = new AlertmanagerService(
      `${name}-alertmanager`,
      service(dockerAliases.alertmanager),
      context,
      { parent: this },
    );
    const [firstReplica, ...otherReplicas] = endpoints.prometheus.map((_, replica) =>
      service(dockerAliases.prometheus(replica)),
    );
    if (firstReplica === undefined) throw new Error("the deployment plan has no Prometheus replica");
    this.prometheus = new PrometheusReplicas(
      `${name}-prometheus`,
      [firstReplica, ...otherReplicas],
      context,
      {
        parent: this,
      },
    );
    this.grafana = new GrafanaService(
      `${name}-grafana`,
      service(dockerAliases.grafana),
      settings.grafana.adminPassword,
      context,
      { parent: this },
    );
    if (has(loadtestServiceKey)) {
      this.loadTest = new LoadTest(`${name}-loadtest`, service(loadtestServiceKey), context, {
        parent: this,
      });
    }
    if (settings.delivery.checkOnUp) {
      const alertmanagerConfig = service(dockerAliases.alertmanager).files.find(
        (file) => file.source === renderedPaths.alertmanagerConfig,
      );
      if (alertmanagerConfig === undefined)
        throw new Error("the deployment plan gives Alertmanager no config");
      this.deliveryCheck = new DeliveryCheck(
        `${name}-delivery`,
        {
          alertmanagerUrl: endpoints.links.alertmanager,
          inboxUrl: this.inbox ? publishedUrl(settings, settings.ports.mailpit) : undefined,
          alertmanagerConfig: alertmanagerConfig.content,
          // The password's content, wherever it comes from: a new one runs the check again.
          email: { ...settings.email, authPassword: smtpPassword },
          alertmanagerContainer: this.alertmanager.container.name,
          waitFor: [this.alertmanager.container, ...(this.inbox ? [this.inbox.container] : [])],
        },
        { parent: this },
      );
    }

    this.outputs = {
      appUrl: this.app
        ? publishedUrl(settings, settings.ports.app)
        : "the demo app is off: app.enabled is false",
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
      deliveryCheck: this.deliveryCheck?.result ?? "off: delivery.checkOnUp is false",
    };
    this.registerOutputs({ ...this.outputs });
  }
}

/**
 * The stack's inputs (infra/stack-inputs.ts). Invalid settings, whether validation, a renderer or promtool
 * finds them, end the program as a RunError, which Pulumi prints without a stack trace: the message already
 * names every bad key.
 */
function validatedAndRendered(): StackInputs {
  try {
    return stackInputs(readStackSettings(), pulumi.getProject(), pulumi.getStack());
  } catch (error) {
    if (error instanceof SettingsError) throw new pulumi.RunError(error.message);
    throw error;
  }
}

/** The content of `email.authPasswordFile`, relative to the project directory (where Pulumi runs the program). */
function readSmtpPasswordFile(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return fs.readFileSync(path.resolve(file), "utf8");
  } catch (error) {
    throw new pulumi.RunError(`email.authPasswordFile: cannot read ${file}: ${(error as Error).message}`);
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
  const { settings, warnings, endpoints, plan } = validatedAndRendered();
  const smtpPassword = settings.email.authPassword ?? readSmtpPasswordFile(settings.email.authPasswordFile);
  for (const warning of warnings) log.warn(warning);
  return new MonitoringStack("monitoring", { settings, endpoints, plan, smtpPassword }).outputs;
}

/**
 * The program as Pulumi runs it: Docker is checked before anything else, so an unreachable or too old engine
 * stops `pulumi up` with one line instead of a provider error halfway through.
 */
export async function runProgram(log: ProgramLog = pulumi.log): Promise<StackOutputs> {
  const endpoint = dockerEndpoint(new pulumi.Config("docker").get("host"), process.env);
  try {
    const result = await checkDocker(endpoint);
    if ("skipped" in result) await log.warn(`Docker preflight: ${result.skipped}`);
  } catch (error) {
    if (error instanceof DockerPreflightError) throw new pulumi.RunError(error.message);
    throw error;
  }
  return createStack(log);
}
