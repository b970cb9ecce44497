/**
 * `npm run bench`: what monitoring costs the service and how fast it tells someone, each figure a median over
 * interleaved rounds beside a baseline measured in the same invocation. Prints a table on stdout (progress on
 * stderr) and, with --json <file>, writes the same figures as JSON. Exits 1 if a part failed to run; goals
 * that are not met are reported, not failed: a benchmark measures, it does not assert.
 *
 *   npm run bench                              every part, about 40 minutes on 2 cores
 *   npm run bench -- --only footprint          what the stack costs its host, on Docker: about 10 minutes
 *   npm run bench -- --only noop-up            the program's part of a no-op `pulumi up`, under mocks: about 2 minutes
 *   npm run bench -- --only http,scrape        some parts
 *   npm run bench -- --skip alert --json out.json
 */

import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { benchCardinality } from "./cardinality";
import { type Figure, formatTable, type PartName, partNames } from "./figures";
import { benchFootprint } from "./footprint";
import { benchHttp } from "./http";
import { benchInstructions } from "./instructions";
import { machine } from "./machine";
import { benchNoopUp } from "./noop-up";
import { benchScale } from "./scale";
import { parseInstanceCounts } from "./scale-math";
import { benchScrape } from "./scrape";
import { benchTimeToAlert } from "./time-to-alert";

interface BenchOptions {
  readonly parts: readonly PartName[];
  readonly jsonFile: string | undefined;
  readonly rounds: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly connections: number;
  readonly instructionRounds: number;
  readonly instructionRequests: number;
  readonly instructionSegments: number;
  readonly renders: number;
  readonly attackRequests: number;
  readonly alertRounds: number;
  readonly footprintMinutes: number;
  readonly noopUpRounds: number;
  readonly scaleInstances: readonly number[];
  readonly scaleSettleSeconds: number;
  readonly scaleResults: string | undefined;
}

const defaults = {
  rounds: 10,
  durationSeconds: 3,
  warmupSeconds: 3,
  connections: 10,
  instructionRounds: 1,
  instructionRequests: 2000,
  instructionSegments: 4,
  renders: 50,
  attackRequests: 100_000,
  alertRounds: 3,
  footprintMinutes: 5,
  noopUpRounds: 5,
  scaleInstances: [1, 20, 100, 500],
  scaleSettleSeconds: 60,
} as const;

/** The attack is read after each of these batches, to show whether series or memory grow with the requests. */
const attackBatches = 4;
const attackConcurrency = 16;
/** Bounds each batch of the attack in time, whatever the machine's speed. */
const attackBatchDeadlineMs = 120_000;
/** The noop-up part starts no round after this long, however many were asked for. */
const noopUpBudgetMs = 600_000;

const usage = `usage: npm run bench -- [options]
  --only <parts>              run only these parts (comma-separated: ${partNames.join(", ")})
  --skip <parts>              run every part but these
  --json <file>               also write the figures as JSON to <file>
  --rounds <n>                interleaved rounds of the http and scrape parts (default ${defaults.rounds})
  --duration <seconds>        load on each server per http round, whole seconds (default ${defaults.durationSeconds})
  --warmup <seconds>          unmeasured load on each server before the first round, 0 for none (default ${defaults.warmupSeconds})
  --connections <n>           concurrent connections of the http load (default ${defaults.connections})
  --instruction-rounds <n>    rounds of the instructions part, one callgrind run per variant each (default ${defaults.instructionRounds})
  --instruction-requests <n>  requests per segment of an instructions run (default ${defaults.instructionRequests})
  --instruction-segments <n>  segments per instructions run; the last is measured, the others warm up (default ${defaults.instructionSegments})
  --renders <n>               /metrics renders and scrapes per scrape round (default ${defaults.renders})
  --attack-requests <n>       random requests of the cardinality attack (default ${defaults.attackRequests})
  --alert-rounds <n>          rounds of the time-to-alert part, each on a fresh stack (default ${defaults.alertRounds})
  --footprint-minutes <n>     quiet minutes the footprint part measures after the load test (default ${defaults.footprintMinutes})
  --noop-up-rounds <n>        interleaved rounds of the noop-up part, one run of each variant in each (default ${defaults.noopUpRounds})
  --scale-instances <counts>  monitored jobs the scale part adds to the stack, ascending, the first the
                              baseline of the others (default ${defaults.scaleInstances.join(",")})
  --scale-settle <seconds>    window the scale part reads each count over, from when every job has
                              request series on every replica (default ${defaults.scaleSettleSeconds})
  --scale-results <name>      file name of the scale part's results in bench/results/, as <name>.json and
                              <name>.svg (default scale-<start time>)
  --help                      print this`;

