/** Test support for the renderers' tests: rendered files on disk, and promtool run on them. */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse, stringify } from "yaml";
import { renderAll } from "../configs/render";
import { dockerEndpoints, stackPrefix } from "../configs/runtime/docker-endpoints";
import type { Endpoints } from "../configs/runtime/endpoints";
import { writeRenderedFiles } from "../configs/runtime/layout";
import type { Settings } from "../configs/settings/schema";
import { makeTempDir, type TempDir } from "./cleanup";

const run = promisify(execFile);

/** Endpoints of a stack on loopback, as the end-to-end tests pass them. */
export function loopbackEndpoints(replicas: number): Endpoints {
  const prometheus = Array.from({ length: replicas }, (_, i) => `127.0.0.1:${19090 + i}` as const);
  return {
    app: "127.0.0.1:15002",
    prometheus,
    alertmanagers: ["127.0.0.1:19093", "127.0.0.1:19193"],
    alertmanagerCluster: ["127.0.0.1:19094", "127.0.0.1:19194"],
    nodeExporter: "127.0.0.1:19100",
    blackboxExporter: "127.0.0.1:19115",
    cadvisor: "127.0.0.1:18080",
    inboxSmtp: "127.0.0.1:11025",
    // Processes, not containers: ContainerMissing expects none.
    containers: [],
    links: {
      grafana: "http://127.0.0.1:13000",
      prometheus: prometheus.map((target) => `http://${target}`),
      alertmanagers: ["http://127.0.0.1:19093", "http://127.0.0.1:19193"],
    },
  };
}

/** The Docker stack's endpoints, as the renderers' tests pass them: of the stack "test" of this project. */
export function dockerTestEndpoints(settings: Settings): Endpoints {
  return dockerEndpoints(settings, stackPrefix("watchtower", "test"));
}

/** Every file of a render, written into a fresh temporary directory. */
export function renderToDisk(settings: Settings, endpoints: Endpoints): TempDir {
  const dir = makeTempDir("rendered-");
  writeRenderedFiles(dir.path, renderAll(settings, endpoints));
  return dir;
}

export interface ToolRun {
  readonly exitCode: number;
  readonly output: string;
}

/** Runs a tool to completion; a non-zero exit is a result, not an exception. */
export async function runTool(binary: string, args: readonly string[], cwd: string): Promise<ToolRun> {
  try {
    const { stdout, stderr } = await run(binary, [...args], { cwd, timeout: 60_000 });
    return { exitCode: 0, output: `${stdout}${stderr}` };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string; message: string };
    if (typeof failed.code !== "number") throw error;
    return { exitCode: failed.code, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

interface RuleFile {
  groups: { name: string; rules: { alert?: string; record?: string }[] }[];
}

/** The name promtool reports a rule by: its alert, or the series it records. */
const ruleName = (rule: { alert?: string; record?: string }) => rule.alert ?? rule.record;

/**
 * What Prometheus says of each rule of a rule file, by name: the error with which `promtool check rules`
 * refuses to load it, or, for a rule that loads, the error of evaluating it once (`promtool test rules`), as a
 * rule whose result is a range vector or a string fails only then. Rules with neither are absent from the map.
 */
export async function promtoolRuleErrors(promtool: string, rulesYaml: string): Promise<Map<string, string>> {
  const dir = makeTempDir("promtool-rules-");
  try {
    const file = parse(rulesYaml) as RuleFile;
    const names = file.groups.flatMap((group) => group.rules.flatMap((rule) => ruleName(rule) ?? []));
    const errors = new Map<string, string>();
    const linesAbout = (output: string, marker: (name: string) => string) =>
      new Map(
        names.flatMap((name) => {
          const lines = output.split("\n").filter((line) => line.includes(marker(name)));
          return lines.length > 0 ? [[name, lines.join("\n").trim()] as const] : [];
        }),
      );

    writeFileSync(join(dir.path, "rules.yml"), rulesYaml);
    const check = await runTool(promtool, ["check", "rules", "rules.yml"], dir.path);
    for (const [name, lines] of linesAbout(check.output, (rule) => `"${rule}"`)) errors.set(name, lines);
    if (check.exitCode !== 0 && errors.size === 0)
      throw new Error(`promtool check rules failed:\n${check.output}`);

    const loadable: RuleFile = {
      groups: file.groups.map((group) => ({
        ...group,
        rules: group.rules.filter((rule) => !errors.has(ruleName(rule) ?? "")),
      })),
    };
    writeFileSync(join(dir.path, "loadable.yml"), stringify(loadable));
    // One evaluation of every rule, at time 0; the alert it asks about exists nowhere, so only errors fail it.
    const evaluation = {
      rule_files: ["loadable.yml"],
      evaluation_interval: "1m",
      tests: [
        { interval: "1m", alert_rule_test: [{ eval_time: "0m", alertname: "NoSuchAlert", exp_alerts: [] }] },
      ],
    };
    writeFileSync(join(dir.path, "evaluation.yml"), stringify(evaluation));
    const test = await runTool(promtool, ["test", "rules", "evaluation.yml"], dir.path);
    const failed = linesAbout(test.output, (rule) => `rule: ${rule}, `);
    for (const [name, lines] of failed) errors.set(name, lines);
    if (test.exitCode !== 0 && failed.size === 0)
      throw new Error(`promtool test rules failed:\n${test.output}`);
    return errors;
  } finally {
    dir.remove();
  }
}
