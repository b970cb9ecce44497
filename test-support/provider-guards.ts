/**
 * Rules of the real Docker provider and engine that Pulumi's mocks accept silently. Each guard reads the
 * resources a mocked run declared and returns one line per violation, naming the resource and the field. They
 * come from a real `pulumi up` (Pulumi CLI 3.274, the Docker provider on terraform-provider-docker 4.6, Docker
 * Engine 20.10) that failed, drifted or warned where these guards now look, or from the provider's source.
 */
import { isGoDuration } from "../configs/deployment/go-duration";
import { phoneHomeOff } from "../configs/deployment/plan";
import { type RecordedResource, revealSecrets } from "./pulumi-mocks";

const containerType = "docker:index/container:Container";

function containers(resources: Iterable<RecordedResource>): RecordedResource[] {
  return [...resources].filter((resource) => resource.type === containerType);
}

/** terraform-provider-docker refuses `values for command may not be empty`; entrypoints and envs likewise. */
export function emptyStrings(resources: Iterable<RecordedResource>): string[] {
  const found: string[] = [];
  for (const container of containers(resources)) {
    for (const field of ["command", "entrypoints", "envs"] as const) {
      const values = (revealSecrets(container.inputs[field]) as unknown[] | undefined) ?? [];
      values.forEach((value, index) => {
        if (value === "") found.push(`${container.name}: ${field}[${index}] is an empty string`);
      });
    }
  }
  return found;
}

interface Healthcheck {
  readonly interval?: string;
  readonly timeout?: string;
  readonly startPeriod?: string;
  readonly startInterval?: string;
}

/**
 * The provider reads healthcheck durations back in Go's `time.Duration` form (`60s` comes back `1m0s`), and a
 * changed healthcheck replaces the container. `startInterval` needs API 1.44 (Engine 25); Engine 20.10 refuses it.
 */
export function healthcheckDurations(resources: Iterable<RecordedResource>): string[] {
  const found: string[] = [];
  for (const container of containers(resources)) {
    const check = container.inputs.healthcheck as Healthcheck | undefined;
    if (check === undefined) continue;
    if (check.startInterval !== undefined) {
      found.push(
        `${container.name}: healthcheck.startInterval needs Docker API 1.44; Engine 20.10 refuses it`,
      );
    }
    for (const field of ["interval", "timeout", "startPeriod"] as const) {
      const value = check[field];
      if (value !== undefined && !isGoDuration(value)) {
        found.push(
          `${container.name}: healthcheck.${field} "${value}" is read back in Go's form, so it drifts`,
        );
      }
    }
  }
  return found;
}

/**
 * Fields Docker fills in when they are unset and the provider reads back (its schema marks them optional, not
 * computed): given the first, the second must be set too, or the next `pulumi up` shows a change.
 */
const filledByDocker = [
  { given: "memory", alsoSet: "memorySwap", why: "Docker sets the swap limit to twice the memory limit" },
] as const;

export function dockerFilledFields(resources: Iterable<RecordedResource>): string[] {
  const found: string[] = [];
  for (const container of containers(resources)) {
    for (const { given, alsoSet, why } of filledByDocker) {
      if (container.inputs[given] !== undefined && container.inputs[alsoSet] === undefined) {
        found.push(
          `${container.name}: ${alsoSet} is unset beside ${given}; ${why}, and that reads back as a change`,
        );
      }
    }
  }
  return found;
}

/**
 * An upload that names an owner or group makes the engine chown the copied files to the container's user, which
 * Engine 20.10 looks up in the host's passwd database: `472:0` is not found there, and the container fails.
 */
export function uploadOwners(resources: Iterable<RecordedResource>): string[] {
  const found: string[] = [];
  for (const container of containers(resources)) {
    const uploads = (revealSecrets(container.inputs.uploads) as Record<string, unknown>[] | undefined) ?? [];
    for (const upload of uploads) {
      for (const field of ["owner", "group"]) {
        if (upload[field] !== undefined)
          found.push(`${container.name}: upload ${String(upload.file)} names ${field}`);
      }
    }
  }
  return found;
}