class UsageError extends Error {
  override readonly name = "UsageError";
}

function parseBenchArgs(args: readonly string[]): BenchOptions | "help" {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  if (values.help) return "help";
  if (values.only !== undefined && values.skip !== undefined)
    throw new UsageError("use --only or --skip, not both");
  const only = values.only === undefined ? undefined : partList("--only", values.only);
  const skip = values.skip === undefined ? [] : partList("--skip", values.skip);
  const parts = partNames.filter((part) => (only ? only.includes(part) : !skip.includes(part)));
  if (parts.length === 0) throw new UsageError("no part left to run");
  return {
    parts,
    jsonFile: values.json,
    rounds: integer("--rounds", values.rounds, defaults.rounds),
    durationSeconds: integer("--duration", values.duration, defaults.durationSeconds),
    warmupSeconds: integer("--warmup", values.warmup, defaults.warmupSeconds, 0),
    connections: integer("--connections", values.connections, defaults.connections),
    instructionRounds: integer(
      "--instruction-rounds",
      values["instruction-rounds"],
      defaults.instructionRounds,
    ),
    instructionRequests: integer(
      "--instruction-requests",
      values["instruction-requests"],
      defaults.instructionRequests,
    ),
    instructionSegments: integer(
      "--instruction-segments",
      values["instruction-segments"],
      defaults.instructionSegments,
    ),
    renders: integer("--renders", values.renders, defaults.renders),
    attackRequests: integer("--attack-requests", values["attack-requests"], defaults.attackRequests),
    alertRounds: integer("--alert-rounds", values["alert-rounds"], defaults.alertRounds),
    footprintMinutes: integer("--footprint-minutes", values["footprint-minutes"], defaults.footprintMinutes),
    noopUpRounds: integer("--noop-up-rounds", values["noop-up-rounds"], defaults.noopUpRounds),
    scaleInstances: instanceCounts("--scale-instances", values["scale-instances"], defaults.scaleInstances),
    scaleSettleSeconds: integer("--scale-settle", values["scale-settle"], defaults.scaleSettleSeconds),
    scaleResults: values["scale-results"],
  };
}

function parse(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    strict: true,
    allowPositionals: false,
    options: {
      only: { type: "string" },
      skip: { type: "string" },
      json: { type: "string" },
      rounds: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      connections: { type: "string" },
      "instruction-rounds": { type: "string" },
      "instruction-requests": { type: "string" },
      "instruction-segments": { type: "string" },
      renders: { type: "string" },
      "attack-requests": { type: "string" },
      "alert-rounds": { type: "string" },
      "footprint-minutes": { type: "string" },
      "noop-up-rounds": { type: "string" },
      "scale-instances": { type: "string" },
      "scale-settle": { type: "string" },
      "scale-results": { type: "string" },
      help: { type: "boolean" },
    },
  });
}

function partList(option: string, text: string): PartName[] {
  const names = text.split(",").map((name) => name.trim());
  const unknown = names.filter((name) => !partNames.some((part) => part === name));
  if (unknown.length > 0) {
    throw new UsageError(
      `${option}: unknown part ${unknown.join(", ")}; the parts are ${partNames.join(", ")}`,
    );
  }
  return partNames.filter((part) => names.includes(part));
}

function integer(option: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !(value >= min)) {
    throw new UsageError(`${option} must be a whole number of at least ${min}, got "${text}"`);
  }
  return value;
}

