/**
 * `hosts`: other machines to watch besides the stack's own (`host`), each by the exporters the user runs on it,
 * scraped as they are (docs/hosts.md). Every series of a host carries `host="<name>"`, as the stack's own host's
 * do, so the host and container alerts and dashboards cover every machine by the same rules.
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

export const watchedHostSchema = z.strictObject({
  name: hostNameSchema,
  /** Exporters the user runs on the machine, as `host:port` the replicas reach. */
  address: z.strictObject({
    /** node exporter (its default port is 9100). */
    nodeExporter: exporterAddressSchema,
    /** cAdvisor, whose container alerts then cover the machine too (its default port is 8080). */
    cadvisor: exporterAddressSchema.optional(),
  }),
  /** Overrides of the host and container alerts for this machine, as `host.alerts` are for the stack's own. */
  alerts: hostAlertOverridesSchema,
});

/** Distinct names are checked with the other cross-field checks (configs/settings/load.ts). */
export const watchedHostsSchema = z.array(watchedHostSchema).default([]);

export type WatchedHost = z.infer<typeof watchedHostSchema>;

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
    settings.hosts.some((host) => host.address.cadvisor !== undefined)
  );
}
