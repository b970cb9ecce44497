/**
 * `npm run loadtest -- --target <url>`: runs the stack's k6 load test from this machine with the pinned k6 in
 * .tools/bin, against any running service. The plan comes from the stack's settings, exactly as `pulumi up`
 * renders it; flags override the `loadtest.*` settings for this run only. k6's exit code is passed on, and a
 * failed threshold (99) is said plainly.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { k6TestIdTag } from "../configs/loadtest/k6-metrics";
import {
  k6RunCommand,
  k6ThresholdsFailedExitCode,
  type LoadtestPhase,
  loadtestPlan,
  loadtestScriptPath,
  renderLoadtestOptions,
} from "../configs/loadtest/plan";
import { type HostPort, hostPort } from "../configs/runtime/endpoints";
import { pinnedBuild, stampFile, toolsBinDir } from "../configs/runtime/tool-builds";
import { durationMs, formatDuration } from "../configs/settings/duration";
import { SettingsError } from "../configs/settings/load";
import type { Settings } from "../configs/settings/schema";
import { readStackConfig, StackFileError } from "../configs/settings/stack-file";
import { loadSettings } from "../configs/validate";

const repoRoot = resolve(__dirname, "..");

const usage = `Usage: npm run loadtest -- --target <url> [options]

Runs the k6 load test (warm-up, spike above HighRequestVolume, cool-down) against a running service.

  --target <url>             base URL of the service, such as http://127.0.0.1:5002 (required)
  --stack <name>             read the settings from Pulumi.<name>.yaml (default: dev)
  --duration <d>             total length; the three phases keep their proportions
  --warmup <d>               loadtest.warmupDuration
  --spike <d>                loadtest.spikeDuration
  --cooldown <d>             loadtest.cooldownDuration
  --warmup-fraction <x>      loadtest.warmupFraction (0 to 1, of the threshold rate)
  --spike-factor <x>         loadtest.spikeFactor (above 1, times the threshold rate)
  --max-vus <n>              loadtest.maxVUs
  --prometheus <host:port>   send k6's metrics to this Prometheus by remote write, such as 127.0.0.1:9090
  --help                     print this and exit

Durations are Prometheus durations: 30s, 2m, 1m30s.`;

class UsageError extends Error {}

const options = {
  target: { type: "string" },
  stack: { type: "string", default: "dev" },
  duration: { type: "string" },
  warmup: { type: "string" },
  spike: { type: "string" },
  cooldown: { type: "string" },
  "warmup-fraction": { type: "string" },
  "spike-factor": { type: "string" },
  "max-vus": { type: "string" },
  prometheus: { type: "string" },
  help: { type: "boolean", default: false },
} as const;

type Flags = ReturnType<typeof parseArgs<{ options: typeof options }>>["values"];

function parseTarget(text: string | undefined): URL {
  if (text === undefined) throw new UsageError("--target is required: the base URL of the service to load");
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--target: "${text}" is not a URL; use one such as http://127.0.0.1:5002`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--target: "${text}" is not an http or https URL`);
  }
  return url;
}

function parsePrometheus(text: string | undefined): HostPort | undefined {
  if (text === undefined) return undefined;
  const match = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(\d{1,5})$/.exec(text);
  if (!match?.[1] || !match[2]) {
    throw new UsageError(`--prometheus: "${text}" is not host:port, such as 127.0.0.1:9090`);
  }
  return hostPort(match[1], Number(match[2]));
}

/** A number when the text is one; otherwise the text, so validation names the setting and shows the value. */
function numberOrText(text: string): number | string {
  return text.trim() !== "" && Number.isFinite(Number(text)) ? Number(text) : text;
}

/** The stack's raw settings with this run's flags written over `loadtest.*`, before validation. */
function withFlags(raw: Record<string, unknown>, flags: Flags): Record<string, unknown> {
  const loadtest = typeof raw.loadtest === "object" && raw.loadtest !== null ? { ...raw.loadtest } : {};
  const overrides: [string, string | number | undefined][] = [
    ["warmupDuration", flags.warmup],
    ["spikeDuration", flags.spike],
    ["cooldownDuration", flags.cooldown],
    ["warmupFraction", flags["warmup-fraction"] && numberOrText(flags["warmup-fraction"])],
    ["spikeFactor", flags["spike-factor"] && numberOrText(flags["spike-factor"])],
    ["maxVUs", flags["max-vus"] && numberOrText(flags["max-vus"])],
  ];
  for (const [key, value] of overrides) {
    if (value !== undefined) Object.assign(loadtest, { [key]: value });
  }
  return { ...raw, loadtest };
}

/** The phases stretched or shrunk to `total`, keeping their proportions. */
function scaledToTotal(settings: Settings, total: string): Settings {
  let totalMs: number;
  try {
    totalMs = durationMs(total);
  } catch {
    throw new UsageError(`--duration: "${total}" is not a duration such as 45s or 2m`);
  }
  const plan = loadtestPlan(settings);
  const scale = (phase: LoadtestPhase) => Math.round((phase.durationMs * totalMs) / plan.totalMs);
  const warmupMs = scale(plan.phases.warmup);
  const spikeMs = scale(plan.phases.spike);
  const cooldownMs = totalMs - warmupMs - spikeMs;
  if ([warmupMs, spikeMs, cooldownMs].some((ms) => ms <= 0)) {
    throw new UsageError(`--duration: ${total} is too short to hold a warm-up, a spike and a cool-down`);
  }
  return {
    ...settings,
    loadtest: {
      ...settings.loadtest,
      warmupDuration: formatDuration(warmupMs),
      spikeDuration: formatDuration(spikeMs),
      cooldownDuration: formatDuration(cooldownMs),
    },
  };
}

