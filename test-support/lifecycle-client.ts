/**
 * What Prometheus and Alertmanager share over HTTP: the readiness probe and the lifecycle reload
 * (Prometheus needs --web.enable-lifecycle for it; Alertmanager always has it).
 */
import { boundedFetch } from "./http";

export class LifecycleClient {
  constructor(readonly baseUrl: string) {}

  /** True once the server has loaded its configuration and serves requests. */
  async isReady(): Promise<boolean> {
    try {
      return (await boundedFetch(`${this.baseUrl}/-/ready`)).ok;
    } catch {
      return false;
    }
  }

  /** Re-reads the configuration (and, for Prometheus, the rule files); throws if the server rejects them. */
  async reload(): Promise<void> {
    const response = await boundedFetch(`${this.baseUrl}/-/reload`, { method: "POST" });
    if (!response.ok) {
      throw new Error(`reload of ${this.baseUrl} failed with ${response.status}: ${await response.text()}`);
    }
  }
}
