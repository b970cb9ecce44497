/** Settings as the tests load them. */
import { SettingsError } from "../configs/settings/load";
import { loadSettings } from "../configs/validate";

/** The problems loadSettings reports for an input, each a line of its message; none when it accepts it. */
export function settingsProblems(input: object): string[] {
  try {
    loadSettings(input);
  } catch (error) {
    if (error instanceof SettingsError) return error.problems;
    throw error;
  }
  return [];
}

/**
 * Settings that change which of the stack's optional services run: no demo app (nor load test), a service of
 * the user's, a real SMTP server (no inbox), no cAdvisor, a probe (the blackbox exporter), one replica.
 */
export const otherServices = {
  app: { enabled: false },
  loadtest: { enabled: false },
  email: { smarthost: "smtp.example.com:587" },
  host: { containers: false },
  services: [{ job: "billing", image: "example/billing:1", port: 8080, healthcheck: ["true"] }],
  probes: [{ name: "site", http: { url: "https://example.com/" } }],
  prometheus: { replicas: 1 },
};
