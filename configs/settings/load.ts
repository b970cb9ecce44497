/**
 * Validation of the settings before anything is rendered or created. The zod schema in schema.ts checks each
 * value on its own; this module adds the checks that relate values to each other, and reports every problem at
 * once, each with its key path, the offending value and what is allowed. Secret values are never printed.
 *
 * Checks that need to know what the alerts, the SLOs or the load test make of the settings are theirs, and
 * come in as `SettingsChecks` (configs/validate.ts joins them), so that the settings import none of them.
 *
 * `email.requireTls` is resolved by the schema itself: after loading it is always a boolean (false when
 * `email.smarthost` is unset, so the stack's own inbox is used; true otherwise, unless set explicitly).
 */

import { z } from "zod";
import { alertmanagerReplicaName, jobs, replicaName } from "../names";
import { alertTemplateErrors, allowedTemplates } from "../promql/alert-templates";
import { promqlErrors } from "../promql/lint";
import { alertmanagerHostPort, dockerAliases, prometheusHostPort } from "../runtime/docker-endpoints";
import { minSamplesPerWindow } from "./alert-settings";
import { type AlertSpecs, alertNames, builtInAlertSpecs, windowedAlertKeys } from "./alert-specs";
import { durationMs, formatDuration } from "./duration";
import { SettingsError } from "./error";
import { watchesContainers, watchesHosts } from "./hosts";
import { customAlertSchema, type Settings, secretSettingPaths, settingsSchema } from "./schema";

export interface LoadedSettings {
  settings: Settings;
  /** Valid but risky choices, for the caller to print. */
  warnings: string[];
}

// Defined apart so that the checks validateSettings is given (configs/loadtest/plan.ts) can throw it too.
export { SettingsError };

/** Checks that need more than the settings themselves: what the alerts, SLOs and load test make of them. */
export interface SettingsChecks {
  problems(settings: Settings): CrossFieldProblem[];
  warnings(settings: Settings): string[];
}

type Path = readonly (string | number)[];

/** `alerts.custom[0].name`, the way `pulumi config set --path` writes it: zod's own path notation. */
const formatPath = z.core.toDotPath;

/**
 * Validates raw settings (the stack's config without the project namespace) and applies the defaults; `checks`
 * add the problems and warnings of what reads them.
 */
export function validateSettings(raw: unknown, checks: SettingsChecks): LoadedSettings {
  const input = raw ?? {};
  if (!isPlainObject(input)) {
    throw new SettingsError([`(settings): must be an object of settings, got ${describeValue([], input)}`]);
  }
  // reportInput: each issue carries the value it is about, for the message.
  const parsed = settingsSchema.safeParse(input, { reportInput: true });
  const schemaProblems = parsed.success ? [] : parsed.error.issues.flatMap(describeIssue);
  const invalidPaths = parsed.success ? [] : parsed.error.issues.flatMap(issuePaths);

  // Values that failed the schema are replaced by their defaults so the cross-field checks can still run on
  // the rest; a cross-field problem that involves a failed value is left out, as it would only echo it.
  const settings = parsed.success ? parsed.data : repairedSettings(input, invalidPaths);
  const crossProblems = settings
    ? [...crossFieldProblems(settings, input), ...checks.problems(settings)]
        .filter((problem) => !problem.paths.some((path) => invalidPaths.some((bad) => overlaps(path, bad))))
        .map((problem) => problem.message)
    : [];

  if (!parsed.success || crossProblems.length > 0)
    throw new SettingsError([...schemaProblems, ...crossProblems]);
  return { settings: parsed.data, warnings: [...checks.warnings(parsed.data), ...warningsFor(parsed.data)] };
}

export interface CrossFieldProblem {
  /** Every setting the problem depends on. */
  readonly paths: readonly Path[];
  readonly message: string;
}

