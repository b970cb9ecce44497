/**
 * The deployment plan as a Compose file (`compose.yaml` beside the rendered files), for users without Pulumi:
 * `docker compose up -d` in the rendered folder brings up the stack `pulumi up` would, with the same images,
 * users, commands, files, ports, volume names, healthchecks and start order. It maps the plan and decides
 * nothing; what Compose needs written its own way is said where it is done.
 */
import { createHash } from "node:crypto";
import { posix } from "node:path";
import { generatedYaml } from "../yaml";
import { goDuration } from "./go-duration";
import {
  containerBaseline,
  type DeploymentPlan,
  type SecretName,
  type ServicePlan,
  tmpfsOptions,
} from "./plan";

/** Where Compose reads each secret's content. */
export type ComposeSecretSource = { readonly environment: string } | { readonly file: string };

export interface ComposeInputs {
  readonly plan: DeploymentPlan;
  /** The repository root (the app's build context), relative to the folder compose.yaml is written to. */
  readonly repositoryRoot: string;
  readonly secrets: Readonly<Record<SecretName, ComposeSecretSource>>;
}

/**
 * Compose's secret names: letters, digits and underscores. A secret from an environment variable is copied
 * into the container (mode 0444, owned by root, so readable by the service's user on every engine); one from a
 * file is bind-mounted with the file's own permissions (Compose ignores `mode` for those).
 */
const composeSecretNames: Readonly<Record<SecretName, string>> = {
  grafanaAdminPassword: "grafana_admin_password",
  smtpPassword: "smtp_password",
  hostExporterPassword: "host_exporter_password",
};

/**
 * Label holding a digest of the files a service mounts. Compose recreates a service when its definition
 * changes, and a bind-mounted file's content is not part of it: the label makes it so, and a service whose
 * files did not change keeps running.
 */
export const filesDigestLabel = "io.watchtower.files-digest";

/** Compose interpolates `$VAR` in every string of the file; `$$` is a literal dollar. */
function literal(text: string): string {
  return text.replaceAll("$", "$$$$");
}

function literals(texts: readonly string[]): string[] {
  return texts.map(literal);
}

/** A copied file's content is not the plan's to know: its path stands for it, so a new path recreates. */
function filesDigest(service: ServicePlan): string {
  const digest = createHash("sha256");
  for (const file of service.files) digest.update(`${file.target}\0${file.content}\0`);
  for (const copy of service.copies ?? []) digest.update(`${copy.target}\0${copy.path}\0`);
  return digest.digest("hex").slice(0, 16);
}

/**
 * Whether Compose can give the service the plan's read-only root. A secret taken from the environment is copied
 * into the container when Compose creates it, which it refuses for a read-only root ("cannot create secret ...
 * in read-only service ...: `file` is the sole supported option"); a file secret is bind-mounted instead.
 */
export function composeRootIsReadOnly(service: ServicePlan, inputs: Pick<ComposeInputs, "secrets">): boolean {
  return (
    service.readOnlyRootFilesystem &&
    service.secrets.every(({ secret, derived }) => derived !== undefined || "file" in inputs.secrets[secret])
  );
}

/**
 * `folder` is where the Compose file is written, relative to the rendered folder: the stack's own file is at
 * its root, a machine's exporters' in a folder of their own, which holds everything that file mounts.
 */
