/**
 * Before the first resource: does Docker answer, and is its API new enough? Without this a user with Docker
 * stopped, or an engine older than 20.10, sees the provider's error on the first container, after the network
 * and images were created. `npm run up` runs it too (`tsx infra/docker-preflight.ts`), before Pulumi starts.
 */
import { execFileSync } from "node:child_process";
import * as http from "node:http";

/** Docker Engine 20.10 speaks API 1.41; every container field the plan uses exists there. */
export const minimumApiVersion = "1.41";
const minimumEngine = "Docker Engine 20.10";
const answerWithinMs = 5000;

/** Where the Docker API was looked for, and how that was decided, for the error message. */
export interface DockerEndpoint {
  readonly host: string;
  readonly chosenBy: string;
}

/** How the provider finds Docker: `docker:host`, then DOCKER_HOST, then the CLI's current context, then the socket. */
export function dockerEndpoint(
  configuredHost: string | undefined,
  env: NodeJS.ProcessEnv,
  contextHost: () => string | undefined = currentContextHost,
): DockerEndpoint {
  if (configuredHost) return { host: configuredHost, chosenBy: "the stack's docker:host setting" };
  if (env.DOCKER_HOST) return { host: env.DOCKER_HOST, chosenBy: "DOCKER_HOST" };
  const fromContext = contextHost();
  if (fromContext) return { host: fromContext, chosenBy: "the docker CLI's current context" };
  return { host: "unix:///var/run/docker.sock", chosenBy: "the default socket" };
}

/** The endpoint of the docker CLI's current context, when the CLI is installed and names one. */
function currentContextHost(): string | undefined {
  try {
    const host = execFileSync("docker", ["context", "inspect", "--format", "{{.Endpoints.docker.Host}}"], {
      encoding: "utf8",
      timeout: answerWithinMs,
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    return host || undefined;
  } catch {
    return undefined;
  }
}

/** Whether API version `found` (`major.minor`) is at least `needed`. */
export function apiVersionAtLeast(found: string, needed: string): boolean {
  const [foundMajor = 0, foundMinor = 0] = found.split(".").map(Number);
  const [neededMajor = 0, neededMinor = 0] = needed.split(".").map(Number);
  return foundMajor !== neededMajor ? foundMajor > neededMajor : foundMinor >= neededMinor;
}

/** What the engine's `GET /version` answers, in the fields read here. */
interface EngineVersion {
  readonly ApiVersion?: string;
  readonly Version?: string;
  /** Go's GOOS of the engine: `linux`. */
  readonly Os?: string;
  /** Go's GOARCH of the engine: `amd64`, `arm64`... */
  readonly Arch?: string;
}

/**
 * Architecture names as `uname -m` and some engines give them, by the GOARCH name that OCI platforms use
 * (the OCI image index spec takes `architecture` and `os` from Go's GOARCH and GOOS).
 */
const unameArchitectures: Readonly<Record<string, string>> = { x86_64: "amd64", aarch64: "arm64" };

/**
 * The platform an image must be built for to run natively on an engine of this OS and architecture, in the form
 * `docker build --platform` takes (`linux/amd64`, `linux/arm64`): Go's names, which OCI platforms share.
 * Undefined when the engine named neither.
 */
export function enginePlatform(os: string | undefined, arch: string | undefined): string | undefined {
  if (!os || !arch) return undefined;
  return `${os.toLowerCase()}/${unameArchitectures[arch] ?? arch.toLowerCase()}`;
}

/** `GET /version` of the Docker API over a unix socket or plain TCP. */
function requestVersion(host: string): Promise<EngineVersion> {
  const url = new URL(host);
  const target: http.RequestOptions =
    url.protocol === "unix:"
      ? { socketPath: url.pathname, path: "/version" }
      : { host: url.hostname, port: Number(url.port || 2375), path: "/version" };
  return new Promise((resolve, reject) => {
    const request = http.get({ ...target, timeout: answerWithinMs }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        body += chunk;
      });
      response.on("end", () => {
        try {
          resolve(JSON.parse(body) as EngineVersion);
        } catch {
          reject(new Error(`answered HTTP ${response.statusCode} without a version`));
        }
      });
    });
    request.on("timeout", () => request.destroy(new Error(`no answer within ${answerWithinMs / 1000} s`)));
    request.on("error", reject);
  });
}

/** Thrown with the one line a user needs: what was tried, what was found, what to do. */
export class DockerPreflightError extends Error {}

/**
 * Resolves when Docker answers at `endpoint` with API `minimumApiVersion` or newer, with the engine's platform
 * (see `enginePlatform`). Endpoints this check cannot speak to (ssh://, TLS) are left to the provider.
 */
export async function checkDocker(
  endpoint: DockerEndpoint,
): Promise<{ apiVersion: string; platform?: string } | { skipped: string }> {
  const { protocol } = new URL(endpoint.host);
  if (protocol !== "unix:" && protocol !== "tcp:") {
    return { skipped: `${endpoint.host} (${protocol}) is not checked before the provider connects` };
  }
  let version: EngineVersion;
  try {
    version = await requestVersion(endpoint.host);
  } catch (error) {
    throw new DockerPreflightError(
      `Docker does not answer at ${endpoint.host} (from ${endpoint.chosenBy}): ${(error as Error).message}. ` +
        "Start Docker, or point DOCKER_HOST (or `pulumi config set docker:host`) at its socket: rootless Docker, " +
        "Colima and Docker Desktop each keep it elsewhere (see docs/operations.md, Troubleshooting).",
    );
  }
  const apiVersion = version.ApiVersion ?? "unknown";
  if (!apiVersionAtLeast(apiVersion, minimumApiVersion)) {
    throw new DockerPreflightError(
      `Docker at ${endpoint.host} speaks API ${apiVersion} (Engine ${version.Version ?? "unknown"}); the stack needs ` +
        `API ${minimumApiVersion} or newer (${minimumEngine} or later). Upgrade Docker and run again.`,
    );
  }
  const platform = enginePlatform(version.Os, version.Arch);
  return platform === undefined ? { apiVersion } : { apiVersion, platform };
}

if (require.main === module) {
  checkDocker(dockerEndpoint(process.env.WATCHTOWER_DOCKER_HOST, process.env)).then(
    (result) => {
      if ("skipped" in result) console.log(`Docker preflight: ${result.skipped}`);
      else
        console.log(
          `Docker preflight: API ${result.apiVersion} on ${result.platform ?? "an unnamed platform"}, supported.`,
        );
    },
    (error: unknown) => {
      console.error(error instanceof DockerPreflightError ? error.message : String(error));
      process.exitCode = 1;
    },
  );
}