function crossFieldProblems(settings: Settings, input: Record<string, unknown>): CrossFieldProblem[] {
  return [
    ...scrapeProblems(settings),
    ...windowProblems(settings),
    ...portProblems(settings),
    ...emailProblems(settings),
    ...monitoredJobProblems(settings),
    ...probeNameProblems(settings),
    ...hostNameProblems(settings),
    ...customAlertProblems(input),
  ];
}

/**
 * Job names of targets and services: each distinct, none one of the stack's own jobs, and none a name the
 * stack's containers already use on its network (a service's container is reached by its job name). The job
 * and container of the host's node exporter are the stack's only while `host.enabled` (cAdvisor's, while
 * `host.containers` too), and those of the
 * blackbox exporter only while there are `probes`.
 */
function monitoredJobProblems(settings: Settings): CrossFieldProblem[] {
  const hostNames: readonly string[] = [jobs.node, dockerAliases.nodeExporter];
  const containerNames: readonly string[] = [jobs.cadvisor, dockerAliases.cadvisor];
  const probeNames: readonly string[] = [jobs.probe, dockerAliases.blackboxExporter];
  const names: string[] = [
    ...Object.values(jobs),
    ...Object.values(dockerAliases).filter((alias) => typeof alias === "string"),
  ];
  const reserved = new Set<string>([
    ...names
      .filter((name) => watchesHosts(settings) || !hostNames.includes(name))
      .filter((name) => watchesContainers(settings) || !containerNames.includes(name))
      .filter((name) => settings.probes.length > 0 || !probeNames.includes(name)),
    ...Array.from({ length: settings.prometheus.replicas }, (_, replica) => replicaName(replica)),
    ...Array.from({ length: settings.alertmanager.replicas }, (_, replica) =>
      alertmanagerReplicaName(replica),
    ),
  ]);
  const entries = [
    ...settings.targets.map((target, index) => ({ job: target.job, path: ["targets", index, "job"] })),
    ...settings.services.map((service, index) => ({ job: service.job, path: ["services", index, "job"] })),
  ];
  return entries.flatMap((entry, index): CrossFieldProblem[] => {
    if (reserved.has(entry.job)) {
      return [
        {
          paths: [entry.path],
          message: `${formatPath(entry.path)}: "${entry.job}" is a name of the stack itself (${[...reserved].join(", ")}); choose another`,
        },
      ];
    }
    const earlier = entries.slice(0, index).find((other) => other.job === entry.job);
    if (!earlier) return [];
    return [
      {
        paths: [entry.path, earlier.path],
        message: `${formatPath(entry.path)}: "${entry.job}" is already the job of ${formatPath(earlier.path.slice(0, 2))}; every job name must be distinct`,
      },
    ];
  });
}

/**
 * Every watched machine's name is distinct, the stack's own host's included while it is watched: the `host`
 * label is all that tells their series apart.
 */
function hostNameProblems(settings: Settings): CrossFieldProblem[] {
  const named = [
    ...(settings.host.enabled ? [{ name: settings.host.name, path: ["host", "name"] }] : []),
    ...settings.hosts.map((host, index) => ({ name: host.name, path: ["hosts", index, "name"] })),
  ];
  return named.flatMap((entry, index): CrossFieldProblem[] => {
    const earlier = named.slice(0, index).find((other) => other.name === entry.name);
    if (!earlier) return [];
    const what =
      earlier.path[0] === "host" ? "the stack's own host (host.name)" : formatPath(earlier.path.slice(0, 2));
    return [
      {
        paths: [entry.path, earlier.path],
        message: `${formatPath(entry.path)}: "${entry.name}" is already the name of ${what}; every host name must be distinct`,
      },
    ];
  });
}

/** Every probe's name is distinct: it names its module, its `probe` label and its alerts' rules. */
function probeNameProblems({ probes }: Settings): CrossFieldProblem[] {
  return probes.flatMap((probe, index): CrossFieldProblem[] => {
    const earlier = probes.findIndex((other) => other.name === probe.name);
    if (earlier === index) return [];
    const path = ["probes", index, "name"];
    return [
      {
        paths: [path, ["probes", earlier, "name"]],
        message: `${formatPath(path)}: "${probe.name}" is already the name of probes[${earlier}]; every probe name must be distinct`,
      },
    ];
  });
}