/**
 * With delete-before-replace, two containers that do not depend on each other are replaced at the same moment:
 * for the Prometheus replicas that means no replica runs, and PrometheusDown cannot fire. Every pair must be
 * ordered, directly or through others.
 */
export function unorderedReplicas(
  resources: Iterable<RecordedResource>,
  isReplica: (name: string) => boolean,
): string[] {
  const byName = new Map([...resources].map((resource) => [resource.name, resource]));
  const reaches = (from: string, to: string, seen = new Set<string>()): boolean => {
    if (seen.has(from)) return false;
    seen.add(from);
    const dependsOn = byName.get(from)?.dependsOn ?? [];
    return dependsOn.includes(to) || dependsOn.some((next) => reaches(next, to, seen));
  };
  const replicas = containers(byName.values()).filter((container) => isReplica(container.name));
  const found: string[] = [];
  replicas.forEach((a, i) => {
    for (const b of replicas.slice(i + 1)) {
      if (!reaches(a.name, b.name) && !reaches(b.name, a.name)) {
        found.push(`${a.name} and ${b.name}: neither depends on the other, so both can be replaced at once`);
      }
    }
  });
  return found;
}

/** The container of the component of this type, if the run declared one. */
function containerOf(
  resources: Iterable<RecordedResource>,
  componentType: string,
): RecordedResource | undefined {
  const all = [...resources];
  const component = all.find((resource) => resource.type === componentType);
  return component && containers(all).find((container) => container.parent === component.name);
}

/** Grafana's and Mailpit's phone-home settings, each set to off in their container's environment. */
export function phoneHome(resources: Iterable<RecordedResource>): string[] {
  const found: string[] = [];
  const services = [
    { component: "watchtower:index:GrafanaService", settings: phoneHomeOff.grafana },
    { component: "watchtower:index:MailpitInbox", settings: phoneHomeOff.mailpit },
  ];
  for (const { component, settings } of services) {
    const container = containerOf(resources, component);
    if (container === undefined) continue;
    const envs = (container.inputs.envs as string[] | undefined) ?? [];
    for (const [key, value] of Object.entries(settings)) {
      if (!envs.includes(`${key}=${value}`)) found.push(`${container.name}: envs lacks ${key}=${value}`);
    }
  }
  return found;
}

/**
 * The provider uploads files by extracting an archive at the container's `/`, which the engine refuses for a
 * read-only root ("container rootfs is marked read-only"): the container is never created.
 */
export function readOnlyUploads(resources: Iterable<RecordedResource>): string[] {
  const found: string[] = [];
  for (const container of containers(resources)) {
    const uploads = (revealSecrets(container.inputs.uploads) as unknown[] | undefined) ?? [];
    if (container.inputs.readOnly === true && uploads.length > 0) {
      found.push(
        `${container.name}: readOnly with uploads; the engine refuses them (container rootfs is read-only)`,
      );
    }
  }
  return found;
}

const imageType = "docker:index/image:Image";

/**
 * An image built without `build.platform` makes the provider warn on every run, preview included ("Building
 * your image for linux/amd64 architecture ... consider explicitly setting the `platform` field").
 */
export function buildPlatforms(resources: Iterable<RecordedResource>): string[] {
  return [...resources]
    .filter((resource) => resource.type === imageType)
    .filter((image) => !(image.inputs.build as { platform?: string } | undefined)?.platform)
    .map((image) => `${image.name}: build.platform is unset, so the provider warns on every run`);
}

/** Every guard, by what it checks. */
export const providerGuards = {
  emptyStrings,
  healthcheckDurations,
  dockerFilledFields,
  uploadOwners,
  unorderedPrometheusReplicas: (resources: Iterable<RecordedResource>) =>
    unorderedReplicas(resources, (name) => /-prometheus-\d+$/.test(name)),
  phoneHome,
  readOnlyUploads,
  buildPlatforms,
} as const;
