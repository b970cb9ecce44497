/**
 * The stack as a user without Pulumi runs it, on the real Docker engine: settings written to a stack file,
 * `npm run render` into a folder, `docker compose up -d --wait` there. The images are the stand-ins built at
 * the pinned tags (test-support/standins), and the app's image is built from service/Dockerfile. Every command
 * is bounded in time; `down` removes the containers, volumes and network, also when a run is interrupted.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { machineComposeProject } from "../../configs/deployment/compose";
import { appImageTag, type DeploymentPlan } from "../../configs/deployment/plan";
import { stackPrefix } from "../../configs/runtime/docker-endpoints";
import { renderedPaths } from "../../configs/runtime/layout";
import type { SettingsInput } from "../../configs/settings/schema";
import { repositoryRoot } from "../../infra/repository";
import { stackInputs } from "../../infra/stack-inputs";
import { composeFile } from "../../scripts/render";
import { makeTempDir, onExitCleanup, type TempDir } from "../../test-support/cleanup";
import { type CommandResult, type DockerTools, runBounded } from "../../test-support/docker";

/** The Pulumi project name the render reads from the temporary project's Pulumi.yaml. */
const project = "watchtower";
/** A stack of its own, so the test's Docker objects never collide with a user's `dev` stack. */
export const testStack = "dockertest";
export const prefix = stackPrefix(project, testStack);

/** A service's container name, as the plan names it. */
export function containerName(service: string): string {
  return `${prefix}-${service}`;
}

/** `up --wait` waits this long for every healthcheck; Prometheus and Grafana each allow a 30-60 s start. */
export const upWaitSeconds = 240;
const commandTimeoutMs = 60_000;

export interface ComposeContainer {
  readonly service: string;
  readonly id: string;
  readonly state: string;
  readonly health: string;
  readonly exitCode: number;
}

export class ComposeStack {
  private readonly dir: TempDir;
  private readonly removeOnExit: () => void;
  readonly renderedDir: string;
  /** `<project>-<stack>`: the Compose project's name and the prefix of every Docker object it creates. */
  readonly prefix: string;

  /** `stack` names the Compose project; a caller other than the Docker tests picks its own, so neither removes the other's. */
  constructor(
    private readonly tools: DockerTools,
    readonly stack: string = testStack,
  ) {
    this.prefix = stackPrefix(project, stack);
    this.dir = makeTempDir("watchtower-compose-");
    this.renderedDir = join(this.dir.path, "rendered");
    writeFileSync(join(this.dir.path, "Pulumi.yaml"), `name: ${project}\nruntime: nodejs\n`);
    this.removeOnExit = onExitCleanup(() => this.downNow());
  }

  /** The project directory: Pulumi.yaml and the stack file, which settings' file paths are relative to. */
  get projectDir(): string {
    return this.dir.path;
  }

  /** Writes the settings as a stack file and renders them, exactly as `npm run render` does for a user. */
  render(settings: SettingsInput): void {
    const config = Object.entries(settings)
      .map(([key, value]) => `  ${project}:${key}: ${JSON.stringify(value)}`)
      .join("\n");
    writeFileSync(join(this.dir.path, `Pulumi.${this.stack}.yaml`), `config:\n${config}\n`);
    const rendered = runBounded(
      join(repositoryRoot, "node_modules", ".bin", "tsx"),
      [
        join(repositoryRoot, "scripts", "render.ts"),
        "--project",
        this.dir.path,
        "--stack",
        this.stack,
        "--out",
        this.renderedDir,
      ],
      { timeoutMs: commandTimeoutMs },
    );
    if (rendered.status !== 0)
      throw new Error(`npm run render failed:\n${rendered.stderr}${rendered.stdout}`);
  }

  /** The deployment plan `render` maps into compose.yaml for these settings: what each service is given. */
  plan(settings: SettingsInput): DeploymentPlan {
    return stackInputs(settings, project, this.stack).plan;
  }

  /** The app image's tag in the rendered compose.yaml: built beforehand, so `up` finds it and builds nothing. */
  get appImage(): string {
    return appImageTag(this.prefix, this.stack);
  }

