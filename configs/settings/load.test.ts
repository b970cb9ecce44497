import { expect } from "chai";
import { realisticCustomAlertExprs } from "../../test-support/custom-alerts";
import { loadSettings } from "../validate";
import { alertNames } from "./alert-specs";
import { SettingsError } from "./load";
import { settingsSchema } from "./schema";

/** A valid custom alert, with some of its fields replaced. */
function customAlert(fields: Partial<Record<"expr" | "summary" | "description", string>> = {}) {
  return {
    name: "QueueBacklog",
    expr: "sum(queue_items) > 100",
    summary: "The queue is backing up.",
    description: "{{ $value | humanize }} items wait.",
    ...fields,
  };
}

/** The problems loadSettings reports for an input; fails the test when it accepts it. */
function problemsOf(raw: unknown): string[] {
  try {
    loadSettings(raw);
  } catch (error) {
    expect(error).to.be.instanceOf(SettingsError);
    const { problems, message } = error as SettingsError;
    for (const problem of problems) expect(message).to.include(problem);
    return problems;
  }
  expect.fail(`settings were accepted: ${JSON.stringify(raw)}`);
}

/** The single problem reported at a key path; `path` must start the line, as every problem starts with its key. */
function problemAt(raw: unknown, path: string): string {
  const problems = problemsOf(raw);
  const matching = problems.filter(
    (problem) => problem.startsWith(`${path}: `) || problem.startsWith(`${path} `),
  );
  expect(matching, `problems: ${problems.join(" | ")}`).to.have.length(1);
  return matching[0] ?? "";
}

