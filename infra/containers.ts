/**
 * Maps one service of the deployment plan onto `docker.Container` arguments and options. It makes no decision
 * of its own: users, paths, modes, limits and healthchecks come from `configs/deployment/plan.ts`. What it
 * adds is how the Docker provider wants them written, so that what the provider reads back equals the input
 * and a second `pulumi up` changes nothing.
 */
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { goDuration } from "../configs/deployment/go-duration";
import {
  containerBaseline,
  plannedFileMode,
  type SecretName,
  type ServicePlan,
  tmpfsOptions,
} from "../configs/deployment/plan";

type Upload = docker.types.input.ContainerUpload;

/** The content of each secret the plan names; a service that needs a missing one is a program error. */
export type SecretContents = Partial<Readonly<Record<SecretName, pulumi.Input<string>>>>;

/** The content of each of the user's files the plan hands over (`PlannedCopy`), by its source path. */
export type CopiedContents = Readonly<Record<string, string>>;

/** What the plan leaves to the program: the image id, the network and the secrets' and copies' content. */
export interface ContainerInputs {
  readonly image: pulumi.Input<string>;
  readonly network: pulumi.Input<string>;
  readonly volumeNames: Readonly<Record<string, pulumi.Input<string>>>;
  readonly secrets: SecretContents;
  readonly copies?: CopiedContents;
}

function uploads(service: ServicePlan, inputs: Pick<ContainerInputs, "secrets" | "copies">): Upload[] {
  const files: Upload[] = service.files.map((file) => ({
    file: file.target,
    content: file.content,
    permissions: plannedFileMode,
  }));
  for (const copy of service.copies ?? []) {
    const content = inputs.copies?.[copy.source];
    if (content === undefined)
      throw new Error(`${service.key} is handed ${copy.path} (${copy.setting}), which was not read`);
    files.push({
      file: copy.target,
      content: copy.secret ? pulumi.secret(content) : content,
      permissions: plannedFileMode,
    });
  }
  for (const { target, secret, derived } of service.secrets) {
    const content = inputs.secrets[secret];
    if (content === undefined)
      throw new Error(`${service.key} needs the secret ${secret}, which was not given`);
    const file = derived ? pulumi.output(content).apply(derived.render) : content;
    // A Pulumi secret: encrypted in the state and masked in every diff.
    files.push({ file: target, content: pulumi.secret(file), permissions: plannedFileMode });
  }
  return files;
}

/** The plan's healthcheck, with every duration in the form the provider reads back (Go's `time.Duration`). */
function healthcheck(service: ServicePlan): docker.types.input.ContainerHealthcheck | undefined {
  const check = service.healthcheck;
  if (check === undefined) return undefined;
  return {
    tests: ["CMD", ...check.test],
    interval: goDuration(check.intervalMs),
    timeout: goDuration(check.timeoutMs),
    retries: check.retries,
    startPeriod: goDuration(check.startPeriodMs),
  };
}

/**
 * Whether the container's root is read-only: as planned, unless the container is handed files. The provider
 * uploads each file by extracting an archive at the container's `/` (terraform-provider-docker,
 * resource_docker_container_funcs.go: `dstPath := "/"` before `CopyToContainer`), and the engine refuses an
 * extraction outside a volume into a read-only root ("container rootfs is marked read-only", moby
 * daemon/archive.go with checkIfPathIsInAVolume). Compose bind-mounts the same files, and keeps every planned
 * read-only root; here only the services that are handed no file get one.
 */
export function rootIsReadOnly(service: ServicePlan): boolean {
  return (
    service.readOnlyRootFilesystem &&
    service.files.length === 0 &&
    service.secrets.length === 0 &&
    (service.copies ?? []).length === 0
  );
}

