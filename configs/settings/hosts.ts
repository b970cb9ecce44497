/**
 * `hosts`: other machines to watch besides the stack's own (`host`), each either by the exporters the user runs
 * on it, scraped as they are (`address`), or by exporters the stack runs there through the machine's Docker
 * engine, protected by TLS and basic auth (`docker`; docs/hosts.md). Every series of a host carries
 * `host="<name>"`, as the stack's own host's do, so the host and container alerts and dashboards cover every
 * machine by the same rules.
 */
import { z } from "zod";
import { hostAlertOverridesSchema } from "./alert-specs";
import { hostPortProblem } from "./host-port";

/** The `host` label of a machine's series: the Hosts and Containers dashboards select by it. */
export const hostNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "must be a host name: letters, digits, '.', '-' and '_'");

const exporterAddressSchema = z.string().superRefine((text, ctx) => {
  const message = hostPortProblem(text, "db-1.internal:9100 or 10.0.0.5:9100");
  if (message !== undefined) ctx.addIssue({ code: "custom", message });
});

const port = z.number().int().min(1).max(65535);

/** A file the program reads, relative to the project directory (where Pulumi and `npm run render` run). */
const projectFileSchema = z.string().min(1, "must name a file, relative to the project directory");

/**
 * A Docker engine on another machine, as DOCKER_HOST names it. Only ssh:// and tcp:// reach another machine;
 * Docker's API is root on that machine, so tcp:// must come with client TLS (`tls`), which is checked beside.
 */
const dockerEngineSchema = z.string().superRefine((text, ctx) => {
  const match = /^(ssh|tcp):\/\/(?:[^@/]+@)?([^/:@]+|\[[^\]]+\])(?::(\d+))?$/.exec(text);
  if (!match) {
    ctx.addIssue({
      code: "custom",
      message:
        "must be a Docker engine's address, such as ssh://deploy@db-1.internal or tcp://db-1.internal:2376",
    });
  }
});

/** An address of the machine's own interfaces, where a port without authentication may be published. */
const privateAddressSchema = z.union([z.ipv4(), z.ipv6()], {
  error: "must be an IP address of the machine, on a network only the stack's host reaches",
});

export const dockerHostSchema = z.strictObject({
  /** Where the program reaches the machine's Docker engine (`pulumi up` only; Compose is run on the machine). */
  engine: dockerEngineSchema,
  /** Client TLS of a tcp:// engine, as `docker --tlsverify` takes it (required with tcp://). */
  tls: z
    .strictObject({ caFile: projectFileSchema, certFile: projectFileSchema, keyFile: projectFileSchema })
    .optional(),
  /** The name or address at which the replicas reach the machine; the engine's host by default. */
  scrapeAddress: z.string().min(1).optional(),
  /**
   * The certificate node exporter serves and its key, and the CA the replicas verify it with. Its names must
   * include the scrape address.
   */
  exporterTls: z.strictObject({
    certFile: projectFileSchema,
    keyFile: projectFileSchema,
    caFile: projectFileSchema,
  }),
  /** The port node exporter is published on, on every interface of the machine, behind TLS and basic auth. */
  nodeExporterPort: port.default(9100),
  /**
   * Also run cAdvisor there. Its /metrics has no authentication of its own, so it is published only on
   * `bindAddress`: an address of the machine on a network that only the stack's host reaches (docs/hosts.md).
   */
  cadvisor: z.strictObject({ bindAddress: privateAddressSchema, port: port.default(8080) }).optional(),
});

export const watchedHostSchema = z
  .strictObject({
    name: hostNameSchema,
    /** Exporters the user runs on the machine, as `host:port` the replicas reach, scraped as they are. */
    address: z
      .strictObject({
        /** node exporter (its default port is 9100). */
        nodeExporter: exporterAddressSchema,
        /** cAdvisor, whose container alerts then cover the machine too (its default port is 8080). */
        cadvisor: exporterAddressSchema.optional(),
      })
      .optional(),
    /** Exporters the stack runs on the machine through its Docker engine. */
    docker: dockerHostSchema.optional(),
    /** Overrides of the host and container alerts for this machine, as `host.alerts` are for the stack's own. */
    alerts: hostAlertOverridesSchema,
  })
  .superRefine((host, ctx) => {
    if ((host.address === undefined) === (host.docker === undefined)) {
      ctx.addIssue({ code: "custom", message: "must have exactly one of address or docker", path: [] });
    }
    if (host.docker?.engine.startsWith("tcp://") && host.docker.tls === undefined) {
      ctx.addIssue({
        code: "custom",
        message:
          "with a tcp:// engine (caFile, certFile, keyFile): Docker's API without TLS is root on the machine for anyone who reaches it",
        path: ["docker", "tls"],
        input: undefined,
      });
    }
    if (host.docker !== undefined) {
      const problem = hostPortProblem(machineExporters(host).nodeExporter, "db-1.internal or 10.0.0.5");
      const key = host.docker.scrapeAddress === undefined ? "engine" : "scrapeAddress";
      if (problem !== undefined) {
        ctx.addIssue({
          code: "custom",
          message: `does not give a host node exporter can be scraped at: ${problem}`,
          path: ["docker", key],
          input: host.docker[key],
        });
      }
    }
  });

/** Distinct names are checked with the other cross-field checks (configs/settings/load.ts). */
export const watchedHostsSchema = z.array(watchedHostSchema).default([]);

export type WatchedHost = z.infer<typeof watchedHostSchema>;
export type DockerHost = z.infer<typeof dockerHostSchema>;

/** The machine part of a Docker engine's address: `db-1.internal` of `ssh://deploy@db-1.internal:22`. */
export function engineMachine(engine: string): string {
  return engine.replace(/^[a-z]+:\/\/(?:[^@/]+@)?/, "").replace(/:\d+$/, "");
}

function withPort(address: string, port: number): string {
  return `${address.includes(":") && !address.startsWith("[") ? `[${address}]` : address}:${port}`;
}

/** Where the replicas scrape a machine's exporters, whichever kind of entry it is. */
export function machineExporters(host: WatchedHost): { nodeExporter: string; cadvisor?: string } {
  if (host.docker === undefined) {
    if (host.address === undefined)
      throw new Error(`hosts entry ${host.name} has neither address nor docker`);
    return host.address;
  }
  const { docker } = host;
  return {
    nodeExporter: withPort(docker.scrapeAddress ?? engineMachine(docker.engine), docker.nodeExporterPort),
    ...(docker.cadvisor ? { cadvisor: withPort(docker.cadvisor.bindAddress, docker.cadvisor.port) } : {}),
  };
}

export type DockerWatchedHost = WatchedHost & { readonly docker: DockerHost };

/** The machines whose exporters the stack runs through their Docker engines. */
export function dockerHosts(hosts: readonly WatchedHost[]): DockerWatchedHost[] {
  return hosts.filter((host): host is DockerWatchedHost => host.docker !== undefined);
}

/** The settings that say which machines are watched (schema.ts holds them; this module is beneath it). */
interface WatchedMachines {
  readonly host: { readonly enabled: boolean; readonly containers: boolean };
  readonly hosts: readonly WatchedHost[];
}

/** Whether any machine's node exporter is scraped: the stack's own host's, or another's. */
export function watchesHosts(settings: WatchedMachines): boolean {
  return settings.host.enabled || settings.hosts.length > 0;
}

/** Whether any machine's cAdvisor is scraped. */
export function watchesContainers(settings: WatchedMachines): boolean {
  return (
    (settings.host.enabled && settings.host.containers) ||
    settings.hosts.some((host) => machineExporters(host).cadvisor !== undefined)
  );
}