function scrapeProblems({ scrape }: Settings): CrossFieldProblem[] {
  if (durationMs(scrape.timeout) <= durationMs(scrape.interval)) return [];
  return [
    {
      paths: [
        ["scrape", "timeout"],
        ["scrape", "interval"],
      ],
      message: `scrape.timeout: ${scrape.timeout} is longer than scrape.interval (${scrape.interval}); it must be at most the interval`,
    },
  ];
}

/** Every windowed alert of the registry, enabled or not: switching one on must not be what breaks it. */
export function windowProblems(
  { alerts, scrape }: Settings,
  specs: AlertSpecs = builtInAlertSpecs,
): CrossFieldProblem[] {
  const minimumMs = minSamplesPerWindow * durationMs(scrape.interval);
  const configs: Readonly<Record<string, object>> = alerts;
  return windowedAlertKeys(specs).flatMap((name) => {
    const config = configs[name];
    const window = config && "window" in config ? config.window : undefined;
    if (typeof window !== "string") throw new Error(`the settings hold no alerts.${name}.window`);
    if (durationMs(window) >= minimumMs) return [];
    return [
      {
        paths: [
          ["alerts", name, "window"],
          ["scrape", "interval"],
        ],
        message:
          `alerts.${name}.window: ${window} is too short; it must be at least ${minSamplesPerWindow} x scrape.interval ` +
          `(${minSamplesPerWindow} x ${scrape.interval} = ${formatDuration(minimumMs)}) so that rate() and increase() see enough samples`,
      },
    ];
  });
}

function portProblems(settings: Settings): CrossFieldProblem[] {
  const { ports, prometheus } = settings;
  const own = (key: keyof Settings["ports"]) => ({
    port: ports[key],
    paths: [["ports", key]],
    label: `ports.${key}`,
  });
  const published: { port: number; paths: Path[]; label: string }[] = [
    own("app"),
    ...Array.from({ length: prometheus.replicas }, (_, replica) =>
      replica === 0
        ? own("prometheus")
        : {
            port: prometheusHostPort(settings, replica),
            paths: [
              ["ports", "prometheus"],
              ["prometheus", "replicas"],
            ],
            label: `ports.prometheus + ${replica} (Prometheus replica ${replica})`,
          },
    ),
    ...Array.from({ length: settings.alertmanager.replicas }, (_, replica) =>
      replica === 0
        ? own("alertmanager")
        : {
            port: alertmanagerHostPort(settings, replica),
            paths: [
              ["ports", "alertmanager"],
              ["alertmanager", "replicas"],
            ],
            label: `ports.alertmanager + ${replica} (Alertmanager replica ${replica})`,
          },
    ),
    own("grafana"),
    own("mailpit"),
  ];
  const problems: CrossFieldProblem[] = [];
  const lastReplicaPort = prometheusHostPort(settings, prometheus.replicas - 1);
  if (lastReplicaPort > 65535) {
    problems.push({
      paths: [
        ["ports", "prometheus"],
        ["prometheus", "replicas"],
      ],
      message: `ports.prometheus: ${ports.prometheus} leaves no room for ${prometheus.replicas} replicas (the last would publish on ${lastReplicaPort}); it must be at most ${65536 - prometheus.replicas}`,
    });
  }
  const lastAlertmanagerPort = alertmanagerHostPort(settings, settings.alertmanager.replicas - 1);
  if (lastAlertmanagerPort > 65535) {
    problems.push({
      paths: [
        ["ports", "alertmanager"],
        ["alertmanager", "replicas"],
      ],
      message: `ports.alertmanager: ${ports.alertmanager} leaves no room for ${settings.alertmanager.replicas} replicas (the last would publish on ${lastAlertmanagerPort}); it must be at most ${65536 - settings.alertmanager.replicas}`,
    });
  }
  published.forEach((entry, index) => {
    const earlier = published.slice(0, index).find((other) => other.port === entry.port);
    if (!earlier) return;
    problems.push({
      paths: [...entry.paths, ...earlier.paths],
      message: `${entry.label}: ${entry.port} is already used by ${earlier.label}; every published port must be distinct`,
    });
  });
  return problems;
}

