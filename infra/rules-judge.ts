/**
 * Prometheus itself judges the rendered rules before anything is created: `promtool check rules` of the
 * pinned version. The Prometheus UI's linter (configs/promql/lint.ts) catches the usual mistakes in custom alerts
 * with their key path while settings load; a few only the server refuses (experimental functions, misplaced
 * `offset`/`@`/`smoothed`, a range on a non-selector, `sum(a, b)`, an empty-matching selector). Without this a
 * custom alert with one of those would pass validation and stop the Prometheus replicas from starting, after
 * the rest of the stack was created.
 */
import { execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { join } from "node:path";
import { imageRef, prometheus } from "../configs/runtime/versions";
import { SettingsError } from "../configs/settings/error";
import type { Settings } from "../configs/settings/schema";
import { repositoryRoot } from "./repository";

/** `[command, ...arguments]` before `check rules`. */
export type PromtoolCommand = readonly [string, ...string[]];

/** Pulling the pinned image on a first run can take a while; checking is instant. */
const judgeWithinMs = 180_000;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The pinned promtool: the one `npm run tools` built, or the one in the stack's own Prometheus image through the
 * docker CLI (the image the stack runs anyway); undefined when neither is there.
 */
export function findPromtool(): PromtoolCommand | undefined {
  const built = join(repositoryRoot, ".tools", "bin", "promtool");
  if (executable(built)) return [built];
  try {
    execFileSync("docker", ["version", "--format", "{{.Client.Version}}"], {
      stdio: "ignore",
      timeout: 10_000,
    });
  } catch {
    return undefined;
  }
  return [
    "docker",
    "run",
    "--rm",
    "-i",
    "--network",
    "none",
    "--entrypoint",
    "/bin/promtool",
    imageRef(prometheus),
  ];
}

/**
 * What promtool refuses in the rendered rules, each refusal at the key path of the custom alert it concerns.
 * A refused built-in rule is a bug of this project, and is said to be one.
 */
export function promtoolProblems(promtool: PromtoolCommand, settings: Settings, rulesYaml: string): string[] {
  const [command, ...args] = promtool;
  let output: string;
  try {
    execFileSync(command, [...args, "check", "rules"], {
      input: rulesYaml,
      encoding: "utf8",
      stdio: "pipe",
      timeout: judgeWithinMs,
    });
    return [];
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message?: string };
    output = `${failed.stdout ?? ""}${failed.stderr ?? ""}`.trim() || (failed.message ?? "");
  }
  const refusals = output.split("\n").filter((line) => /could not parse expression|error/i.test(line));
  const problems = settings.alerts.custom.flatMap((alert, index) => {
    const about = refusals.filter((line) => line.includes(`"${alert.name}"`));
    if (about.length === 0) return [];
    const reasons = about.map((line) => line.replace(/^.*?could not parse expression: /, "").trim());
    return [
      `alerts.custom[${index}].expr: Prometheus refuses ${JSON.stringify(alert.expr)}: ${reasons.join("; ")}`,
    ];
  });
  if (problems.length > 0) return problems;
  return [
    `promtool check rules refused the rendered rules (a bug of watchtower, please report it):\n${output}`,
  ];
}

/**
 * Custom alerts judged by the pinned promtool (built-in rules are checked by the tests). Throws SettingsError,
 * naming each refused alert's key; returns a warning when there is no promtool to ask.
 */
export function judgeCustomRules(settings: Settings, rulesYaml: string): string | undefined {
  if (settings.alerts.custom.length === 0) return undefined;
  const promtool = findPromtool();
  if (promtool === undefined) {
    return "custom alerts not checked by promtool (no .tools/bin/promtool from `npm run tools`, no docker CLI): Prometheus judges them when it starts";
  }
  const problems = promtoolProblems(promtool, settings, rulesYaml);
  if (problems.length > 0) throw new SettingsError(problems);
  return undefined;
}
