/** The parts of Alertmanager's API (v2) and its own metrics that the scenarios read. */
import { boundedFetch } from "../test-support/http";
import { LifecycleClient } from "../test-support/lifecycle-client";

export interface AlertmanagerAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly status: { readonly state: "active" | "suppressed" | "unprocessed" };
}

export interface SilenceMatcher {
  readonly name: string;
  readonly value: string;
  readonly isRegex: boolean;
  readonly isEqual: boolean;
}

export interface Silence {
  readonly id: string;
  readonly matchers: readonly SilenceMatcher[];
  readonly status: { readonly state: "active" | "pending" | "expired" };
}

export class AlertmanagerClient extends LifecycleClient {
  /** Creates a silence of the alerts whose labels equal `labels`, for `minutes`; returns its id. */
  async silence(
    labels: Readonly<Record<string, string>>,
    minutes: number,
    createdBy: string,
  ): Promise<string> {
    const now = Date.now();
    const response = await boundedFetch(`${this.baseUrl}/api/v2/silences`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        matchers: Object.entries(labels).map(([name, value]) => ({
          name,
          value,
          isRegex: false,
          isEqual: true,
        })),
        startsAt: new Date(now).toISOString(),
        endsAt: new Date(now + minutes * 60_000).toISOString(),
        createdBy,
        comment: "an end-to-end test's silence",
      }),
    });
    if (!response.ok)
      throw new Error(`POST ${this.baseUrl}/api/v2/silences: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { silenceID: string }).silenceID;
  }

  async silences(): Promise<Silence[]> {
    const response = await boundedFetch(`${this.baseUrl}/api/v2/silences`);
    if (!response.ok) throw new Error(`GET ${this.baseUrl}/api/v2/silences: ${response.status}`);
    return (await response.json()) as Silence[];
  }

  async expireSilence(id: string): Promise<void> {
    const response = await boundedFetch(`${this.baseUrl}/api/v2/silence/${id}`, { method: "DELETE" });
    if (!response.ok) throw new Error(`DELETE ${this.baseUrl}/api/v2/silence/${id}: ${response.status}`);
  }

  /** Hands Alertmanager alerts as Prometheus does, each with its labels, annotations and start. */
  async postAlerts(alerts: readonly AlertmanagerAlert[]): Promise<void> {
    const body = alerts.map(({ labels, annotations, startsAt }) => ({ labels, annotations, startsAt }));
    const response = await boundedFetch(`${this.baseUrl}/api/v2/alerts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`POST ${this.baseUrl}/api/v2/alerts: ${response.status}`);
  }

  /** Alerts Alertmanager currently holds, as Prometheus last sent them. */
  async alerts(): Promise<AlertmanagerAlert[]> {
    const response = await boundedFetch(`${this.baseUrl}/api/v2/alerts`);
    if (!response.ok) throw new Error(`GET ${this.baseUrl}/api/v2/alerts: ${response.status}`);
    return (await response.json()) as AlertmanagerAlert[];
  }

  /**
   * Sum of one metric's samples whose labels include `labels`, read straight from Alertmanager's /metrics so
   * that no scrape interval lies between an event and the test seeing it.
   */
  async metricSum(name: string, labels: Readonly<Record<string, string>> = {}): Promise<number> {
    const response = await boundedFetch(`${this.baseUrl}/metrics`);
    if (!response.ok) throw new Error(`GET ${this.baseUrl}/metrics: ${response.status}`);
    let sum = 0;
    for (const line of (await response.text()).split("\n")) {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
      if (!match || match[1] !== name) continue;
      const sampleLabels = parseLabels(match[2] ?? "");
      if (Object.entries(labels).every(([label, value]) => sampleLabels.get(label) === value)) {
        sum += Number(match[3]);
      }
    }
    return sum;
  }
}

/** `a="1",b="x\"y"` → {a: 1, b: x"y}, as the text exposition format escapes label values. */
function parseLabels(text: string): Map<string, string> {
  const labels = new Map<string, string>();
  for (const match of text.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
    const [, label, value] = match;
    if (label !== undefined && value !== undefined)
      labels.set(
        label,
        value.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c)),
      );
  }
  return labels;
}