function emailProblems({ email }: Settings): CrossFieldProblem[] {
  const problems: CrossFieldProblem[] = [];
  const passwordGiven = email.authPassword !== undefined || email.authPasswordFile !== undefined;
  if (email.authPassword !== undefined && email.authPasswordFile !== undefined) {
    problems.push({
      paths: [
        ["email", "authPassword"],
        ["email", "authPasswordFile"],
      ],
      message: "email.authPasswordFile: set either it or email.authPassword, not both",
    });
  }
  if ((email.authUsername === undefined) === passwordGiven) {
    problems.push({
      paths: [
        ["email", "authUsername"],
        ["email", "authPassword"],
      ],
      message:
        email.authUsername === undefined
          ? "email.authUsername: must be set together with the SMTP password (email.authPassword or email.authPasswordFile), which is set"
          : "email.authPassword: must be set together with email.authUsername, which is set (or name a file holding it in email.authPasswordFile)",
    });
  }
  if (email.smarthost === undefined && email.authUsername !== undefined) {
    problems.push({
      paths: [
        ["email", "smarthost"],
        ["email", "authUsername"],
      ],
      message:
        "email.authUsername: SMTP credentials are set but email.smarthost is not; the stack's own inbox takes no credentials, so set email.smarthost to the server they belong to",
    });
  }
  if (email.smarthost === undefined && email.requireTls) {
    problems.push({
      paths: [
        ["email", "requireTls"],
        ["email", "smarthost"],
      ],
      message:
        "email.requireTls: true, but email.smarthost is not set and the stack's own inbox offers no TLS; set email.smarthost or leave requireTls unset",
    });
  }
  return problems;
}

/**
 * Custom alerts are checked from the raw input, element by element, so that one malformed alert does not
 * hide problems in the others.
 */
function customAlertProblems(input: Record<string, unknown>): CrossFieldProblem[] {
  const alerts = isPlainObject(input.alerts) ? input.alerts : {};
  if (!Array.isArray(alerts.custom)) return [];
  const builtIn = new Set<string>(Object.values(alertNames));
  const firstIndexByName = new Map<string, number>();
  return alerts.custom.flatMap((element: unknown, index): CrossFieldProblem[] => {
    const parsed = customAlertSchema.safeParse(element);
    if (!parsed.success) return [];
    const { name, expr, summary, description } = parsed.data;
    const at = (key: string): Path => ["alerts", "custom", index, key];
    const problems: CrossFieldProblem[] = [];
    if (builtIn.has(name)) {
      problems.push({
        paths: [at("name")],
        message: `${formatPath(at("name"))}: "${name}" is the name of a built-in alert; choose another name (built-in alerts are configured under alerts.<name>)`,
      });
    }
    const earlier = firstIndexByName.get(name);
    if (earlier === undefined) firstIndexByName.set(name, index);
    else {
      problems.push({
        paths: [at("name")],
        message: `${formatPath(at("name"))}: "${name}" is already the name of alerts.custom[${earlier}]; custom alert names must be unique`,
      });
    }
    const exprErrors = promqlErrors(expr);
    if (exprErrors.length > 0) {
      problems.push({
        paths: [at("expr")],
        message: `${formatPath(at("expr"))}: ${JSON.stringify(expr)} is not valid PromQL (${exprErrors.join("; ")})`,
      });
    }
    for (const [key, template] of [
      ["summary", summary],
      ["description", description],
    ] as const) {
      const templateErrors = alertTemplateErrors(template);
      if (templateErrors.length === 0) continue;
      problems.push({
        paths: [at(key)],
        message: `${formatPath(at(key))}: ${describeValue(at(key), template)} is not an allowed alert template (${templateErrors.join("; ")}); custom alerts allow ${allowedTemplates}`,
      });
    }
    return problems;
  });
}

