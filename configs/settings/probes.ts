/**
 * `probes`: HTTP(S) URLs and TCP addresses the stack checks from its blackbox exporter (docs/probes.md). The one
 * part of the stack that reaches outside its own network, and only to what is listed here. Each probe becomes
 * one module of the exporter's `blackbox.yml` and one target of the `probe` scrape job, labelled with its name.
 */
import { RE2JS } from "re2js";
import { z } from "zod";
import { probeAlertOverridesSchema } from "./alert-specs";
import { durationMs, positiveDurationSchema } from "./duration";
import { hostPortProblem } from "./host-port";

/** A label value and a blackbox module name at once: letters, digits, `_` and `-`. */
const probeNameSchema = z
  .string()
  .regex(
    /^[a-zA-Z_][a-zA-Z0-9_-]*$/,
    "must be a probe name: letters, digits, _ and -, not starting with a digit or -",
  );

const statusSchema = z.number().int().min(100).max(599);

/**
 * How the replicas scrape the probes: less often than the stack's own targets (a probe reaches another
 * machine), with a timeout that leaves room for the longest probe. The blackbox exporter ends a probe half a
 * second before the scrape's timeout, whatever its module's timeout says.
 */
export const probeScrape = { interval: "15s", timeout: "10s", exporterMarginMs: 500 } as const;
const longestProbeMs = durationMs(probeScrape.timeout) - probeScrape.exporterMarginMs;

/** How long the exporter waits for the probe; at most what the scrape leaves it. */
const probeTimeoutSchema = positiveDurationSchema
  .refine((timeout) => durationMs(timeout) <= longestProbeMs, {
    message: `must be at most ${longestProbeMs / 1000}s: the replicas scrape a probe with a ${probeScrape.timeout} timeout, and the exporter keeps ${probeScrape.exporterMarginMs / 1000}s of it`,
  })
  .default("5s");

const httpProbeSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }),
  /** The status, or any of the statuses, that counts as success. */
  expectedStatus: z.union([statusSchema, z.array(statusSchema).min(1)]).default(200),
  timeout: probeTimeoutSchema,
  /**
   * A regular expression the body must match, in Go's RE2 syntax: the exporter compiles it with Go's regexp.
   * Checked here by RE2JS, a port of RE2 with Go's messages, since JavaScript's engine accepts what RE2 refuses
   * (lookaround, backreferences).
   */
  bodyMatches: z
    .string()
    .min(1)
    .superRefine((pattern, ctx) => {
      try {
        RE2JS.compile(pattern);
      } catch (error) {
        ctx.addIssue({
          code: "custom",
          message: `is not a regular expression Go accepts: ${(error as Error).message}`,
        });
      }
    })
    .optional(),
});

const tcpProbeSchema = z.strictObject({
  address: z.string().superRefine((text, ctx) => {
    const message = hostPortProblem(text, "db.internal:5432 or 10.0.0.5:22");
    if (message !== undefined) ctx.addIssue({ code: "custom", message });
  }),
  timeout: probeTimeoutSchema,
});

export const probeSchema = z
  .strictObject({
    name: probeNameSchema,
    http: httpProbeSchema.optional(),
    tcp: tcpProbeSchema.optional(),
    /** Overrides of the probe alerts for this probe, as a job's `alerts` are for the per-job alerts. */
    alerts: probeAlertOverridesSchema,
  })
  .superRefine((probe, ctx) => {
    if ((probe.http === undefined) === (probe.tcp === undefined)) {
      ctx.addIssue({ code: "custom", message: "must have exactly one of http or tcp", path: [] });
    }
  });

/** Distinct names are checked with the other cross-field checks (configs/settings/load.ts). */
export const probesSchema = z.array(probeSchema).default([]);

export type Probe = z.infer<typeof probeSchema>;

/** What a probe checks: its URL, or its `host:port`; the `instance` label of its series. */
export function probeTarget(probe: Probe): string {
  const target = probe.http?.url ?? probe.tcp?.address;
  if (target === undefined) throw new Error(`probe ${probe.name} has neither http nor tcp`);
  return target;
}
