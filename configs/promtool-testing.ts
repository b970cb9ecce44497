/** Test support for the renderers' tests: rendered files on disk, and promtool run on them. */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { makeTempDir, type TempDir } from "../test-support/cleanup";
import type { Endpoints } from "./endpoints";
import { writeRenderedFiles } from "./layout";
import { renderAll } from "./render";
import type { Settings } from "./settings";

const run = promisify(execFile);

/** Endpoints of a stack on loopback, as the end-to-end tests pass them. */
export function loopbackEndpoints(replicas: number): Endpoints {
  const prometheus = Array.from({ length: replicas }, (_, i) => `127.0.0.1:${19090 + i}` as const);
  return {
    app: "127.0.0.1:15002",
    prometheus,
    alertmanager: "127.0.0.1:19093",
    inboxSmtp: "127.0.0.1:11025",
    links: {
      grafana: "http://127.0.0.1:13000",
      prometheus: prometheus.map((target) => `http://${target}`),
      alertmanager: "http://127.0.0.1:19093",
    },
  };
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