function instanceCounts(
  option: string,
  text: string | undefined,
  fallback: readonly number[],
): readonly number[] {
  if (text === undefined) return fallback;
  try {
    return parseInstanceCounts(text);
  } catch (error) {
    throw new UsageError(`${option} ${(error as Error).message}`);
  }
}

interface Failure {
  readonly part: PartName;
  readonly error: string;
}

interface BenchReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly command: string;
  readonly options: BenchOptions;
  readonly machine: ReturnType<typeof runMachine>;
  readonly loadAverageAtEnd: readonly number[];
  readonly figures: readonly Figure[];
  readonly failures: readonly Failure[];
}

function runMachine() {
  return {
    ...machine(),
    node: process.version,
    loadAverageAtStart: loadavg(),
  };
}

async function runBench(options: BenchOptions, log: (line: string) => void): Promise<BenchReport> {
  const startedAt = new Date();
  const host = runMachine();
  const figures: Figure[] = [];
  const failures: Failure[] = [];
  const runners: Record<PartName, () => Promise<Figure[]>> = {
    http: () =>
      benchHttp({
        rounds: options.rounds,
        durationSeconds: options.durationSeconds,
        warmupSeconds: options.warmupSeconds,
        connections: options.connections,
        log,
      }),
    instructions: () =>
      benchInstructions({
        rounds: options.instructionRounds,
        requests: options.instructionRequests,
        segments: options.instructionSegments,
        log,
      }),
    scrape: () => benchScrape({ rounds: options.rounds, renders: options.renders, log }),
    cardinality: () =>
      benchCardinality({
        requests: options.attackRequests,
        batches: Math.min(attackBatches, options.attackRequests),
        concurrency: attackConcurrency,
        batchDeadlineMs: attackBatchDeadlineMs,
        log,
      }),
    alert: () => benchTimeToAlert({ rounds: options.alertRounds, log }),
    footprint: () => benchFootprint({ steadyMinutes: options.footprintMinutes, log }),
    "noop-up": () => benchNoopUp({ rounds: options.noopUpRounds, budgetMs: noopUpBudgetMs, log }),
    scale: () =>
      benchScale({
        instances: options.scaleInstances,
        settleSeconds: options.scaleSettleSeconds,
        ...(options.scaleResults === undefined ? {} : { resultsName: options.scaleResults }),
        log,
      }),
  };
  for (const part of options.parts) {
    const partStarted = performance.now();
    try {
      figures.push(...(await runners[part]()));
      log(`${part}: done in ${((performance.now() - partStarted) / 1000).toFixed(0)} s`);
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      failures.push({ part, error: message });
      log(`${part}: FAILED: ${message}`);
    }
  }
  return {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: ["npm run bench --", ...process.argv.slice(2)].join(" "),
    options,
    machine: host,
    loadAverageAtEnd: loadavg(),
    figures,
    failures,
  };
}

function formatReport(report: BenchReport): string {
  const { machine: host } = report;
  const load = (values: readonly number[]) => values.map((value) => value.toFixed(2)).join(" ");
  return [
    `watchtower benchmarks, ${report.startedAt}`,
    `${host.cores} cores (${host.cpuModel}), ${host.memoryGiB} GiB, ${host.os}, Node.js ${host.node}`,
    `load average ${load(host.loadAverageAtStart)} at the start, ${load(report.loadAverageAtEnd)} at the end`,
    "",
    formatTable(report.figures),
    ...report.failures.map((failure) => `\n${failure.part}: FAILED: ${failure.error.split("\n")[0]}`),
  ].join("\n");
}

async function main(args: readonly string[]): Promise<number> {
  let options: BenchOptions | "help";
  try {
    options = parseBenchArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n\n${usage}`);
    return 2;
  }
  if (options === "help") {
    console.log(usage);
    return 0;
  }
  const report = await runBench(options, (line) => console.error(`[bench] ${line}`));
  console.log(formatReport(report));
  if (options.jsonFile !== undefined) writeFileSync(options.jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  return report.failures.length > 0 ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