  /** A compose command on the rendered folder; `env` adds variables, such as a secret's. */
  compose(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = commandTimeoutMs): CommandResult {
    return runBounded(
      this.tools.compose,
      ["--file", join(this.renderedDir, composeFile), "--project-directory", this.renderedDir, ...args],
      { env: { ...this.tools.env, ...env }, timeoutMs },
    );
  }

  /** `docker compose up -d --wait`: returns once every service is healthy (the load test: running). */
  up(): void {
    const result = this.compose(
      ["up", "-d", "--wait", "--wait-timeout", String(upWaitSeconds)],
      {},
      (upWaitSeconds + 60) * 1000,
    );
    if (result.status !== 0) {
      throw new Error(
        `docker compose up failed (${result.status}):\n${result.stderr.slice(-4000)}\n${this.ps()}`,
      );
    }
  }

  containers(): ComposeContainer[] {
    const listed = this.compose(["ps", "--all", "--format", "json"]);
    if (listed.status !== 0) throw new Error(`docker compose ps failed: ${listed.stderr}`);
    return listed.stdout
      .split("\n")
      .filter((line) => line.trim() !== "")
      .flatMap((line) => {
        const parsed = JSON.parse(line) as unknown;
        return (Array.isArray(parsed) ? parsed : [parsed]) as Record<string, unknown>[];
      })
      .map((entry) => ({
        service: String(entry.Service),
        id: String(entry.ID),
        state: String(entry.State),
        health: String(entry.Health ?? ""),
        exitCode: Number(entry.ExitCode ?? 0),
      }));
  }

  docker(args: readonly string[], timeoutMs = commandTimeoutMs): CommandResult {
    return runBounded(this.tools.docker, args, { env: this.tools.env, timeoutMs });
  }

  /** `docker stop`/`start`/`restart` of one service's container, by its planned name. */
  containerCommand(command: "stop" | "start" | "restart", service: string): void {
    const result = this.docker([command, `${this.prefix}-${service}`]);
    if (result.status !== 0) throw new Error(`docker ${command} ${service} failed: ${result.stderr}`);
  }

  /** Logs of every service, last lines first in each, for a failure message. */
  logs(lines = 30): string {
    return this.compose(["logs", "--no-color", "--tail", String(lines)]).stdout;
  }

  ps(): string {
    return this.compose(["ps", "--all"]).stdout;
  }

  /** Docker objects whose name starts with the stack's prefix, by kind. */
  leftovers(): Record<"containers" | "volumes" | "networks", string[]> {
    const names = (args: string[]) =>
      this.docker(args)
        .stdout.split("\n")
        .map((line) => line.trim())
        .filter((name) => name.startsWith(this.prefix));
    return {
      containers: names(["ps", "--all", "--format", "{{.Names}}"]),
      volumes: names(["volume", "ls", "--format", "{{.Name}}"]),
      networks: names(["network", "ls", "--format", "{{.Name}}"]),
    };
  }

  /**
   * `docker compose up -d --wait` of the exporters' Compose file of a machine of `hosts[].docker`, on this
   * engine as if it were that machine's, from the folder render wrote for it.
   */
  upMachine(machine: string): void {
    const folder = join(this.renderedDir, renderedPaths.machineExporters(machine).dir);
    const result = runBounded(
      this.tools.compose,
      ["--file", join(folder, "compose.yaml"), "--project-directory", folder, "up", "-d", "--wait"],
      { env: this.tools.env, timeoutMs: commandTimeoutMs },
    );
    if (result.status !== 0)
      throw new Error(`docker compose up of ${machine}'s exporters failed:\n${result.stderr}`);
  }

  /** `docker compose down -v`: the stack's containers, volumes and network go, and any machine's exporters. */
  down(): CommandResult {
    const machines = runBounded(
      this.tools.compose,
      ["--project-name", machineComposeProject(this.prefix), "down", "--remove-orphans", "--timeout", "10"],
      { env: this.tools.env, timeoutMs: 120_000 },
    );
    if (machines.status !== 0) return machines;
    return this.compose(["down", "--volumes", "--remove-orphans", "--timeout", "10"], {}, 120_000);
  }

  private downNow(): void {
    this.down();
  }

  /** Takes the stack down and removes the rendered folder; safe to call more than once. */
  dispose(): void {
    this.down();
    this.removeOnExit();
    this.dir.remove();
  }
}
