/**
 * The benchmarks' load generators run as child programs, so that no load is ever generated from the event loop
 * (or the CPU time) of the process being measured. A child program takes one JSON argument, does its work and
 * prints one JSON line with its result; the parent bounds it in time and kills it if it overruns.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { onExitCleanup } from "../test-support/cleanup";

const repoRoot = resolve(__dirname, "..");
const outputLimit = 20_000;

/** What a finished child printed: the tails of its standard output and error. */
export interface ChildOutput {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command to its end, killed (and the run failed, naming `what`) if it overruns `timeoutMs` or exits
 * non-zero; also killed if the bench itself is interrupted.
 */
export function runBoundedChild(
  what: string,
  command: string,
  args: readonly string[],
  options: { readonly timeoutMs: number; readonly env?: NodeJS.ProcessEnv },
): Promise<ChildOutput> {
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const unregister = onExitCleanup(() => child.kill("SIGKILL"));
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout = (stdout + chunk.toString("utf8")).slice(-outputLimit);
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-outputLimit);
  });
  return new Promise((done, fail) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      unregister();
      fail(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      unregister();
      if (timedOut)
        return fail(new Error(`${what} did not finish within ${options.timeoutMs} ms; stderr:\n${stderr}`));
      if (code !== 0)
        return fail(new Error(`${what} exited with ${signal ?? `code ${code}`}; stderr:\n${stderr}`));
      done({ stdout, stderr });
    });
  });
}

/** Runs `node --import tsx <script> <JSON input>` and returns the last line it printed, parsed. */
export async function runChildProgram(script: string, input: unknown, timeoutMs: number): Promise<unknown> {
  const name = script.slice(repoRoot.length + 1);
  const { stdout, stderr } = await runBoundedChild(
    name,
    process.execPath,
    ["--import", "tsx", script, JSON.stringify(input)],
    { timeoutMs },
  );
  const last = stdout.trimEnd().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(last);
  } catch {
    throw new Error(`${name} printed no JSON result; its output:\n${stdout}\n${stderr}`);
  }
}

/** The JSON argument of a child program, for its `main`. */
export function childInput(argv: readonly string[]): unknown {
  const [text, ...rest] = argv;
  if (text === undefined || rest.length > 0) throw new Error("expected exactly one JSON argument");
  return JSON.parse(text);
}