function composeService(service: ServicePlan, inputs: ComposeInputs, folder = "."): Record<string, unknown> {
  const { plan } = inputs;
  const bind = (source: string, target: string) => ({
    type: "bind",
    source: `./${posix.relative(folder, source)}`,
    target,
    read_only: true,
  });
  // A secret made into a file (the exporters' web config) is mounted as the file render wrote.
  const derived = service.secrets.flatMap(({ target, derived }) => (derived ? [{ target, derived }] : []));
  const secrets = service.secrets.filter((secret) => secret.derived === undefined);
  const image =
    service.image.kind === "pinned"
      ? { image: service.image.ref }
      : {
          image: service.image.tag,
          build: {
            context: inputs.repositoryRoot,
            dockerfile: service.image.dockerfile,
            args: { ...service.image.args },
          },
        };
  const check = service.healthcheck;
  const mounts = [
    ...service.files.map((file) => bind(file.source, file.target)),
    ...(service.copies ?? []).map((copy) => bind(copy.source, copy.target)),
    ...derived.map(({ target, derived }) => bind(derived.source, target)),
    ...service.volumes.map(({ volume, target }) => ({ type: "volume", source: volume, target })),
    ...service.hostMounts.map(({ source, target, readOnly }) => ({
      type: "bind",
      source,
      target,
      read_only: readOnly,
    })),
  ];
  return {
    container_name: service.containerName,
    ...image,
    user: service.user,
    ...(service.entrypoint ? { entrypoint: literals(service.entrypoint) } : {}),
    ...(service.command ? { command: literals(service.command) } : {}),
    ...(Object.keys(service.environment).length > 0
      ? {
          environment: Object.fromEntries(
            Object.entries(service.environment).map(([key, value]) => [key, literal(value)]),
          ),
        }
      : {}),
    ...(service.workingDir ? { working_dir: service.workingDir } : {}),
    ...(service.pidMode ? { pid: service.pidMode } : {}),
    ...(service.devices && service.devices.length > 0
      ? { devices: service.devices.map(({ path, permissions }) => `${path}:${path}:${permissions}`) }
      : {}),
    ...(service.ports.length > 0
      ? {
          ports: service.ports.map(({ container, host, hostIp }) => ({
            target: container,
            published: String(host),
            host_ip: hostIp,
            protocol: "tcp",
          })),
        }
      : {}),
    // A machine's exporters stay on its default network, where their ports are published.
    ...(service.machine === undefined
      ? { networks: { stack: service.aliases.length > 0 ? { aliases: [...service.aliases] } : {} } }
      : {}),
    ...(service.extraHosts ? { extra_hosts: service.extraHosts.map(({ host, ip }) => `${host}:${ip}`) } : {}),
    ...(mounts.length > 0 ? { volumes: mounts } : {}),
    ...(composeRootIsReadOnly(service, inputs) ? { read_only: true } : {}),
    ...(service.tmpfs.length > 0
      ? { tmpfs: service.tmpfs.map((tmpfs) => `${tmpfs.target}:${tmpfsOptions(tmpfs)}`) }
      : {}),
    ...(secrets.length > 0
      ? {
          secrets: secrets.map(({ target, secret }) => ({
            source: composeSecretNames[secret],
            target,
          })),
        }
      : {}),
    ...(check
      ? {
          healthcheck: {
            test: ["CMD", ...literals(check.test)],
            interval: goDuration(check.intervalMs),
            timeout: goDuration(check.timeoutMs),
            retries: check.retries,
            start_period: goDuration(check.startPeriodMs),
          },
        }
      : {}),
    ...(service.after.length > 0
      ? {
          depends_on: Object.fromEntries(
            service.after.map((key) => {
              const dependency = plan.services.find((candidate) => candidate.key === key);
              // A dependency without a healthcheck can only be waited for as started.
              return [key, { condition: dependency?.healthcheck ? "service_healthy" : "service_started" }];
            }),
          ),
        }
      : {}),
    // Not for a derived secret: the exporter toolkit reads its web config again on every request.
    ...(service.files.length > 0 || (service.copies ?? []).length > 0
      ? { labels: { [filesDigestLabel]: filesDigest(service) } }
      : {}),
    restart: service.lifecycle === "service" ? "unless-stopped" : "no",
    stop_grace_period: goDuration(containerBaseline.stopGraceSeconds * 1000),
    mem_limit: `${service.memoryMb}m`,
    // Equal to the memory limit: no swap, as in the Pulumi program.
    memswap_limit: `${service.memoryMb}m`,
    cap_drop: [...containerBaseline.capDrop],
    ...(service.capAdd && service.capAdd.length > 0 ? { cap_add: [...service.capAdd] } : {}),
    security_opt: [...containerBaseline.securityOpts],
    logging: { driver: containerBaseline.logDriver, options: { ...containerBaseline.logOptions } },
  };
}

/** The Compose file's text: the services of the stack's own Docker host. */
export function renderCompose(inputs: ComposeInputs): string {
  const { plan } = inputs;
  const services = plan.services.filter((service) => service.machine === undefined);
  const usedSecrets = [
    ...new Set(services.flatMap((service) => service.secrets.map(({ secret }) => secret))),
  ];
  return generatedYaml({
    // The project name: `docker compose` finds the stack by it from any folder with this file.
    name: plan.prefix,
    services: Object.fromEntries(services.map((service) => [service.key, composeService(service, inputs)])),
    networks: { stack: { name: plan.network, driver: "bridge" } },
    volumes: Object.fromEntries(Object.entries(plan.volumes).map(([key, name]) => [key, { name }])),
    ...(usedSecrets.length > 0
      ? {
          secrets: Object.fromEntries(
            usedSecrets.sort().map((secret) => [composeSecretNames[secret], { ...inputs.secrets[secret] }]),
          ),
        }
      : {}),
  });
}

/** The Compose project of a machine's exporters: apart from the stack's, which may share its engine. */
export function machineComposeProject(prefix: string): string {
  return `${prefix}-exporters`;
}

/**
 * The Compose file of a machine of `hosts[].docker`, for running its exporters there by hand instead of
 * through `pulumi up`: the same containers, in the folder of the files it mounts (its TLS files and the web
 * config render made from the password), to be copied to the machine as a whole.
 */
export function renderMachineCompose(inputs: ComposeInputs, machine: string, folder: string): string {
  const services = inputs.plan.services.filter((service) => service.machine === machine);
  if (services.length === 0) throw new Error(`the plan runs nothing on the machine ${machine}`);
  return generatedYaml({
    name: machineComposeProject(inputs.plan.prefix),
    services: Object.fromEntries(
      services.map((service) => [
        service.key.slice(machine.length + 1),
        composeService(service, inputs, folder),
      ]),
    ),
  });
}