describe("loadSettings", () => {
  it("applies every default to an empty stack, without warnings", () => {
    const { settings, warnings } = loadSettings({});
    expect(settings).to.deep.equal(settingsSchema.parse({}));
    expect(warnings).to.deep.equal([]);
    expect(settings.scrape).to.deep.equal({ interval: "5s", timeout: "4s", evaluationInterval: "5s" });
    expect(settings.alerts.highRequestVolume).to.include({ maxRequests: 500, window: "1m", for: "10s" });
    expect(settings.prometheus.replicas).to.equal(2);
    expect(settings.network.bindAddress).to.equal("127.0.0.1");
  });

  it("treats a stack without config (undefined) as all defaults", () => {
    expect(loadSettings(undefined).settings).to.deep.equal(loadSettings({}).settings);
  });

  it("keeps overrides and fills the rest with defaults", () => {
    const { settings } = loadSettings({ alerts: { highRequestVolume: { maxRequests: 900 } } });
    expect(settings.alerts.highRequestVolume).to.include({ maxRequests: 900, window: "1m", for: "10s" });
  });

  describe("email.requireTls", () => {
    it("is false for the stack's own inbox", () => {
      expect(loadSettings({}).settings.email.requireTls).to.equal(false);
    });

    it("is true for any other smarthost", () => {
      const { settings } = loadSettings({
        email: { smarthost: "smtp.example.com:587", authUsername: "alerts", authPassword: "s3cret" },
      });
      expect(settings.email.requireTls).to.equal(true);
    });

    it("keeps an explicit false for another smarthost", () => {
      const { settings } = loadSettings({ email: { smarthost: "relay.internal:25", requireTls: false } });
      expect(settings.email.requireTls).to.equal(false);
    });
  });

  describe("email.smarthost", () => {
    for (const smarthost of [
      "smtp.example.com:587",
      "relay:25",
      "mail.example.com.:465",
      "192.0.2.25:25",
      "[2001:db8::25]:587",
      "[::1]:1025",
    ]) {
      it(`accepts ${smarthost}`, () => {
        expect(loadSettings({ email: { smarthost } }).settings.email.smarthost).to.equal(smarthost);
      });
    }
  });

  describe("runbook.url", () => {
    it("is unset by default: rules then refer to the runbook's path in the repository", () => {
      expect(loadSettings({}).settings.runbook.url).to.equal(undefined);
    });

    it("accepts an absolute https URL", () => {
      const url = "https://github.com/acme/watchtower/blob/main/RUNBOOK.md";
      expect(loadSettings({ runbook: { url } }).settings.runbook.url).to.equal(url);
    });
  });

  describe("warnings", () => {
    it("warns that PrometheusDown cannot fire with one replica", () => {
      const { warnings } = loadSettings({ prometheus: { replicas: 1 } });
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.include("prometheus.replicas").and.include(alertNames.prometheusDown);
    });

    it("does not warn about PrometheusDown when it is disabled", () => {
      const { warnings } = loadSettings({
        prometheus: { replicas: 1 },
        alerts: { prometheusDown: { enabled: false } },
      });
      expect(warnings).to.deep.equal([]);
    });

    for (const bindAddress of ["0.0.0.0", "::"]) {
      it(`warns that bindAddress ${bindAddress} exposes the unauthenticated UIs`, () => {
        const { warnings } = loadSettings({ network: { bindAddress } });
        expect(warnings).to.have.length(1);
        expect(warnings[0]).to.include("network.bindAddress").and.include("no authentication");
      });
    }

    it("warns when the latency threshold falls between histogram buckets", () => {
      const { warnings } = loadSettings({ alerts: { highLatency: { p95Seconds: 0.3 } } });
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.include("alerts.highLatency.p95Seconds").and.include("0.25").and.include("0.5");
    });
  });

  describe("rejects, naming the key path, the value and what is allowed:", () => {
    const cases: { what: string; raw: unknown; path: string; mentions: string[] }[] = [
      {
        what: "a window that is not a duration",
        raw: { alerts: { highRequestVolume: { window: "a minute" } } },
        path: "alerts.highRequestVolume.window",
        mentions: ['"a minute"', "Prometheus duration"],
      },
      {
        what: "a window shorter than 4 scrape intervals",
        raw: { scrape: { interval: "30s", timeout: "10s" }, alerts: { highRequestVolume: { window: "1m" } } },
        path: "alerts.highRequestVolume.window",
        mentions: ["1m", "4 x 30s = 2m"],
      },
      {
        what: "a short window of a self-monitoring alert",
        raw: { alerts: { notificationsFailing: { window: "15s" } } },
        path: "alerts.notificationsFailing.window",
        mentions: ["15s", "20s"],
      },
      {
        what: "a scrape timeout longer than the interval",
        raw: { scrape: { interval: "5s", timeout: "10s" } },
        path: "scrape.timeout",
        mentions: ["10s", "at most the interval"],
      },
      {
        what: "a zero scrape interval",
        raw: { scrape: { interval: "0s" } },
        path: "scrape.interval",
        mentions: ['"0s"', "longer than 0s"],
      },
      {
        what: "a negative maxRequests",
        raw: { alerts: { highRequestVolume: { maxRequests: -5 } } },
        path: "alerts.highRequestVolume.maxRequests",
        mentions: ["-5", ">0"],
      },
      {
        what: "a fractional maxRequests",
        raw: { alerts: { highRequestVolume: { maxRequests: 10.5 } } },
        path: "alerts.highRequestVolume.maxRequests",
        mentions: ["10.5", "int"],
      },
      {
        what: "an error ratio of 1 or more",
        raw: { alerts: { highErrorRate: { maxRatio: 5 } } },
        path: "alerts.highErrorRate.maxRatio",
        mentions: ["5", "<1"],
      },
      {
        what: "a latency threshold the histogram cannot measure",
        raw: { alerts: { highLatency: { p95Seconds: 30 } } },
        path: "alerts.highLatency.p95Seconds",
        mentions: ["30", "below 10"],
      },
      {
        what: "an unknown severity",
        raw: { alerts: { instanceDown: { severity: "page" } } },
        path: "alerts.instanceDown.severity",
        mentions: ['"page"', '"critical"|"warning"|"info"'],
      },
      {
        what: "a misspelt alert",
        raw: { alerts: { highRequestVolum: { maxRequests: 10 } } },
        path: "alerts.highRequestVolum",
        mentions: ["unknown setting", "highRequestVolume"],
      },
      {
        what: "a misspelt field of a custom alert",
        raw: { alerts: { custom: [{ ...customAlert(), severty: "info" }] } },
        path: "alerts.custom[0].severty",
        mentions: ["unknown setting", "alerts.custom[0] accepts", "severity"],
      },
      {
        what: "an unknown top-level key",
        raw: { scrapes: {} },
        path: "scrapes",
        mentions: ["unknown setting", "the top level", "scrape"],
      },
      {
        what: "a malformed recipient",
        raw: { email: { to: ["oncall@example.com", "not-an-address"] } },
        path: "email.to[1]",
        mentions: ['"not-an-address"', "e-mail address"],
      },
      {
        what: "a malformed sender",
        raw: { email: { from: "alertmanager" } },
        path: "email.from",
        mentions: ['"alertmanager"', "e-mail address"],
      },
      {
        what: "a smarthost without a port",
        raw: { email: { smarthost: "smtp.example.com" } },
        path: "email.smarthost",
        mentions: ["host:port"],
      },
      {
        what: "a smarthost on port 0",
        raw: { email: { smarthost: "smtp.example.com:0" } },
        path: "email.smarthost",
        mentions: ["port 0", "1 to 65535"],
      },
      {
        what: "a smarthost on a port past 65535",
        raw: { email: { smarthost: "smtp.example.com:99999" } },
        path: "email.smarthost",
        mentions: ["port 99999", "1 to 65535"],
      },
      {
        what: "a smarthost with an IPv6 address outside brackets",
        raw: { email: { smarthost: "2001:db8::25:587" } },
        path: "email.smarthost",
        mentions: ["host:port", "[2001:db8::25]:587"],
      },
      {
        what: "a smarthost with a malformed IPv6 address",
        raw: { email: { smarthost: "[2001:db8:::25]:587" } },
        path: "email.smarthost",
        mentions: ['"[2001:db8:::25]" is not an IPv6 address'],
      },
      {
        what: "a smarthost whose host is not a host name",
        raw: { email: { smarthost: "smtp_relay.example.com:25" } },
        path: "email.smarthost",
        mentions: ['"smtp_relay.example.com" is not a host name'],
      },
      {
        what: "a smarthost with an IPv4 address out of range",
        raw: { email: { smarthost: "192.0.2.256:25" } },
        path: "email.smarthost",
        mentions: ['"192.0.2.256"'],
      },
      {
        what: "a password without a user name",
        raw: { email: { smarthost: "smtp.example.com:587", authPassword: "s3cret" } },
        path: "email.authUsername",
        mentions: ["email.authPassword"],
      },
      {
        what: "a user name without a password",
        raw: { email: { smarthost: "smtp.example.com:587", authUsername: "alerts" } },
        path: "email.authPassword",
        mentions: ["email.authUsername", "email.authPasswordFile"],
      },
      {
        what: "the password both as a secret and as a file",
        raw: {
          email: {
            smarthost: "smtp.example.com:587",
            authUsername: "alerts",
            authPassword: "s3cret",
            authPasswordFile: "smtp-password",
          },
        },
        path: "email.authPasswordFile",
        mentions: ["email.authPassword"],
      },
      {
        what: "TLS required from the stack's own inbox",
        raw: { email: { requireTls: true } },
        path: "email.requireTls",
        mentions: ["email.smarthost"],
      },
      {
        what: "zero replicas",
        raw: { prometheus: { replicas: 0 } },
        path: "prometheus.replicas",
        mentions: ["0", ">=1"],
      },
      {
        what: "a port out of range",
        raw: { ports: { grafana: 70000 } },
        path: "ports.grafana",
        mentions: ["70000", "<=65535"],
      },
      {
        what: "a port given as text",
        raw: { ports: { app: "5002" } },
        path: "ports.app",
        mentions: ['"5002"', "expected number"],
      },
      {
        what: "two services on one port",
        raw: { ports: { grafana: 9093 } },
        path: "ports.grafana",
        mentions: ["9093", "ports.alertmanager", "distinct"],
      },
      {
        what: "a service on the port of the second Prometheus replica",
        raw: { ports: { alertmanager: 9091 } },
        path: "ports.alertmanager",
        mentions: ["9091", "ports.prometheus + 1", "distinct"],
      },
      {
        what: "replica ports past the last port",
        raw: { ports: { prometheus: 65535 } },
        path: "ports.prometheus",
        mentions: ["65535", "2 replicas"],
      },
      {
        what: "a bind address that is not an IP address",
        raw: { network: { bindAddress: "localhost" } },
        path: "network.bindAddress",
        mentions: ['"localhost"', "IPv4 or IPv6"],
      },
      {
        what: "a custom alert named like a built-in one",
        raw: {
          alerts: { custom: [{ name: "InstanceDown", expr: "up == 0", summary: "s", description: "d" }] },
        },
        path: "alerts.custom[0].name",
        mentions: ['"InstanceDown"', "built-in"],
      },
      {
        what: "two custom alerts with one name",
        raw: {
          alerts: {
            custom: [
              { name: "QueueBacklog", expr: "vector(1)", summary: "s", description: "d" },
              { name: "QueueBacklog", expr: "vector(2)", summary: "s", description: "d" },
            ],
          },
        },
        path: "alerts.custom[1].name",
        mentions: ["alerts.custom[0]", "unique"],
      },
      {
        what: "a custom expression that does not parse",
        raw: {
          alerts: { custom: [{ name: "Broken", expr: "sum(rate(x[5m])", summary: "s", description: "d" }] },
        },
        path: "alerts.custom[0].expr",
        mentions: ["not valid PromQL", "column"],
      },
      {
        what: "a custom expression that passes a range function an instant vector",
        raw: { alerts: { custom: [customAlert({ expr: "rate(up) > 0" })] } },
        path: "alerts.custom[0].expr",
        mentions: ['"rate(up) > 0"', 'expected type range vector in call to function "rate"'],
      },
      {
        what: "a custom expression that evaluates to a range vector",
        raw: { alerts: { custom: [customAlert({ expr: "up[5m]" })] } },
        path: "alerts.custom[0].expr",
        mentions: ["instant vector or a scalar, got range vector"],
      },
      {
        what: "a custom expression that passes a function the wrong type",
        raw: { alerts: { custom: [customAlert({ expr: "histogram_quantile(up, up)" })] } },
        path: "alerts.custom[0].expr",
        mentions: ['expected type scalar in call to function "histogram_quantile"'],
      },
      {
        what: "a custom description with a function alert templates lack and an unclosed action",
        raw: {
          alerts: { custom: [customAlert({ description: "{{ $value | humanise }} {{ $labels.instance" })] },
        },
        path: "alerts.custom[0].description",
        mentions: [
          "not an allowed alert template",
          '"humanise" is not a humanize function',
          "humanizeDuration",
        ],
      },
      {
        what: "a custom summary with an unclosed action",
        raw: { alerts: { custom: [customAlert({ summary: "Queue on {{ $labels.instance" })] } },
        path: "alerts.custom[0].summary",
        mentions: ['column 10: "{{" is not closed'],
      },
      {
        what: "a custom description with Go template logic, outside the allowed subset",
        raw: { alerts: { custom: [customAlert({ description: "{{ if gt $value 1.0 }}high{{ end }}" })] } },
        path: "alerts.custom[0].description",
        mentions: [
          "{{ if gt $value 1.0 }} is not allowed",
          "allow plain text, {{ $labels.<name> }}, {{ $value }}",
        ],
      },
      {
        what: "a load test whose warm-up would send nothing",
        raw: { alerts: { highRequestVolume: { maxRequests: 1 } } },
        path: "loadtest.warmupFraction",
        mentions: ["alerts.highRequestVolume.maxRequests (1)", "loadtest.enabled"],
      },
      {
        what: "a custom alert without a summary",
        raw: { alerts: { custom: [{ name: "NoSummary", expr: "vector(1)", description: "d" }] } },
        path: "alerts.custom[0].summary",
        mentions: ["required"],
      },
      {
        what: "a custom alert with a multi-line summary",
        raw: {
          alerts: { custom: [{ name: "Wordy", expr: "vector(1)", summary: "one\ntwo", description: "d" }] },
        },
        path: "alerts.custom[0].summary",
        mentions: ["no line breaks"],
      },
      {
        what: "a dead man's switch that is not an http(s) URL",
        raw: { alertmanager: { deadMansSwitchUrl: "ftp://example.com/ping" } },
        path: "alertmanager.deadMansSwitchUrl",
        mentions: ['"ftp://example.com/ping"', "https://"],
      },
      {
        what: "a runbook location that is not an absolute URL",
        raw: { runbook: { url: "RUNBOOK.md" } },
        path: "runbook.url",
        mentions: ['"RUNBOOK.md"', "https://"],
      },
      {
        what: "a runbook URL with a fragment, to which the section anchor could not be appended",
        raw: { runbook: { url: "https://example.com/RUNBOOK.md#top" } },
        path: "runbook.url",
        mentions: ["#fragment"],
      },
      {
        what: "a zero retention",
        raw: { prometheus: { retention: "0d" } },
        path: "prometheus.retention",
        mentions: ["longer than 0s"],
      },
    ];

    for (const { what, raw, path, mentions } of cases) {
      it(what, () => {
        const problem = problemAt(raw, path);
        for (const mention of mentions) expect(problem).to.include(mention);
      });
    }

    it("settings that are not an object", () => {
      expect(problemsOf("scrape: 5s")[0]).to.include("must be an object");
    });
  });

  it("reports every problem at once, schema and cross-field alike", () => {
    const problems = problemsOf({
      scrape: { interval: "30s", timeout: "banana" },
      alerts: {
        highRequestVolume: { window: "1m" },
        custom: [{ name: "Bad", expr: "up ==", summary: "s", description: "d" }],
      },
      ports: { grafana: 9090 },
      email: { to: "nobody" },
    });
    const paths = problems.map((problem) => problem.split(":")[0]);
    expect(paths).to.include.members([
      "scrape.timeout",
      "alerts.highRequestVolume.window",
      "alerts.custom[0].expr",
      "ports.grafana",
      "email.to",
    ]);
  });

  it("accepts custom alerts with real-world expressions and templates", () => {
    const exprs = realisticCustomAlertExprs;
    const description = "{{ $labels.instance }}: {{ $value | humanizeDuration }} ({{ humanize $value }} s)";
    const custom = exprs.map((expr, i) => ({ ...customAlert({ expr, description }), name: `Custom${i}` }));
    expect(loadSettings({ alerts: { custom } }).settings.alerts.custom).to.have.length(exprs.length);
  });

  it("checks the load test only when it is enabled", () => {
    const raw = { alerts: { highRequestVolume: { maxRequests: 1 } }, loadtest: { enabled: false } };
    expect(loadSettings(raw).settings.alerts.highRequestVolume.maxRequests).to.equal(1);
    const problems = problemsOf({ ...raw, loadtest: { enabled: true }, ports: { grafana: 9093 } });
    expect(problems.map((problem) => problem.split(":")[0])).to.have.members([
      "loadtest.warmupFraction",
      "ports.grafana",
    ]);
  });

  it("does not echo a cross-field problem of a value that already failed on its own", () => {
    const problems = problemsOf({
      scrape: { interval: "fast" },
      alerts: { highRequestVolume: { window: "5s" } },
    });
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(/^scrape\.interval: /);
  });

  it("never prints a secret value", () => {
    const password = "short-but-secret";
    const problems = problemsOf({ grafana: { adminPassword: "tiny" }, email: { authPassword: password } });
    expect(problems.join("\n")).not.to.include("tiny");
    expect(problems.join("\n")).not.to.include(password);
    expect(problems.find((problem) => problem.startsWith("grafana.adminPassword"))).to.include("not shown");
  });
});
