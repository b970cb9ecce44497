/**
 * The settings the end-to-end suite runs with: the shipped alert logic and files, with intervals shortened so
 * that the whole suite takes minutes. Only values differ from the defaults, through the same settings a user
 * writes in `Pulumi.<stack>.yaml`; everything else is rendered exactly as for the Docker stack.
 */
import type { SettingsInput } from "../configs/settings/schema";

export const e2eSettings = {
  scrape: { interval: "1s", timeout: "1s", evaluationInterval: "1s" },
  alerts: {
    // The window is the shortest that validation allows (4 scrapes): the k6 run's length follows from it.
    highRequestVolume: { maxRequests: 60, window: "4s", for: "2s" },
    instanceDown: { for: "3s" },
    prometheusDown: { for: "3s" },
  },
  // One Alertmanager: the suites count e-mails of the pipeline, not the cluster's deduplication, which
  // e2e/alertmanager-cluster.test.ts (and the Docker suite, with the shipped two) prove on their own.
  alertmanager: { replicas: 1, groupWait: "1s", groupInterval: "2s" },
  loadtest: { warmupDuration: "2s" },
  // The host's alerts depend on this machine's disk and memory, which no scenario controls: off but in the
  // scenarios that are about the host (e2e/host.test.ts, the Docker stack's node target).
  host: { enabled: false },
} as const satisfies SettingsInput;
