/**
 * The one place that pins what the stack runs. Docker image tags and the tools that tests install with
 * `npm run tools` are both derived from here, so what is tested is what is deployed.
 */

/** A program that `npm run tools` builds from the Go module proxy into .tools/bin. */
export interface GoTool {
  /** The release, as the project tags it (without a leading "v"). */
  readonly version: string;
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
  /**
   * A module of ours (directory relative to the repository root) that requires `goModule` at `goVersion` as a
   * tool, for a module whose go.mod has directives (`exclude`, `replace`) that `go install module@version`
   * refuses: the binaries are built with `go build` from there instead.
   */
  readonly buildModule?: string;
  /**
   * The Go string variable that upstream's release build sets to the release with `-X`, and whether it writes
   * the release with a leading "v"; a plain Go build would leave it at a development default.
   */
  readonly versionVariable?: { readonly name: string; readonly withV: boolean };
  /** Go build tags, for a module that leaves optional parts out by tag. */
  readonly buildTags?: readonly string[];
}

/** A program that runs both as a Docker image in the stack and as a local binary in the tests. */
export interface PinnedTool extends GoTool {
  /** Docker image repository; the tag is derived from `version`. */
  readonly image: string;
  /** Image tag format: some projects prefix a "v", some do not. */
  readonly imageTag: string;
}

/**
 * The service discoveries compiled into the Prometheus and promtool that `npm run tools` builds, beyond
 * static, file and http, which every build has (`plugins/minimum.go` in the module). The stack's configs use
 * none of the others; a test holds every rendered prometheus.yml to this list.
 */
export const builtPrometheusDiscoveries: readonly string[] = [];

/**
 * Prometheus 3.x is published to the Go module proxy as v0.3xx.y: 3.16.0 is v0.316.0. `remove_all_sd` leaves
 * out every discovery plugin (AWS, Azure, GCE, Kubernetes, ...; `plugins/plugin_*.go`), most of a cold build,
 * and `enable_<name>_sd` puts back the ones named above.
 */
export const prometheus: PinnedTool = {
  version: "3.16.0",
  image: "prom/prometheus",
  imageTag: "v3.16.0",
  goModule: "github.com/prometheus/prometheus",
  goVersion: "v0.316.0",
  binaries: { prometheus: "cmd/prometheus", promtool: "cmd/promtool" },
  versionVariable: { name: "github.com/prometheus/common/version.Version", withV: false },
  buildTags: ["remove_all_sd", ...builtPrometheusDiscoveries.map((name) => `enable_${name}_sd`)],
};

export const alertmanager: PinnedTool = {
  version: "0.35.0",
  image: "prom/alertmanager",
  imageTag: "v0.35.0",
  goModule: "github.com/prometheus/alertmanager",
  goVersion: "v0.35.0",
  binaries: { alertmanager: "cmd/alertmanager", amtool: "cmd/amtool" },
  versionVariable: { name: "github.com/prometheus/common/version.Version", withV: false },
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

/**
 * The exporter of the stack's own host (host.enabled). Its module has no embedded web UI and no `replace`
 * directives, so a plain `go install` builds it; the release build stamps the version as Prometheus does.
 */
export const nodeExporter: PinnedTool = {
  version: "1.12.1",
  image: "prom/node-exporter",
  imageTag: "v1.12.1",
  goModule: "github.com/prometheus/node_exporter",
  goVersion: "v1.12.1",
  binaries: { node_exporter: "" },
  versionVariable: { name: "github.com/prometheus/common/version.Version", withV: false },
};

/**
 * The prober of `probes` (docs/probes.md): HTTP(S) and TCP checks from the stack. The proxy serves v0.27.0 but
 * not the module's version list, which `go install module@version` reads, so it is built from
 * `scripts/blackbox-build`; the release build stamps the version as Prometheus does.
 */
export const blackboxExporter: PinnedTool = {
  version: "0.27.0",
  image: "prom/blackbox-exporter",
  imageTag: "v0.27.0",
  goModule: "github.com/prometheus/blackbox_exporter",
  goVersion: "v0.27.0",
  binaries: { blackbox_exporter: "" },
  buildModule: "scripts/blackbox-build",
  versionVariable: { name: "github.com/prometheus/common/version.Version", withV: false },
};

/** The inbox the stack runs while no SMTP server is configured; its binary is what the Docker tests run. */
export const mailpit: PinnedTool = {
  version: "1.33.1",
  image: "axllent/mailpit",
  imageTag: "v1.33.1",
  goModule: "github.com/axllent/mailpit",
  goVersion: "v1.33.1",
  binaries: { mailpit: "" },
  versionVariable: { name: "github.com/axllent/mailpit/config.Version", withV: true },
};

/**
 * Docker Compose v2, for the tests that run the stack's Compose rendering on a real engine: a standalone
 * binary, also installed as a Docker CLI plugin (`npm run tools`).
 */
export const compose: GoTool = {
  version: "2.40.3",
  goModule: "github.com/docker/compose/v2",
  goVersion: "v2.40.3",
  binaries: { "docker-compose": "cmd" },
  buildModule: "scripts/compose-build",
  versionVariable: { name: "github.com/docker/compose/v2/internal.Version", withV: true },
};

/** Images that run only in the Docker stack. */
export const grafanaImage = "grafana/grafana:13.1.0";
export const mailpitImage = imageRef(mailpit);
/**
 * cAdvisor, the containers' exporter on the stack's host (host.containers). Only an image: its command module
 * is not served by the Go module proxy here, so the tests run a stand-in that serves its metrics' shape.
 */
export const cadvisorImage = "gcr.io/cadvisor/cadvisor:v0.52.1";
/** Base image of the service's Dockerfile, passed to it as the NODE_IMAGE build argument. */
export const nodeImage = "node:24.11.1-alpine";

export const pinnedTools: readonly PinnedTool[] = [
  prometheus,
  alertmanager,
  k6,
  mailpit,
  nodeExporter,
  blackboxExporter,
];

/** Everything `npm run tools` builds. */
export const goTools: readonly GoTool[] = [...pinnedTools, compose];

export function imageRef(tool: PinnedTool): string {
  return `${tool.image}:${tool.imageTag}`;
}
