/** The parts of Prometheus's HTTP API (v1) that tests read: queries, alerts, rules, readiness and reload. */
import { boundedFetch } from "./http";
import { LifecycleClient } from "./lifecycle-client";

export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Series {
  readonly labels: Readonly<Record<string, string>>;
  /** [unix seconds, value] pairs, oldest first. */
  readonly values: readonly (readonly [number, number])[];
}

export interface PrometheusAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly state: "pending" | "firing";
  readonly activeAt: string;
  readonly value: string;
}

export interface RuleStatus {
  readonly name: string;
  readonly query: string;
  readonly type: "alerting" | "recording";
  readonly health: "ok" | "err" | "unknown";
  readonly lastError?: string;
  readonly lastEvaluation: string;
  /** Alerting rules only. */
  readonly state?: "inactive" | "pending" | "firing";
  readonly duration?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface RuleGroupStatus {
  readonly name: string;
  readonly file: string;
  /** Seconds between evaluations. */
  readonly interval: number;
  /** When the group was last evaluated, RFC 3339. */
  readonly lastEvaluation: string;
  readonly rules: readonly RuleStatus[];
}

interface ApiResponse<T> {
  readonly status: "success" | "error";
  readonly data: T;
  readonly errorType?: string;
  readonly error?: string;
}

interface RangeData {
  readonly resultType: "matrix";
  readonly result: readonly { metric: Record<string, string>; values: [number, string][] }[];
}

type QueryData =
  | {
      readonly resultType: "vector";
      readonly result: readonly { metric: Record<string, string>; value: [number, string] }[];
    }
  | { readonly resultType: "scalar"; readonly result: [number, string] }
  | { readonly resultType: "matrix" | "string"; readonly result: unknown };

export class PrometheusClient extends LifecycleClient {
  /** An instant query; `at` evaluates it at a past moment instead of now. */
  async query(expr: string, at?: Date): Promise<Sample[]> {
    const params = new URLSearchParams({ query: expr });
    if (at) params.set("time", (at.getTime() / 1000).toFixed(3));
    const data = await this.api<QueryData>(`/api/v1/query?${params}`, `query ${expr}`);
    switch (data.resultType) {
      case "vector":
        return data.result.map((sample) => ({ labels: sample.metric, value: Number(sample.value[1]) }));
      case "scalar":
        return [{ labels: {}, value: Number(data.result[1]) }];
      default:
        throw new Error(`query ${expr}: expected an instant vector or a scalar, got a ${data.resultType}`);
    }
  }

  /** A range query, as Grafana runs a panel's query over the dashboard's time range. */
  async queryRange(expr: string, start: Date, end: Date, stepSeconds: number): Promise<Series[]> {
    const params = new URLSearchParams({
      query: expr,
      start: (start.getTime() / 1000).toFixed(3),
      end: (end.getTime() / 1000).toFixed(3),
      step: String(stepSeconds),
    });
    const data = await this.api<RangeData>(`/api/v1/query_range?${params}`, `range query ${expr}`);
    return data.result.map((series) => ({
      labels: series.metric,
      values: series.values.map(([time, value]) => [time, Number(value)] as const),
    }));
  }

  async alerts(): Promise<PrometheusAlert[]> {
    const data = await this.api<{ alerts: PrometheusAlert[] }>("/api/v1/alerts", "list alerts");
    return data.alerts;
  }

  async ruleGroups(): Promise<RuleGroupStatus[]> {
    const data = await this.api<{ groups: RuleGroupStatus[] }>("/api/v1/rules", "list rules");
    return data.groups;
  }

  private async api<T>(path: string, what: string): Promise<T> {
    const response = await boundedFetch(`${this.baseUrl}${path}`);
    const body = (await response.json()) as ApiResponse<T>;
    if (body.status !== "success") {
      throw new Error(
        `${what} on ${this.baseUrl}: ${body.errorType ?? response.status}: ${body.error ?? ""}`,
      );
    }
    return body.data;
  }
}
