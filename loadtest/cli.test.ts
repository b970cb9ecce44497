/** `npm run loadtest`, run as a user runs it, with the dev stack's settings shrunk by --duration. */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "chai";
import { k6ThresholdsFailedExitCode, loadtestPlan } from "../configs/loadtest/plan";
import { readStackConfig } from "../configs/settings/stack-file";
import { loadSettings } from "../configs/validate";
import { requireBinaries } from "../test-support/binaries";
import { makeTempDir, type TempDir } from "../test-support/cleanup";
import { freePort, loopback } from "../test-support/ports";
import { type ExitStatus, ManagedProcess } from "../test-support/processes";
import { startTestServer, type TestServer } from "../test-support/service";

const repoRoot = resolve(__dirname, "..");

interface CliRun {
  readonly exit: ExitStatus;
  readonly output: string;
  readonly process: ManagedProcess;
}

async function runCli(dir: string, name: string, args: readonly string[], budgetMs: number): Promise<CliRun> {
  const cli = ManagedProcess.start({
    name,
    command: join(repoRoot, "node_modules", ".bin", "tsx"),
    args: [join(repoRoot, "scripts", "loadtest.ts"), ...args],
    cwd: repoRoot,
    logFile: join(dir, `${name}.log`),
  });
  const exit = await Promise.race([cli.exited, sleep(budgetMs).then(() => undefined)]);
  if (exit === undefined) {
    await cli.kill();
    throw new Error(`npm run loadtest did not finish within ${budgetMs} ms\n${cli.tail()}`);
  }
  return { exit, output: readFileSync(cli.logFile, "utf8"), process: cli };
}

describe("npm run loadtest", function () {
  this.timeout(30_000);
  let dir: TempDir;

  before(function () {
    requireBinaries(this, "k6");
    dir = makeTempDir("watchtower-loadtest-cli-");
  });

  after(() => dir?.remove());

  describe("against the service", () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer();
    });
    after(async () => server?.close());

    it("runs the stack's plan in the given duration and reports success", async () => {
      const run = await runCli(dir.path, "cli-pass", ["--target", server.url, "--duration", "3s"], 25_000);
      expect(run.exit, run.process.tail()).to.deep.equal({ code: 0, signal: null });
      expect(run.output).to.contain("with the settings of stack dev");
      const { spike } = loadtestPlan(loadSettings(readStackConfig(repoRoot, "dev")).settings).phases;
      expect(run.output).to.match(new RegExp(`spike +\\S+ at ${spike.requestsPerSecond.toFixed(1)} req/s`));
      expect(run.output).to.contain("Load test passed");
    });
  });

  it("passes k6's exit code 99 on and says the thresholds were crossed", async () => {
    const target = `http://${loopback}:${await freePort()}`;
    const run = await runCli(dir.path, "cli-refused", ["--target", target, "--duration", "2s"], 25_000);
    expect(run.exit, run.process.tail()).to.deep.equal({ code: k6ThresholdsFailedExitCode, signal: null });
    expect(run.output).to.contain(
      `Load test FAILED: k6 thresholds were crossed (exit code ${k6ThresholdsFailedExitCode})`,
    );
  });

  it("names the setting a flag overrides when its value is not allowed, and runs nothing", async () => {
    const run = await runCli(
      dir.path,
      "cli-invalid",
      ["--target", "http://127.0.0.1:1", "--spike-factor", "0.5", "--warmup", "soon"],
      15_000,
    );
    expect(run.exit).to.deep.equal({ code: 2, signal: null });
    expect(run.output).to.contain("loadtest.spikeFactor");
    expect(run.output).to.contain("loadtest.warmupDuration");
    expect(run.output, "the plan is printed only once the settings are valid").not.to.contain("Load test of");
  });
});
