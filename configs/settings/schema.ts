/**
 * The one typed settings object. Every threshold, interval, target and port of the stack is here with its
 * default; a stack overrides any of them in `Pulumi.<stack>.yaml`. Renderers, the Pulumi program, the load test
 * and the end-to-end tests all read this object and nothing else.
 */
import { z } from "zod";
import { severitySchema } from "./alert-settings";
import { builtInAlertSettingsShape, hostAlertOverridesSchema } from "./alert-specs";
import { durationSchema, positiveDurationSchema } from "./duration";
import { hostPortProblem } from "./host-port";
import { hostNameSchema, watchedHostsSchema } from "./hosts";
import { probesSchema } from "./probes";
import { sloSettingsSchema } from "./slo";
import { scrapeTargetSchema, userServiceSchema } from "./targets";

const ruleNameSchema = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]*$/,
    "must be a metric-style name: letters, digits and _, not starting with a digit",
  );

export const customAlertSchema = z.strictObject({
  name: ruleNameSchema,
  expr: z.string().min(1, "must be a PromQL expression"),
  for: durationSchema.default("0s"),
  severity: severitySchema.default("warning"),
  summary: z
    .string()
    .min(1, "must be a one-line summary")
    .regex(/^[^\r\n]*$/, "must be a one-line summary (no line breaks)"),
  description: z.string().min(1, "must describe the alert"),
});

const port = z.number().int().min(1).max(65535);

const smarthostSchema = z.string().superRefine((text, ctx) => {
  const message = hostPortProblem(text, "smtp.example.com:587, 192.0.2.25:25 or [2001:db8::25]:587");
  if (message !== undefined) ctx.addIssue({ code: "custom", message });
});

/** An absolute http(s) URL without a fragment, to which an alert's section anchor is appended. */
const runbookUrlSchema = z
  .url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" })
  .refine((url) => !url.includes("#"), {
    message: "must not have a #fragment; each alert's section anchor is appended to it",
  });

/** The most Alertmanager replicas a stack runs; kube-prometheus runs three. */
export const maxAlertmanagerReplicas = 5;

const emailAddress = z.email("must be an e-mail address such as oncall@example.com");

