/** The parts of Alertmanager's API (v2) and of its own /metrics that the delivery check reads and writes. */
import { fetchText } from "./http";

export interface PostedAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly endsAt: string;
}

/** What Alertmanager says of one alert: why it would not be sent, if anything mutes it. */
export interface AlertStatus {
  readonly state: string;
  readonly silencedBy: readonly string[];
  readonly inhibitedBy: readonly string[];
}

/** Alertmanager's e-mail counters; each rises only once the attempt or notification it counts has ended. */
export interface EmailCounters {
  /** `alertmanager_notification_requests_total`: every SMTP exchange, retries included. */
  readonly attempts: number;
  /** `alertmanager_notification_requests_failed_total`: the exchanges that failed. */
  readonly failedAttempts: number;
  /** `alertmanager_notifications_failed_total` by its `reason` label: notifications given up after retrying. */
  readonly givenUpByReason: Readonly<Record<string, number>>;
}

export const emailIntegration = "email";

export interface AlertmanagerApi {
  readonly url: string;
  postAlerts(alerts: readonly PostedAlert[]): Promise<void>;
  /** The status of the alert with this label value, or undefined while Alertmanager does not hold it. */
  alertStatus(label: string, value: string): Promise<AlertStatus | undefined>;
  /** A silence's matchers as text, such as `severity="info"`, for messages. */
  silenceMatchers(id: string): Promise<string>;
  emailCounters(): Promise<EmailCounters>;
}

export function alertmanagerApi(baseUrl: string): AlertmanagerApi {
  const url = baseUrl.replace(/\/+$/, "");
  return {
    url,
    async postAlerts(alerts) {
      await fetchText(`${url}/api/v2/alerts`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(alerts),
      });
    },
    async alertStatus(label, value) {
      const filter = new URLSearchParams({ filter: `${label}=${JSON.stringify(value)}` });
      const alerts = JSON.parse(await fetchText(`${url}/api/v2/alerts?${filter}`)) as {
        status?: { state?: string; silencedBy?: string[]; inhibitedBy?: string[] };
      }[];
      const status = alerts[0]?.status;
      if (status === undefined) return undefined;
      return {
        state: status.state ?? "unknown",
        silencedBy: status.silencedBy ?? [],
        inhibitedBy: status.inhibitedBy ?? [],
      };
    },
    async silenceMatchers(id) {
      const silence = JSON.parse(await fetchText(`${url}/api/v2/silence/${encodeURIComponent(id)}`)) as {
        matchers?: { name: string; value: string; isRegex: boolean; isEqual?: boolean }[];
      };
      return (silence.matchers ?? [])
        .map(({ name, value, isRegex, isEqual = true }) => {
          const operator = `${isEqual ? "=" : "!"}${isRegex ? "~" : isEqual ? "" : "="}`;
          return `${name}${operator}${JSON.stringify(value)}`;
        })
        .join(", ");
    },
    async emailCounters() {
      const samples = parseExposition(await fetchText(`${url}/metrics`)).filter(
        (sample) => sample.labels.integration === emailIntegration,
      );
      const sum = (name: string) =>
        samples.filter((sample) => sample.name === name).reduce((total, sample) => total + sample.value, 0);
      const givenUpByReason: Record<string, number> = {};
      for (const sample of samples) {
        if (sample.name !== "alertmanager_notifications_failed_total") continue;
        const reason = sample.labels.reason ?? "(none)";
        givenUpByReason[reason] = (givenUpByReason[reason] ?? 0) + sample.value;
      }
      return {
        attempts: sum("alertmanager_notification_requests_total"),
        failedAttempts: sum("alertmanager_notification_requests_failed_total"),
        givenUpByReason,
      };
    },
  };
}

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Samples of the Prometheus text format: `name{a="1",b="x\"y"} 3`; comments and blank lines skipped. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match?.[1] || match[3] === undefined) continue;
    const labels: Record<string, string> = {};
    for (const [, label, value] of (match[2] ?? "").matchAll(
      /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g,
    )) {
      if (label !== undefined && value !== undefined)
        labels[label] = value.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}
