/**
 * The one place that pins what the stack runs. Docker image tags and the tools that tests install with
 * `npm run tools` are both derived from here, so what is tested is what is deployed.
 */

/** A program that runs both as a Docker image in the stack and as a local binary in the tests. */
export interface PinnedTool {
  /** The release, as the project tags it (without a leading "v"). */
  readonly version: string;
  /** Docker image repository; the tag is derived from `version`. */
  readonly image: string;
  /** Image tag format: some projects prefix a "v", some do not. */
  readonly imageTag: string;
  /** Go module that `go install` builds the binaries from, and the module version matching `version`. */
  readonly goModule: string;
  readonly goVersion: string;
  /** Package paths (relative to `goModule`) of the binaries, keyed by binary name. */
  readonly binaries: Readonly<Record<string, string>>;
  /**
   * Directories (relative to the module root) that upstream fills with built web UI assets before compiling.
   * The module zip lacks them and `//go:embed` refuses an empty pattern, so the tools build from a copy of the
   * module source with a placeholder page there: the API works, the web UI is only in the Docker image.
   */
  readonly webAssetDirs?: readonly string[];
}

/** Prometheus 3.x is published to the Go module proxy as v0.3xx.y: 3.16.0 is v0.316.0. */
export const prometheus: PinnedTool = {
  version: "3.16.0",
  image: "prom/prometheus",
  imageTag: "v3.16.0",
  goModule: "github.com/prometheus/prometheus",
  goVersion: "v0.316.0",
  binaries: { prometheus: "cmd/prometheus", promtool: "cmd/promtool" },
};

export const alertmanager: PinnedTool = {
  version: "0.35.0",
  image: "prom/alertmanager",
  imageTag: "v0.35.0",
  goModule: "github.com/prometheus/alertmanager",
  goVersion: "v0.35.0",
  binaries: { alertmanager: "cmd/alertmanager", amtool: "cmd/amtool" },
  webAssetDirs: ["ui/app/dist/elm", "ui/app/dist/mantine"],
};

export const k6: PinnedTool = {
  version: "1.8.1",
  image: "grafana/k6",
  imageTag: "1.8.1",
  goModule: "go.k6.io/k6",
  goVersion: "v1.8.1",
  binaries: { k6: "" },
};

/** Images that run only in the Docker stack. */
export const grafanaImage = "grafana/grafana:13.1.0";
export const mailpitImage = "axllent/mailpit:v1.33.1";
/** Base image of the service's Dockerfile, passed to it as the NODE_IMAGE build argument. */
export const nodeImage = "node:24.11.1-alpine";

export const pinnedTools: readonly PinnedTool[] = [prometheus, alertmanager, k6];

export function imageRef(tool: PinnedTool): string {
  return `${tool.image}:${tool.imageTag}`;
}
