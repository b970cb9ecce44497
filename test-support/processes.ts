/**
 * Real programs started by tests, through execa. Each runs in its own process group (so a kill reaches anything
 * it spawned), appends stdout and stderr to a log file (so a failure can show what the program said), and is
 * killed when the runner exits or is interrupted.
 */
import { appendFileSync, closeSync, openSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { type ExecaChildProcess, execa } from "execa";
import { onExitCleanup } from "./cleanup";

/** How long `stop()` lets a program shut down cleanly before it kills it. */
export const stopGraceMs = 5000;

export interface ProcessSpec {
  /** Short name used in messages and log headers, such as "prometheus-0". */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  /** Replaces the environment entirely when set; defaults to the runner's environment. */
  readonly env?: NodeJS.ProcessEnv;
  /** Appended to, so that a restarted program's output follows its previous run's. */
  readonly logFile: string;
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  /** Settles when the program has exited, however that happened. */
  readonly exited: Promise<ExitStatus>;
  private readonly pid: number;
  private exitStatus: ExitStatus | undefined;

  private constructor(spec: ProcessSpec) {
    this.name = spec.name;
    this.logFile = spec.logFile;
    appendFileSync(spec.logFile, `--- ${new Date().toISOString()} ${spec.command} ${spec.args.join(" ")}\n`);
    const log = openSync(spec.logFile, "a");
    let child: ExecaChildProcess;
    try {
      child = execa(spec.command, spec.args, {
        cwd: spec.cwd,
        env: spec.env,
        extendEnv: spec.env === undefined,
        detached: true,
        stdio: ["ignore", log, log],
        // A non-zero exit or a signal is a result for the test to judge, not an exception.
        reject: false,
      });
    } finally {
      closeSync(log);
    }
    this.exited = child.then((result) => {
      // execa 8 types the signal as a string; it is one of Node's signal names.
      const status = { code: result.exitCode ?? null, signal: (result.signal as NodeJS.Signals) ?? null };
      this.exitStatus = status;
      return status;
    });
    // After `exited` is set, so that a spawn failure (ENOENT, EACCES) settles it instead of escaping.
    if (child.pid === undefined) throw new Error(`${spec.name}: could not start ${spec.command}`);
    this.pid = child.pid;
    const unregister = onExitCleanup(() => this.signalGroup("SIGKILL"));
    void this.exited.then(unregister);
  }

  static start(spec: ProcessSpec): ManagedProcess {
    return new ManagedProcess(spec);
  }

  get running(): boolean {
    return this.exitStatus === undefined;
  }

  /** SIGKILL to the whole group: the abrupt death the fault scenarios need. */
  async kill(): Promise<ExitStatus> {
    this.signalGroup("SIGKILL");
    return this.exited;
  }

  /** SIGTERM, then SIGKILL if the program has not exited within `graceMs`. */
  async stop(graceMs = stopGraceMs): Promise<ExitStatus> {
    if (!this.running) return this.exited;
    this.signalGroup("SIGTERM");
    const status = await Promise.race([this.exited, sleep(graceMs).then(() => undefined)]);
    if (status) return status;
    return this.kill();
  }

  /** The last lines the program wrote, for failure messages. */
  tail(lines = 30): string {
    let text: string;
    try {
      text = readFileSync(this.logFile, "utf8");
    } catch (error) {
      return `(no log: ${error instanceof Error ? error.message : String(error)})`;
    }
    const all = text.trimEnd().split("\n");
    const state = this.exitStatus
      ? `exited with ${this.exitStatus.signal ?? `code ${this.exitStatus.code}`}`
      : `running as pid ${this.pid}`;
    return [`── ${this.name} (${state}), last ${Math.min(lines, all.length)} lines of ${this.logFile}`]
      .concat(all.slice(-lines).map((line) => `   ${line}`))
      .join("\n");
  }

  private signalGroup(signal: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(-this.pid, signal);
    } catch (error) {
      // ESRCH: the group is already gone, which is what we wanted.
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
    }
  }
}