function describePlan(settings: Settings, target: URL, stack: string): string {
  const plan = loadtestPlan(settings);
  const { maxRequests, window } = settings.alerts.highRequestVolume;
  const rate = (phase: LoadtestPhase) => `${phase.requestsPerSecond.toFixed(1)} req/s`;
  const lines = [
    `Load test of ${target.href} with the settings of stack ${stack}`,
    `  HighRequestVolume threshold: ${maxRequests} requests per ${window} (${plan.thresholdRequestsPerSecond.toFixed(1)} req/s)`,
    `  warm-up   ${formatDuration(plan.phases.warmup.durationMs)} at ${rate(plan.phases.warmup)}`,
    `  spike     ${formatDuration(plan.phases.spike.durationMs)} at ${rate(plan.phases.spike)}`,
    `  cool-down ${formatDuration(plan.phases.cooldown.durationMs)} at ${rate(plan.phases.cooldown)}`,
  ];
  if (plan.phases.spike.durationMs < plan.alertFiresWithinMs) {
    lines.push(
      `  note: the spike is shorter than the ${formatDuration(plan.alertFiresWithinMs)} HighRequestVolume may need to fire`,
    );
  }
  return lines.join("\n");
}

/** The k6 that `npm run tools` built at the pinned version: the load test's thresholds assume that release. */
function pinnedK6(): string {
  const stamp = stampFile("k6");
  const built = existsSync(stamp) ? readFileSync(stamp, "utf8").trim() : undefined;
  if (built !== pinnedBuild("k6"))
    throw new Error(`k6 ${pinnedBuild("k6")} is not installed: run \`npm run tools\` to build it`);
  return join(toolsBinDir, "k6");
}

/** Runs k6 and resolves with the exit code this script should end with. */
function runK6(k6: string, args: readonly string[], env: Readonly<Record<string, string>>): Promise<number> {
  const child = spawn(k6, args, { stdio: "inherit", env: { ...process.env, ...env } });
  // Ctrl-C reaches k6 directly (same process group) and it stops gracefully, printing its summary; a second
  // SIGINT forwarded from here would make it abort instead. Other termination signals are passed on.
  const ignore = () => {};
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on("SIGINT", ignore);
  process.on("SIGTERM", forward);
  process.on("SIGHUP", forward);
  return new Promise((resolvePromise, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      process.off("SIGINT", ignore);
      process.off("SIGTERM", forward);
      process.off("SIGHUP", forward);
      resolvePromise(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}

async function main(): Promise<number> {
  const { values: flags, positionals } = parseArgs({ options, allowPositionals: true });
  if (flags.help) {
    console.log(usage);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const target = parseTarget(flags.target);
  const remoteWrite = parsePrometheus(flags.prometheus);
  if (flags.duration !== undefined && (flags.warmup ?? flags.spike ?? flags.cooldown) !== undefined) {
    throw new UsageError(
      "--duration sets all three phases; give it alone or give --warmup, --spike and --cooldown",
    );
  }

  const { settings: stackSettings, warnings } = loadSettings(
    withFlags(readStackConfig(repoRoot, flags.stack), flags),
  );
  for (const warning of warnings) console.warn(`warning: ${warning}`);
  const settings =
    flags.duration === undefined ? stackSettings : scaledToTotal(stackSettings, flags.duration);

  const k6 = pinnedK6();

  const dir = mkdtempSync(join(tmpdir(), "watchtower-loadtest-"));
  try {
    const optionsPath = join(dir, "options.json");
    const port = Number(target.port || (target.protocol === "https:" ? 443 : 80));
    writeFileSync(optionsPath, renderLoadtestOptions(settings, { app: hostPort(target.hostname, port) }));
    const testId = `local-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    const command = k6RunCommand({
      scriptPath: join(repoRoot, loadtestScriptPath),
      optionsPath,
      target: target.href,
      remoteWrite,
      testId,
    });
    console.log(describePlan(settings, target, flags.stack));
    console.log(
      remoteWrite
        ? `  metrics: remote write to ${remoteWrite}, ${k6TestIdTag}="${testId}"\n`
        : "  metrics: k6's summary only (add --prometheus host:port to send them to Prometheus)\n",
    );
    const code = await runK6(k6, command.args, command.env);
    if (code === 0) console.log("\nLoad test passed: every k6 threshold held.");
    else if (code === k6ThresholdsFailedExitCode) {
      console.error(
        `\nLoad test FAILED: k6 thresholds were crossed (exit code ${code}); the THRESHOLDS section above shows which.`,
      );
    } else console.error(`\nLoad test did not complete: k6 exited with code ${code}.`);
    return code;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) console.error(`${error.message}\n\n${usage}`);
    else if (error instanceof SettingsError || error instanceof StackFileError) console.error(error.message);
    else if (error instanceof Error && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS_")) {
      console.error(`${error.message}\n\n${usage}`);
    } else console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 2;
  },
);
