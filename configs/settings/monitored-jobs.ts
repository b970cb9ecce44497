/**
 * The jobs the per-job alerts watch, each job's effective alert settings, and where the stack reaches its user
 * services: the step from the settings to what each job gets, read by the rules, their tests and the
 * dashboards alike.
 */
import { jobs } from "../names";
import type { Settings } from "./schema";
import type { ScrapeTarget, UserService } from "./targets";

export type JobAlertOverrides = Readonly<Record<string, Readonly<Record<string, unknown>> | undefined>>;

/** Where the stack's own network reaches a user service: its container alias is its job name. */
export function serviceAddress(service: Pick<UserService, "job" | "port">): string {
  return `${service.job}:${service.port}`;
}

/** A scrape job that gets the per-job alerts: the demo app, a target or a user service. */
export interface MonitoredJob {
  readonly job: string;
  readonly httpContract: boolean;
  readonly overrides: JobAlertOverrides;
  /** Its instances; unset for the demo app, whose address depends on where the stack runs. */
  readonly addresses?: readonly string[];
}

/** The jobs the per-job alerts watch, the demo app first while it is enabled. */
export function monitoredJobs(settings: {
  readonly app: { readonly enabled: boolean };
  readonly targets: readonly ScrapeTarget[];
  readonly services: readonly UserService[];
}): MonitoredJob[] {
  return [
    ...(settings.app.enabled ? [{ job: jobs.app, httpContract: true, overrides: {} }] : []),
    ...settings.targets.map((target) => ({
      job: target.job,
      httpContract: target.httpContract,
      overrides: target.alerts,
      addresses: target.addresses,
    })),
    ...settings.services.map((service) => ({
      job: service.job,
      httpContract: service.httpContract,
      overrides: service.alerts,
      addresses: [serviceAddress(service)],
    })),
  ];
}

/**
 * An alert's settings for one job or probe: the stack-wide `alerts.<key>` with its own overrides. The one place
 * they are merged: the rules, their generated tests, the dashboards' threshold lines and the load test all
 * read a job's or a probe's settings from here.
 */
export function effectiveAlertSettings<
  Alerts extends Readonly<Record<string, object>>,
  Key extends keyof Alerts & string,
>(alerts: Alerts, overrides: JobAlertOverrides, key: Key): Alerts[Key] {
  const stackWide = alerts[key];
  if (stackWide === undefined) throw new Error(`the settings hold no alerts.${key}`);
  return { ...stackWide, ...overrides[key] };
}

/** The jobs that expose the HTTP metrics contract, the demo app first while it is enabled. */
export function httpContractJobs(settings: Parameters<typeof monitoredJobs>[0]): MonitoredJob[] {
  return monitoredJobs(settings).filter((job) => job.httpContract);
}

/** The job the load test drives; undefined when `loadtest.target` names none with the HTTP contract. */
export function loadtestJob(settings: Settings): MonitoredJob | undefined {
  return httpContractJobs(settings).find((job) => job.job === settings.loadtest.target);
}
