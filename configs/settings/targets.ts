/**
 * What the stack monitors besides its own servers: `targets` it scrapes but does not run, and `services`,
 * containers of the user's own that it runs on its private network and scrapes. Each becomes a scrape job with
 * its own alerts (see `perJob` in alert-specs.ts) and dashboard rows.
 */
import { z } from "zod";
import { jobAlertOverridesSchema } from "./alert-specs";
import { positiveDurationSchema } from "./duration";
import { hostPortProblem } from "./host-port";

const jobNameSchema = z
  .string()
  .regex(
    /^[a-zA-Z_][a-zA-Z0-9_-]*$/,
    "must be a job name: letters, digits, _ and -, not starting with a digit or -",
  );

const addressSchema = z.string().superRefine((text, ctx) => {
  const message = hostPortProblem(text, "host.docker.internal:8080, 10.0.0.5:9100 or api.internal:443");
  if (message !== undefined) ctx.addIssue({ code: "custom", message });
});

const metricsPathSchema = z.string().regex(/^\/[^\s?#]*$/, "must be an absolute path such as /metrics");

/** What every monitored job has, whether the stack runs it or not. */
const monitoredJobFields = {
  job: jobNameSchema,
  metricsPath: metricsPathSchema.default("/metrics"),
  /**
   * The job exposes the metrics contract docs/own-services.md documents (`app_http_requests_total` and
   * `app_http_request_duration_seconds` by method, route and status_code): it then gets the request alerts too.
   */
  httpContract: z.boolean().default(false),
  alerts: jobAlertOverridesSchema,
};

export const scrapeTargetSchema = z.strictObject({
  ...monitoredJobFields,
  /** `host:port` of each instance; a service on the Docker host is `host.docker.internal:<port>`. */
  addresses: z.array(addressSchema).min(1, "must list at least one host:port"),
  scheme: z.enum(["http", "https"]).default("http"),
  /** Unset means `scrape.interval`. */
  scrapeInterval: positiveDurationSchema.optional(),
  /** Extra labels on every series of the target. */
  labels: z
    .record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, "must be a label name"), z.string())
    .default({}),
});

/** `name:tag` with a tag other than `latest`, or `name@sha256:<digest>`: an image that cannot change under us. */
const pinnedImageSchema = z.string().superRefine((image, ctx) => {
  const digest = /@sha256:[a-f0-9]{64}$/.test(image);
  const tag = /:([\w][\w.-]{0,127})$/.exec(image.replace(/@sha256:[a-f0-9]{64}$/, ""))?.[1];
  const name = image.replace(/@sha256:[a-f0-9]{64}$/, "").replace(/:[\w][\w.-]{0,127}$/, "");
  if (!/^[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(name)) {
    ctx.addIssue({ code: "custom", message: "must be an image reference such as ghcr.io/acme/orders:1.4.2" });
  } else if (!digest && (tag === undefined || tag === "latest")) {
    ctx.addIssue({
      code: "custom",
      message: `must be pinned: a tag other than latest (such as ${name}:1.4.2) or a digest (${name}@sha256:...)`,
    });
  }
});

export const userServiceSchema = z.strictObject({
  ...monitoredJobFields,
  image: pinnedImageSchema,
  /** The port the service listens on inside its container; it is not published on the host. */
  port: z.number().int().min(1).max(65535),
  env: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name"), z.string())
    .default({}),
  /** A command Docker runs inside the container to tell it is healthy, such as ["wget", "-q", "-O-", "http://localhost:8080/healthz"]. */
  healthcheck: z
    .array(z.string().min(1))
    .min(1, 'must be a command such as ["wget", "-q", "-O-", "http://localhost:8080/healthz"]'),
});

export type ScrapeTarget = z.infer<typeof scrapeTargetSchema>;
export type UserService = z.infer<typeof userServiceSchema>;
