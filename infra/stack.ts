/**
 * The whole stack as one component: a private network, and one component per service of the deployment plan
 * (the app, the user's services, the Prometheus replicas, Alertmanager, Grafana, the inbox, the load test).
 * `createStack` is the program: it validates the settings and renders every config file before declaring any
 * resource, so invalid settings fail with the same messages as `npm run render` and leave nothing half-created.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import {
  type DeploymentPlan,
  type PlannedAccess,
  type PlannedMachine,
  type PlannedSecretSource,
  prometheusGroup,
  type SecretName,
  type ServicePlan,
} from "../configs/deployment/plan";
import { dockerAliases } from "../configs/runtime/docker-endpoints";
import { SettingsError } from "../configs/settings/load";
import { maxAlertmanagerReplicas } from "../configs/settings/schema";
import type { SecretContents } from "./containers";
import { defaultTimeoutMs } from "./delivery/check";
import { DeliveryCheck } from "./delivery-check";
import { checkDocker, DockerPreflightError, dockerEndpoint } from "./docker-preflight";
import { type GeneratedSecret, PlannedService, topologicalOrder } from "./planned-service";
import { readStackSettings } from "./stack-config";
import { type StackInputs, stackInputs } from "./stack-inputs";
import { readUserFiles } from "./user-files";

/** What `pulumi up` prints: where to look, how to log in, how to run the load test again (the plan's access). */
export interface StackOutputs extends PlannedAccess {
  /** A secret: `pulumi stack output grafanaAdminPassword --show-secrets` prints it. */
  readonly grafanaAdminPassword: pulumi.Output<string>;
  /** What the last delivery check found, and when; or that it is off. */
  readonly deliveryCheck: pulumi.Output<string> | string;
}

export interface MonitoringStackArgs {
  /** Every service as plain data; this component only maps it onto resources. */
  readonly plan: DeploymentPlan;
  /**
   * The content of each secret the plan takes from the settings or a file, read by the program. Secrets the plan
   * generates are declared by the component that uses them.
   */
  readonly secrets?: Readonly<Partial<Record<SecretName, string>>>;
  /** The Docker host's platform (`linux/arm64`), which the app image is built for; unset lets Docker pick. */
  readonly platform?: string;
  /** The content of every file the plan reads from the user (`PlannedCopy`, `PlannedMachine.tls`), by path. */
  readonly userFiles?: Readonly<Record<string, string>>;
}

export class MonitoringStack extends pulumi.ComponentResource {
  readonly network: docker.Network;
  /** One component per planned service, or group of replicas, by the component's plan key or group. */
  readonly services: ReadonlyMap<string, PlannedService>;
  /** Present when the plan runs the delivery check: on `pulumi up`, proves that alert e-mail is delivered. */
  readonly deliveryCheck?: DeliveryCheck;
  readonly outputs: StackOutputs;

  constructor(name: string, args: MonitoringStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchtower:index:MonitoringStack", name, {}, opts);
    const { plan } = args;
    const given = args.secrets ?? {};

    this.network = new docker.Network(
      `${name}-network`,
      { name: plan.network, driver: "bridge" },
      // The name is fixed, so a replacement cannot exist beside the old network.
      { parent: this, deleteBeforeReplace: true },
    );

    const secrets: Partial<Record<SecretName, pulumi.Output<string>>> = {};
    for (const [secret, content] of Object.entries(given) as [SecretName, string | undefined][]) {
      // A Pulumi secret: encrypted in the state and masked in every diff.
      if (content !== undefined) secrets[secret] = pulumi.secret(content);
    }
    const userFiles = args.userFiles ?? {};
    const copies = Object.fromEntries(
      plan.services
        .flatMap((service) => service.copies ?? [])
        .map((copy) => [copy.source, userFile(userFiles, copy.path)]),
    );
    const machines = new Map(
      plan.machines.map((machine) => [
        machine.name,
        new WatchedMachine(`${name}-host-${machine.name}`, machine, userFiles, { parent: this }),
      ]),
    );
    const containers = new Map<string, docker.Container>();
    const components = new Map<string, PlannedService>();
    // Declared in an order computed from the plan's `after`, so every `dependsOn` names a declared container.
    for (const component of componentsInStartOrder(plan.services)) {
      const identity = componentIdentity(component);
      const generate = secretsToGenerate(component.services, plan.secrets, secrets);
      const declared = new PlannedService(
        `${name}-${identity.name}`,
        {
          type: `watchtower:index:${identity.type}`,
          services: component.services,
          network: this.network.name,
          volumeNames: plan.volumes,
          keepVolumesOnDestroy: plan.keepVolumesOnDestroy,
          secrets,
          generate,
          copies,
          startAfter: Object.fromEntries(containers),
          platform: args.platform,
        },
        componentOptions(this, machineOf(machines, component)),
      );
      Object.assign(secrets, declared.generatedSecrets);
      for (const [key, container] of declared.containers) containers.set(key, container);
      components.set(component.key, declared);
    }
    this.services = components;

    const check = plan.deliveryCheck;
    let deliveryResult: pulumi.Output<string> | string = check.enabled ? "" : check.reason;
    if (check.enabled) {
      const container = (key: string) => {
        const found = containers.get(key);
        if (found === undefined) throw new Error(`the delivery check waits for ${key}, which the plan lacks`);
        return found;
      };
      this.deliveryCheck = new DeliveryCheck(
        `${name}-delivery`,
        {
          alertmanagerUrl: check.alertmanagerUrl,
          timeoutMs: defaultTimeoutMs + check.clusterWaitMs,
          inboxUrl: check.inboxUrl,
          alertmanagerConfig: check.alertmanagerConfig,
          // The password's content, wherever it comes from: a new one runs the check again.
          email: { ...check.email, authPassword: given.smtpPassword },
          alertmanagerContainer: container(check.logsOf).name,
          waitFor: check.after.map(container),
        },
        { parent: this },
      );
      deliveryResult = this.deliveryCheck.result;
    }

    const grafanaAdminPassword = secrets.grafanaAdminPassword;
    if (grafanaAdminPassword === undefined) throw new Error("the plan gives Grafana no admin password");
    this.outputs = {
      ...plan.access,
      grafanaAdminPassword,
      deliveryCheck: deliveryResult,
    };
    this.registerOutputs({ ...this.outputs });
  }
}

