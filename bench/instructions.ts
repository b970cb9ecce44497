/**
 * What instrumentation costs per request, counted in instructions rather than timed: time on a shared machine
 * varies with everything else running, while the user-space instructions of the same work do not. Node runs
 * under valgrind's callgrind with `--single-threaded --predictable` (no background compiler or GC threads,
 * no time-driven heuristics), so two identical runs execute the same number of instructions to within about
 * one in a million.
 *
 * Each run is bench/instruction-workload.ts, bundled once with esbuild (so that no TypeScript is compiled under
 * valgrind): the service, metrics off or as shipped, answering S segments of N sequential keep-alive
 * `GET /api/items` from a client in the same process. Callgrind writes its count at each segment boundary, so
 * one run gives I(k·N) − I((k−1)·N) for every k: the slope between two sequence lengths, with start-up left
 * out. The first segments still pay for the interpreter and for compiling the request path; the figure is the
 * last segment's, per request, and the log shows every segment's so that a warm-up too short is visible. The
 * client's instructions are in both variants alike, so the difference between them is the instrumentation's.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { makeTempDir } from "../test-support/cleanup";
import { runBoundedChild } from "./child-program";
import { atMost, type Figure, formatNumber, measured, paired } from "./figures";
import { checkpointFunction, type WorkloadVariant, workloadVariants } from "./instruction-workload";

export interface InstructionsBenchOptions {
  readonly rounds: number;
  /** N: requests per segment. */
  readonly requests: number;
  /** S: segments per run; the last one is measured, the others warm up. */
  readonly segments: number;
  readonly log: (line: string) => void;
}

/** The goal: instructions the instrumentation adds to a request (about 0.5 µs on the machine of docs/performance.md). */
const maxAddedInstructions = 4500;

/** Under callgrind, node's start-up takes a minute or two on a busy machine, and a request some milliseconds. */
const runTimeoutMs = (requests: number) => 600_000 + requests * 200;

const variantNames: Readonly<Record<WorkloadVariant, string>> = {
  "metrics-off": "service, metrics off",
  shipped: "service as shipped",
};

export async function benchInstructions(options: InstructionsBenchOptions): Promise<Figure[]> {
  const { log, requests, segments } = options;
  const valgrind = spawnSync("valgrind", ["--version"], { encoding: "utf8", timeout: 10_000 });
  if (valgrind.status !== 0) {
    throw new Error("the instructions part needs valgrind on PATH (apt-get install valgrind)");
  }
  const dir = makeTempDir("watchtower-instructions-");
  try {
    const workload = join(dir.path, "workload.js");
    await build({
      entryPoints: [resolve(__dirname, "instruction-workload.ts")],
      outfile: workload,
      bundle: true,
      platform: "node",
      format: "cjs",
      logLevel: "warning",
    });
    const perRequest = new Map<WorkloadVariant, number[]>(workloadVariants.map((variant) => [variant, []]));
    for (let round = 1; round <= options.rounds; round++) {
      log(
        `instructions: round ${round}/${options.rounds}, ${segments} × ${requests} requests per variant under ` +
          `${valgrind.stdout.trim()} callgrind, the variants side by side`,
      );
      // Side by side: each run is one single-threaded process, and its count does not depend on the others.
      const counts = await Promise.all(
        workloadVariants.map((variant) =>
          countSegments(workload, join(dir.path, `${variant}.${round}`), variant, options),
        ),
      );
      workloadVariants.forEach((variant, i) => {
        const bySegment = (counts[i] ?? []).map((count) => count / requests);
        perRequest.get(variant)?.push(bySegment.at(-1) as number);
        log(
          `instructions: round ${round} ${variant}, per request in each segment: ` +
            bySegment.map(formatNumber).join(", "),
        );
      });
    }
    return instructionFigures(perRequest, options);
  } finally {
    dir.remove();
  }
}

function instructionFigures(
  perRequest: ReadonlyMap<WorkloadVariant, readonly number[]>,
  options: InstructionsBenchOptions,
): Figure[] {
  const { requests, segments } = options;
  const of = (variant: WorkloadVariant) =>
    measured(
      `instructions per request, ${variantNames[variant]}`,
      "instructions",
      perRequest.get(variant) ?? [],
    );
  const off = of("metrics-off");
  const shipped = of("shipped");
  /** The baseline under its variant's short name, as the http part shows it. */
  const offBaseline = { ...off, name: variantNames["metrics-off"] };
  const added = measured(
    "instructions added per request by the instrumentation",
    "instructions",
    paired(shipped, off, (a, b) => a - b),
  );
  return [
    {
      part: "instructions",
      ...off,
      note:
        `(I(${segments * requests}) − I(${(segments - 1) * requests})) / ${requests} of sequential keep-alive ` +
        "GET /api/items, the client in the same process and counted in both variants",
    },
    { part: "instructions", ...shipped, baseline: offBaseline },
    {
      part: "instructions",
      ...added,
      baseline: offBaseline,
      goal: atMost(maxAddedInstructions, "instructions", added.median),
      note: "as shipped − metrics off, per round",
    },
    {
      part: "instructions",
      ...measured(
        "instructions ratio, shipped / metrics off",
        "",
        paired(shipped, off, (a, b) => a / b),
      ),
      baseline: offBaseline,
    },
  ];
}

/** Runs the workload once under callgrind; returns the instructions executed in each segment, in order. */
async function countSegments(
  workload: string,
  outFile: string,
  variant: WorkloadVariant,
  options: InstructionsBenchOptions,
): Promise<number[]> {
  const { requests, segments } = options;
  const args = [
    "--tool=callgrind",
    `--dump-before=${checkpointFunction}`,
    `--callgrind-out-file=${outFile}`,
    process.execPath,
    "--single-threaded",
    "--predictable",
    workload,
    variant,
    String(requests),
    String(segments),
  ];
  // As in the Docker image, which sets NODE_ENV=production.
  await runBoundedChild(`callgrind, ${variant}, ${segments} × ${requests} requests`, "valgrind", args, {
    timeoutMs: runTimeoutMs(segments * requests),
    env: { ...process.env, NODE_ENV: "production" },
  });
  // Dump 1 ends at the first checkpoint (start-up); dump k + 1 at the end of segment k.
  const dumps = Array.from({ length: segments + 1 }, (_, i) => `${outFile}.${i + 1}`);
  return dumps.slice(1).map((file) => dumpedInstructions(readFileSync(file, "utf8"), file));
}

/** The instructions a callgrind dump counted: its `summary:` line. */
export function dumpedInstructions(dump: string, file: string): number {
  const match = /^summary: (\d+)$/m.exec(dump);
  if (match?.[1] === undefined) throw new Error(`${file} has no "summary:" line: not a callgrind dump`);
  return Number(match[1]);
}