export function containerArgs(service: ServicePlan, inputs: ContainerInputs): docker.ContainerArgs {
  const isService = service.lifecycle === "service";
  const envs = Object.entries(service.environment).map(([key, value]) => `${key}=${value}`);
  const readOnly = rootIsReadOnly(service);
  return {
    name: service.containerName,
    image: inputs.image,
    user: service.user,
    memory: service.memoryMb,
    // Docker sets the swap limit to twice the memory limit when only `memory` is given, and the provider reads
    // that back as a change. Equal means no swap: a monitoring process that swaps answers too late anyway.
    memorySwap: service.memoryMb,
    // On another machine, Docker's default network, where the ports are published.
    ...(service.machine === undefined
      ? {
          networksAdvanced: [
            {
              name: inputs.network,
              ...(service.aliases.length > 0 ? { aliases: [...service.aliases] } : {}),
            },
          ],
        }
      : {}),
    ports: service.ports.map(({ container, host, hostIp }) => ({
      internal: container,
      external: host,
      ip: hostIp,
      protocol: "tcp",
    })),
    hosts: service.extraHosts?.map(({ host, ip }) => ({ host, ip })),
    entrypoints: service.entrypoint ? [...service.entrypoint] : undefined,
    command: service.command ? [...service.command] : undefined,
    envs: envs.length > 0 ? envs : undefined,
    workingDir: service.workingDir,
    uploads: uploads(service, inputs),
    volumes: [
      ...service.volumes.map(({ volume, target }) => {
        const volumeName = inputs.volumeNames[volume];
        if (volumeName === undefined) throw new Error(`${service.key} mounts the unknown volume ${volume}`);
        return { volumeName, containerPath: target };
      }),
      ...service.hostMounts.map(({ source, target, readOnly }) => ({
        hostPath: source,
        containerPath: target,
        readOnly,
      })),
    ],
    ...(service.pidMode ? { pidMode: service.pidMode } : {}),
    ...(service.devices && service.devices.length > 0
      ? {
          devices: service.devices.map(({ path, permissions }) => ({
            hostPath: path,
            containerPath: path,
            permissions,
          })),
        }
      : {}),
    healthcheck: healthcheck(service),
    // Unset rather than false: the provider's default, so the inputs of an existing container do not change.
    ...(readOnly ? { readOnly: true } : {}),
    ...(service.tmpfs.length > 0
      ? { tmpfs: Object.fromEntries(service.tmpfs.map((tmpfs) => [tmpfs.target, tmpfsOptions(tmpfs)])) }
      : {}),
    stopTimeout: containerBaseline.stopGraceSeconds,
    destroyGraceSeconds: containerBaseline.stopGraceSeconds,
    securityOpts: [...containerBaseline.securityOpts],
    capabilities: {
      drops: [...containerBaseline.capDrop],
      ...(service.capAdd && service.capAdd.length > 0 ? { adds: [...service.capAdd] } : {}),
    },
    logDriver: containerBaseline.logDriver,
    logOpts: { ...containerBaseline.logOptions },
    ...(isService
      ? {
          restart: "unless-stopped",
          // `pulumi up` fails, naming the container, if a service never becomes healthy. The provider waits
          // for the healthcheck's verdict, so a service without one is waited for as created.
          ...(service.healthcheck ? { wait: true, waitTimeout: service.healthyWithinSeconds } : {}),
        }
      : {
          // One run per creation: not restarted when it exits, and an exited container is not a diff.
          restart: "no",
          mustRun: false,
          // `pulumi up` returns while the run goes on; its progress is in `docker logs`.
          attach: false,
        }),
  };
}

/**
 * The container's name and host ports are fixed, so the old container must go before its replacement starts;
 * Docker cannot change a healthcheck in place, so a changed one replaces the container. `after` holds the
 * containers the plan starts it after: Pulumi creates it once they are created (and, with `wait`, healthy), and
 * replaces it only after them.
 */
export function containerOptions(
  parent: pulumi.Resource,
  service: ServicePlan,
  after: readonly pulumi.Resource[],
): pulumi.CustomResourceOptions {
  return {
    parent,
    deleteBeforeReplace: true,
    ...(service.healthcheck ? { replaceOnChanges: ["healthcheck"] } : {}),
    ...(after.length > 0 ? { dependsOn: [...after] } : {}),
  };
}

/**
 * Options of a data volume. Its name is fixed, and Docker hands back an existing volume of that name instead of
 * creating one, so a replacement must delete first. With `keepData` the volume outlives the stack, and the next
 * `pulumi up` finds it by name.
 */
export function volumeOptions(parent: pulumi.Resource, keepData: boolean): pulumi.CustomResourceOptions {
  return { parent, deleteBeforeReplace: true, retainOnDelete: keepData };
}