function userFile(files: Readonly<Record<string, string>>, path: string): string {
  const content = files[path];
  if (content === undefined) throw new Error(`the plan hands over ${path}, which the program did not read`);
  return content;
}

/**
 * Another machine of `hosts[].docker`: a Docker provider for its engine, under which the components of the
 * services it runs are declared, so that every container, image and their deletion go to that engine.
 */
export class WatchedMachine extends pulumi.ComponentResource {
  readonly provider: docker.Provider;

  constructor(
    name: string,
    machine: PlannedMachine,
    userFiles: Readonly<Record<string, string>>,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("watchtower:index:WatchedMachine", name, {}, opts);
    const { tls } = machine;
    this.provider = new docker.Provider(
      `${name}-docker`,
      {
        host: machine.engine,
        ...(tls
          ? {
              caMaterial: userFile(userFiles, tls.ca.path),
              certMaterial: userFile(userFiles, tls.cert.path),
              keyMaterial: pulumi.secret(userFile(userFiles, tls.key.path)),
            }
          : {}),
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}

/** Under the stack, or under the machine whose engine runs the component, with that engine's provider. */
function componentOptions(
  stack: pulumi.Resource,
  machine: WatchedMachine | undefined,
): pulumi.ComponentResourceOptions {
  return machine === undefined ? { parent: stack } : { parent: machine, providers: [machine.provider] };
}

/** The machine whose engine runs a component, when not the stack's own host. */
function machineOf(
  machines: ReadonlyMap<string, WatchedMachine>,
  component: PlannedComponent,
): WatchedMachine | undefined {
  const [first] = component.services;
  if (first.machine === undefined) return undefined;
  const machine = machines.get(first.machine);
  if (machine === undefined) throw new Error(`${first.key} runs on ${first.machine}, which the plan lacks`);
  return machine;
}

/** The services one component declares: one, or a group of replicas. */
export interface PlannedComponent {
  /** The group's name, or the service's key. */
  readonly key: string;
  readonly origin: ServicePlan["origin"];
  readonly services: readonly [ServicePlan, ...ServicePlan[]];
}

/**
 * The plan's services grouped into components, in an order in which each comes after every component it starts
 * after. Throws, naming the keys, on an `after` that names no planned service or on a cycle.
 */
export function componentsInStartOrder(services: readonly ServicePlan[]): PlannedComponent[] {
  const byKey = new Map<string, ServicePlan[]>();
  const componentOf = new Map<string, string>();
  for (const service of services) {
    const key = service.group?.name ?? service.key;
    byKey.set(key, [...(byKey.get(key) ?? []), service]);
    componentOf.set(service.key, key);
  }
  const components = [...byKey].map(([key, members]): PlannedComponent => {
    // Within a group, each replica after the ones it starts after.
    const ordered = topologicalOrder(
      members,
      (service) => service.key,
      (service) => service.after,
    );
    const [first, ...rest] = ordered as [ServicePlan, ...ServicePlan[]];
    return { key, origin: first.origin, services: [first, ...rest] };
  });
  const dependencies = (component: PlannedComponent) =>
    component.services.flatMap((service) =>
      service.after.map((after) => {
        const owner = componentOf.get(after);
        if (owner === undefined) {
          throw new Error(`${service.key} starts after ${after}, which the deployment plan does not have`);
        }
        return owner;
      }),
    );
  return topologicalOrder(
    components,
    (component) => component.key,
    (component) => dependencies(component).filter((owner) => owner !== component.key),
  );
}

/**
 * The Pulumi type and name of each component of the stack, as it had when each had a class of its own. A URN is
 * made of both: a new one would replace the containers of a running stack and delete its volumes.
 */
const stackComponents: Readonly<Record<string, { readonly type: string; readonly name: string }>> = {
  [dockerAliases.app]: { type: "AppService", name: "app" },
  [dockerAliases.mailpit]: { type: "MailpitInbox", name: "inbox" },
  // Replica 0 keeps the single Alertmanager's identity; the others are named by their number.
  ...Object.fromEntries(
    Array.from({ length: maxAlertmanagerReplicas }, (_, replica) => [
      dockerAliases.alertmanager(replica),
      { type: "AlertmanagerService", name: dockerAliases.alertmanager(replica) },
    ]),
  ),
  [prometheusGroup]: { type: "PrometheusReplicas", name: "prometheus" },
  [dockerAliases.grafana]: { type: "GrafanaService", name: "grafana" },
  [dockerAliases.nodeExporter]: { type: "NodeExporter", name: "node-exporter" },
  [dockerAliases.cadvisor]: { type: "Cadvisor", name: "cadvisor" },
  [dockerAliases.blackboxExporter]: { type: "BlackboxExporter", name: "blackbox-exporter" },
  loadtest: { type: "LoadTest", name: "loadtest" },
};

function componentIdentity(component: PlannedComponent): { type: string; name: string } {
  if (component.origin === "user") return { type: "UserService", name: `service-${component.key}` };
  return stackComponents[component.key] ?? { type: "PlannedService", name: component.key };
}

/** The secrets these services name that the plan generates and no earlier component has. */
function secretsToGenerate(
  services: readonly ServicePlan[],
  sources: DeploymentPlan["secrets"],
  known: SecretContents,
): GeneratedSecret[] {
  const named = new Set(services.flatMap((service) => service.secrets.map(({ secret }) => secret)));
  return [...named].flatMap((secret) => {
    const source: PlannedSecretSource | undefined = sources[secret];
    return source?.kind === "generated" && known[secret] === undefined
      ? [{ secret, length: source.length }]
      : [];
  });
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

/**
 * The content of each secret the plan takes from the settings or from a file. A file is read relative to the
 * project directory (where Pulumi runs the program); one that cannot be read stops the program, naming its setting.
 */
function readSecrets(sources: DeploymentPlan["secrets"]): Partial<Record<SecretName, string>> {
  const contents: Partial<Record<SecretName, string>> = {};
  for (const [secret, source] of Object.entries(sources) as [SecretName, PlannedSecretSource][]) {
    if (source.kind === "setting") contents[secret] = source.content();
    if (source.kind === "file") {
      try {
        contents[secret] = fs.readFileSync(path.resolve(source.path), "utf8");
      } catch (error) {
        throw new pulumi.RunError(
          `${source.setting}: cannot read ${source.path}: ${(error as Error).message}`,
        );
      }
    }
  }
  return contents;
}

/** Where the program's warnings go: Pulumi's log when Pulumi runs it, a list in the tests. */
export interface ProgramLog {
  warn(message: string): Promise<void> | void;
}

/**
 * The program. Settings are validated, and every file rendered, before the first resource is declared;
 * warnings about valid but risky settings go to `log`.
 */
export function createStack(log: ProgramLog = pulumi.log, host: DockerHost = {}): StackOutputs {
  const { warnings, plan } = validatedAndRendered();
  const secrets = readSecrets(plan.secrets);
  let userFiles: Record<string, string>;
  try {
    userFiles = readUserFiles(plan, process.cwd());
  } catch (error) {
    if (error instanceof SettingsError) throw new pulumi.RunError(error.message);
    throw error;
  }
  for (const warning of warnings) log.warn(warning);
  return new MonitoringStack("monitoring", { plan, secrets, userFiles, platform: host.platform }).outputs;
}

/** What the preflight learnt of the Docker host. */
export interface DockerHost {
  /** The engine's platform, `linux/amd64` or `linux/arm64`; unset when the preflight could not ask. */
  readonly platform?: string;
}

/**
 * The program as Pulumi runs it: Docker is checked before anything else, so an unreachable or too old engine
 * stops `pulumi up` with one line instead of a provider error halfway through.
 */
export async function runProgram(log: ProgramLog = pulumi.log): Promise<StackOutputs> {
  const endpoint = dockerEndpoint(new pulumi.Config("docker").get("host"), process.env);
  let host: DockerHost = {};
  try {
    const result = await checkDocker(endpoint);
    if ("skipped" in result) await log.warn(`Docker preflight: ${result.skipped}`);
    else host = { platform: result.platform };
  } catch (error) {
    if (error instanceof DockerPreflightError) throw new pulumi.RunError(error.message);
    throw error;
  }
  return createStack(log, host);
}