export const settingsSchema = z.strictObject({
  scrape: z
    .strictObject({
      /** How often every Prometheus replica scrapes every target. */
      interval: positiveDurationSchema.default("5s"),
      /** Must not exceed `interval`. */
      timeout: positiveDurationSchema.default("4s"),
      /** How often alert rules are evaluated. */
      evaluationInterval: positiveDurationSchema.default("5s"),
    })
    .prefault({}),

  alerts: z
    .strictObject({
      /** One key per built-in alert, from its spec (alert-specs.ts). */
      ...builtInAlertSettingsShape,
      /** Rules of the user's own, validated like the built-in ones. */
      custom: z.array(customAlertSchema).default([]),
    })
    .prefault({}),

  email: z
    .strictObject({
      to: z
        .union([emailAddress, z.array(emailAddress).min(1)], {
          error: "must be an e-mail address or a list of them",
        })
        .default("oncall@example.com"),
      from: emailAddress.default("alertmanager@example.com"),
      /** `host:port` of the SMTP server; unset means the Mailpit inbox inside the stack. */
      smarthost: smarthostSchema.optional(),
      authUsername: z.string().min(1).optional(),
      /** A Pulumi secret: set it with `pulumi config set --secret --path email.authPassword`. */
      authPassword: z.string().min(1).optional(),
      /**
       * A file holding the SMTP password, instead of `authPassword`: `pulumi up` reads it (and keeps it encrypted
       * in the state), Docker Compose mounts it as is (so uid 65534 in the container must be able to read it).
       * Relative to the project directory.
       */
      authPasswordFile: z.string().min(1).optional(),
      /** Defaults to false for the local inbox and true for any other smarthost; always set after parsing. */
      requireTls: z.boolean().optional(),
    })
    .transform((email) => ({ ...email, requireTls: email.requireTls ?? email.smarthost !== undefined }))
    .prefault({}),

  alertmanager: z
    .strictObject({
      /**
       * Replicas in one gossip cluster: every Prometheus replica sends to each, and they deduplicate e-mail and
       * share silences between them (docs/alerting-ha.md).
       */
      replicas: z.number().int().min(1).max(maxAlertmanagerReplicas).default(2),
      /**
       * How long a replica waits for the one before it in the cluster to send, before it sends itself
       * (`--cluster.peer-timeout`, Alertmanager's default): the replica at position n waits n times this.
       */
      peerTimeout: positiveDurationSchema.default("15s"),
      groupWait: durationSchema.default("10s"),
      groupInterval: positiveDurationSchema.default("1m"),
      repeatInterval: positiveDurationSchema.default("4h"),
      /** Webhook that receives the Watchdog alert; unset means the Watchdog is routed to a receiver that sends nothing. */
      deadMansSwitchUrl: z
        .url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" })
        .optional(),
    })
    .prefault({}),

  app: z
    .strictObject({
      /** Run and monitor the demo app; off when the stack only watches `targets` and `services`. */
      enabled: z.boolean().default(true),
    })
    .prefault({}),

  /** The Docker host the stack runs on, watched by node exporter (see docs/hosts.md). */
  host: z
    .strictObject({
      /** Run node exporter on the stack's host, scrape it, and alert on its disks, memory and exporter. */
      enabled: z.boolean().default(true),
      /**
       * The `host` label of the host's series, which the Hosts dashboard selects by. Not the exporter's own
       * hostname: in a container that is the container's id, which changes with every replacement.
       */
      name: hostNameSchema.default("local"),
      /**
       * Also run cAdvisor on the stack's host (with `enabled`), scrape it, and alert on the containers: OOM
       * kills, memory near a limit, a container of the stack missing.
       */
      containers: z.boolean().default(true),
      /** Overrides of the host and container alerts for this host alone (see docs/hosts.md). */
      alerts: hostAlertOverridesSchema,
    })
    .prefault({}),

  /** Other machines, watched through exporters the user runs on them (see docs/hosts.md). */
  hosts: watchedHostsSchema,

  /** Services the stack scrapes but does not run (see docs/own-services.md). */
  targets: z.array(scrapeTargetSchema).default([]),

  /** Containers of your own that the stack runs on its private network and scrapes. */
  services: z.array(userServiceSchema).default([]),

  /**
   * URLs and TCP addresses the stack checks with its blackbox exporter (see docs/probes.md): the one part of the
   * stack that reaches outside, and only to these.
   */
  probes: probesSchema,

  prometheus: z
    .strictObject({
      /** Identical replicas that scrape the app, Alertmanager and each other. */
      replicas: z.number().int().min(1).max(5).default(2),
      retention: positiveDurationSchema.default("15d"),
    })
    .prefault({}),

  grafana: z
    .strictObject({
      adminUser: z.string().min(1).default("admin"),
      /** A Pulumi secret; unset means a random password is generated and exported as a secret. */
      adminPassword: z.string().min(12, "must be at least 12 characters").optional(),
    })
    .prefault({}),

  network: z
    .strictObject({
      /** Host address the published ports bind to. 0.0.0.0 exposes unauthenticated UIs to the network. */
      bindAddress: z
        .union([z.ipv4(), z.ipv6()], { error: "must be an IPv4 or IPv6 address, such as 127.0.0.1" })
        .default("127.0.0.1"),
    })
    .prefault({}),

  ports: z
    .strictObject({
      app: port.default(5002),
      /** Replica i publishes on `prometheus + i`. */
      prometheus: port.default(9090),
      alertmanager: port.default(9093),
      grafana: port.default(3000),
      mailpit: port.default(8025),
    })
    .prefault({}),

  runbook: z
    .strictObject({
      /**
       * Where RUNBOOK.md is published, such as https://github.com/acme/watchtower/blob/main/RUNBOOK.md. Every
       * alert's `runbook_url` is this plus the anchor of the alert's section. Unset, it is the file's path in the
       * repository (`runbookPath` in rules.ts): a reference for a reader, which e-mail shows as text, not a link.
       */
      url: runbookUrlSchema.optional(),
    })
    .prefault({}),

  data: z
    .strictObject({
      /** Keep the Prometheus, Alertmanager and Grafana volumes when the stack is destroyed. */
      keepOnDestroy: z.boolean().default(false),
    })
    .prefault({}),

  loadtest: z
    .strictObject({
      /** Run the k6 load test on every `pulumi up` whose script or settings changed. */
      enabled: z.boolean().default(true),
      /** Warm-up below the request-volume threshold. */
      warmupDuration: positiveDurationSchema.default("30s"),
      /** Warm-up rate as a fraction of the threshold rate (maxRequests / window). */
      warmupFraction: z.number().gt(0).lt(1).default(0.5),
      /** Spike rate as a multiple of the threshold rate. */
      spikeFactor: z.number().gt(1).max(20).default(2),
      /**
       * Spike length; unset means the latest HighRequestVolume e-mail after the spike starts
       * (configs/prometheus/alert-timing.ts): long enough for the alert to fire and its e-mail to leave.
       */
      spikeDuration: positiveDurationSchema.optional(),
      /**
       * Cool-down length; unset means the latest resolved e-mail after the spike ends: long enough for the
       * alert to resolve and the resolved e-mail to leave with its group's next flush.
       */
      cooldownDuration: positiveDurationSchema.optional(),
      /**
       * The job the load test drives and whose HighRequestVolume threshold shapes it: the demo app, or a target
       * or service with `httpContract` that serves the demo API's routes.
       */
      target: z.string().default("app"),
      /** Upper bound on k6 virtual users. */
      maxVUs: z.number().int().positive().max(1000).default(50),
    })
    .prefault({}),

  /** Service level objectives and their error-budget alerts (configs/slo/). */
  slo: sloSettingsSchema,

  delivery: z
    .strictObject({
      /**
       * On every `pulumi up` that changes Alertmanager's configuration or the e-mail settings, send one labelled
       * test alert and fail the update unless its e-mail is delivered (infra/delivery-check.ts).
       */
      checkOnUp: z.boolean().default(true),
    })
    .prefault({}),
});

export type Settings = z.infer<typeof settingsSchema>;
export type SettingsInput = z.input<typeof settingsSchema>;
export type CustomAlert = z.infer<typeof customAlertSchema>;

/**
 * Settings that hold Pulumi secrets. Validation never prints their values, and `render` only learns whether
 * they are set (see `secretIsSet` in configs/settings/stack-file.ts).
 */
export const secretSettingPaths = ["email.authPassword", "grafana.adminPassword"] as const;