function warningsFor(settings: Settings): string[] {
  const warnings: string[] = [];
  const { bindAddress } = settings.network;
  if (bindAddress === "0.0.0.0" || bindAddress === "::") {
    warnings.push(
      `network.bindAddress is ${bindAddress}: every published port, including Prometheus and Alertmanager, which have no authentication, is reachable from any network this host is on; Docker's published ports bypass host firewalls`,
    );
  }
  return warnings;
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  const issuePath = pathOf(issue);
  if (issue.code === "unrecognized_keys") {
    const allowed = allowedKeys(issuePath);
    const where = issuePath.length === 0 ? "the top level" : formatPath(issuePath);
    return issue.keys.map(
      (key) => `${formatPath([...issuePath, key])}: unknown setting; ${where} accepts ${allowed.join(", ")}`,
    );
  }
  const path = formatPath(issuePath) || "(settings)";
  const value = issue.input;
  if (value === undefined) return [`${path}: is required; ${issue.message.replace(/^Invalid input: /, "")}`];
  return [`${path}: ${issue.message} (got ${describeValue(issuePath, value)})`];
}

function issuePaths(issue: z.core.$ZodIssue): Path[] {
  const path = pathOf(issue);
  if (issue.code === "unrecognized_keys") return issue.keys.map((key) => [...path, key]);
  return [path];
}

/** Settings are plain data, so zod's symbol keys cannot occur; String() keeps the type honest. */
function pathOf(issue: z.core.$ZodIssue): Path {
  return issue.path.map((key) => (typeof key === "symbol" ? String(key) : key));
}

function describeValue(path: Path, value: unknown): string {
  if (secretSettingPaths.some((secret) => secret === formatPath(path))) return "a secret, not shown";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** True when one path is the other or contains it. */
function overlaps(a: Path, b: Path): boolean {
  const length = Math.min(a.length, b.length);
  return a.slice(0, length).every((key, i) => key === b[i]);
}

function valueAt(input: unknown, path: Path): unknown {
  return path.reduce<unknown>(
    (value, key) =>
      isPlainObject(value) || Array.isArray(value) ? (value as Record<PropertyKey, unknown>)[key] : undefined,
    input,
  );
}

/**
 * The input with every invalid value removed, parsed, so that defaults stand in for what was wrong. Values
 * inside arrays remove the whole array: custom alerts are checked element by element from the raw input.
 */
function repairedSettings(
  input: Record<string, unknown>,
  invalidPaths: readonly Path[],
): Settings | undefined {
  const copy: unknown = structuredClone(input);
  for (const path of invalidPaths) {
    const arrayAt = path.findIndex((key) => typeof key === "number");
    const cut = arrayAt === -1 ? path : path.slice(0, arrayAt);
    const parent = valueAt(copy, cut.slice(0, -1));
    const last = cut[cut.length - 1];
    if (last === undefined) return undefined;
    if (isPlainObject(parent)) delete parent[last];
  }
  const reparsed = settingsSchema.safeParse(copy);
  return reparsed.success ? reparsed.data : undefined;
}

function isPlainObject(value: unknown): value is Record<string | number, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Keys accepted at a path of the settings, for "unknown setting" messages: from zod's JSON Schema of them. */
function allowedKeys(path: Path): string[] {
  type Schema = z.core.JSONSchema._JSONSchema | undefined;
  let schema: Schema = z.toJSONSchema(settingsSchema, {
    io: "input",
    unrepresentable: "any",
  });
  for (const key of path) {
    if (typeof schema !== "object") return [];
    const items: Schema | Schema[] = schema.items;
    schema = typeof key === "number" && !Array.isArray(items) ? items : schema.properties?.[key];
  }
  return typeof schema === "object" ? Object.keys(schema.properties ?? {}) : [];
}
