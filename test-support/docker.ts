/**
 * What the Docker tests need, and a check that it is all there: an engine that answers, the pinned Docker
 * Compose (`npm run tools`), a stand-in image at every tag the stack pins (`npm run standins`: this machine
 * cannot pull) and the block on the containers' egress (`scripts/docker-engine.sh start`). A missing piece
 * skips the suite with the command that provides it; under CI=true it fails the suite instead.
 */
import { execFile, spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { appBuildArgs, appDockerfile } from "../configs/deployment/plan";
import { dockerConfigDir } from "../configs/runtime/tool-builds";
import {
  alertmanager,
  blackboxExporter,
  cadvisorImage,
  grafanaImage,
  imageRef,
  k6,
  mailpitImage,
  nodeExporter,
  nodeImage,
  prometheus,
} from "../configs/runtime/versions";
import { dockerEndpoint } from "../infra/docker-preflight";
import { findBinary } from "./binaries";

const repoRoot = resolve(__dirname, "..");
const engineScript = resolve(repoRoot, "scripts", "docker-engine.sh");
const isCI = process.env.CI === "true";

/**
 * The images `npm run standins` builds, keyed by their directory under test-support/standins, each tagged
 * exactly as the stack names the official image.
 */
export const standinImages = {
  prometheus: imageRef(prometheus),
  alertmanager: imageRef(alertmanager),
  k6: imageRef(k6),
  mailpit: mailpitImage,
  "node-exporter": imageRef(nodeExporter),
  "blackbox-exporter": imageRef(blackboxExporter),
  cadvisor: cadvisorImage,
  grafana: grafanaImage,
  node: nodeImage,
} as const;

/** The busybox base of the stand-ins (test-support/standins/base): a local name, no image is pinned as it. */
export const standinBaseImage = "watchtower-standin-base:busybox";

/** Label on every stand-in image: the digest of its build inputs, so an unchanged stand-in is not rebuilt. */
export const standinLabel = "watchtower.standin.inputs";

/** A quick command (version, inspect, rm) may take this long on a busy two-core machine. */
export const dockerCommandTimeoutMs = 30_000;
/** `docker build` of the service image: `npm ci` from the registry, then the bundle. */
const appBuildTimeoutMs = 10 * 60_000;

export interface CommandResult {
  /** Exit code; null when the command was killed (timeout) or could not start. */
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion within `timeoutMs`; never throws, so callers decide what a failure means. */
export function runBounded(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {},
): CommandResult {
  const result = spawnSync(command, args, {
    env: options.env ?? process.env,
    input: options.input,
    encoding: "utf8",
    timeout: options.timeoutMs ?? dockerCommandTimeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  const killed = result.error ? `${command}: ${result.error.message}\n` : "";
  return { status: result.status, stdout: result.stdout ?? "", stderr: `${killed}${result.stderr ?? ""}` };
}

export interface DockerTools {
  /** The Docker CLI. */
  readonly docker: string;
  /** The pinned Compose, standalone; `docker compose` runs the same binary as a CLI plugin with `env`. */
  readonly compose: string;
  /**
   * The environment to run both with: DOCKER_CONFIG names .tools/docker, where the CLI finds the Compose
   * plugin, and DOCKER_HOST keeps the engine the caller's own Docker configuration pointed at.
   */
  readonly env: NodeJS.ProcessEnv;
}

function dockerCli(): string | undefined {
  const found = runBounded("sh", ["-c", "command -v docker"]);
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/** True when scripts/docker-engine.sh's egress rule is in place (checked with `iptables -C`). */
export function egressBlocked(): boolean {
  return runBounded("bash", [engineScript, "check"]).status === 0;
}

function missingStandins(docker: string, env: NodeJS.ProcessEnv): string[] {
  const tags = Object.values(standinImages);
  const inspected = runBounded(docker, ["image", "inspect", "--format", "{{index .RepoTags}}", ...tags], {
    env,
  });
  return tags.filter((tag) => !inspected.stdout.includes(tag));
}

/** Everything the Docker tests need, for a `before` hook: skips the suite (under CI=true, fails it) if not. */
export function requireDocker(ctx: Mocha.Context): DockerTools {
  const problems: string[] = [];
  const docker = dockerCli();
  const compose = findBinary("docker-compose");
  if (compose === undefined) problems.push("the pinned Docker Compose is missing: run `npm run tools`");
  let env: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: dockerConfigDir };
  if (docker === undefined) {
    problems.push("no docker CLI on PATH: run `sudo bash scripts/docker-engine.sh start`");
  } else {
    // The engine the caller's own Docker configuration points at, which a fresh DOCKER_CONFIG would lose; found
    // as the Pulumi program's preflight finds it.
    env = { ...env, DOCKER_HOST: dockerEndpoint(undefined, process.env).host };
    const engine = runBounded(docker, ["version", "--format", "{{.Server.Version}}"], { env });
    if (engine.status !== 0) {
      problems.push(
        `the Docker engine does not answer (${engine.stderr.trim().split("\n")[0]}): run \`sudo bash scripts/docker-engine.sh start\``,
      );
    } else {
      const missing = missingStandins(docker, env);
      if (missing.length > 0) problems.push(`no image at ${missing.join(", ")}: run \`npm run standins\``);
      if (!egressBlocked()) {
        problems.push(
          "containers' egress is not blocked (no DOCKER-USER rule of scripts/docker-engine.sh, or no root to " +
            "check it): run `sudo bash scripts/docker-engine.sh start`",
        );
      }
    }
  }
  if (problems.length > 0) {
    const message = problems.join("; ");
    if (isCI) throw new Error(`CI=true requires Docker: ${message}`);
    console.warn(`      skipped: ${message}`);
    ctx.skip();
  }
  return { docker: docker ?? "docker", compose: compose ?? "docker-compose", env };
}

/**
 * Builds the service's image from service/Dockerfile with the build arguments the deployment plan gives it (the
 * pinned Node.js base, the app's port). `--network host`: `npm ci` must reach the registry, and host networking
 * does not pass the FORWARD chain that the egress block is in.
 */
export async function buildAppImage(tag: string): Promise<void> {
  const args = [
    "build",
    "--network",
    "host",
    "-f",
    resolve(repoRoot, appDockerfile),
    ...Object.entries(appBuildArgs).flatMap(([name, value]) => ["--build-arg", `${name}=${value}`]),
    "-t",
    tag,
    repoRoot,
  ];
  try {
    await promisify(execFile)(dockerCli() ?? "docker", args, {
      timeout: appBuildTimeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    const tail = `${stdout}\n${stderr}`.trim().split("\n").slice(-30).join("\n");
    throw new Error(`docker ${args.join(" ")} failed (${(error as Error).message.split("\n")[0]}):\n${tail}`);
  }
}
