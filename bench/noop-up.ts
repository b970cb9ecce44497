/**
 * A no-op `pulumi up`, the program's part of it: where the time goes between the language host starting Node.js
 * and the last resource registered. Each run is test-support/load-as-pulumi.cjs, which loads and runs the
 * program as Pulumi's Node.js language host does (@pulumi/pulumi's own cmd/run: ts-node registered with the
 * project's tsconfig.json, type-checked unless PULUMI_NODEJS_TRANSPILE_ONLY says otherwise), under mocks and
 * against a stand-in Docker API; ./noop-up-probe.cjs marks its phases. A real `up` runs the program twice
 * (preview, then update) and adds what no mock has: the CLI, the provider plugins' Check and Diff, and the
 * Docker provider hashing the app's build context in every Check.
 *
 * The variants run interleaved, one run each per round, and are read against the first, the baseline:
 *   - type-checked, cold: the language host's default (ts-node type-checks each module it compiles) with an
 *     empty ts-node cache, as on the first run after any .ts file changed, or on a fresh machine or CI;
 *   - transpile-only, cold: PULUMI_NODEJS_TRANSPILE_ONLY=true, which @pulumi/pulumi's cmd/run/run.js passes to
 *     ts-node as `transpileOnly` (the tsconfig's `noCheck` does the same when the variable is unset);
 *   - type-checked, warm, and transpile-only, warm: the same, with the ts-node cache a previous run filled.
 *     ts-node 7 (the version @pulumi/pulumi vendors) caches each module's output by its content, in
 *     $TMPDIR/ts-node-<hash> unless TS_NODE_CACHE_DIRECTORY says otherwise, and neither compiles nor
 *     type-checks a module it finds there: so a repeat run with no .ts file changed is warm, whatever the mode;
 *   - transpile-only, warm, no delivery check: with `delivery.checkOnUp: false`, so that the program declares no
 *     dynamic resource and the SDK serializes no provider closure: what that serialization costs every run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { onExitCleanup } from "../test-support/cleanup";
import { fakeDocker } from "../test-support/fake-docker";
import { runBoundedChild } from "./child-program";
import { type Figure, type Measured, measured, paired } from "./figures";
import {
  closureLabel,
  formatShares,
  type PhaseName,
  type Phases,
  parseProbeReport,
  phaseLabels,
  phaseNames,
  phasesOf,
} from "./noop-up-math";
import { median } from "./stats";

const repoRoot = resolve(__dirname, "..");
const harness = join(repoRoot, "test-support", "load-as-pulumi.cjs");
const probe = join(__dirname, "noop-up-probe.cjs");

export interface NoopUpBenchOptions {
  /** Interleaved rounds, one run of each variant in each. */
  readonly rounds: number;
  /** The part stops starting rounds once this much time has passed, keeping the rounds it has. */
  readonly budgetMs: number;
  readonly log: (line: string) => void;
}

interface Variant {
  readonly name: string;
  readonly env: Readonly<Record<string, string>>;
  /** Whether runs share a ts-node cache that an unmeasured run filled first; otherwise each gets an empty one. */
  readonly warm: boolean;
  /** Stack config the probe adds to the harness's (none), by full key. */
  readonly config?: Readonly<Record<string, string>>;
}

const variants: readonly Variant[] = [
  { name: "type-checked, cold", env: {}, warm: false },
  { name: "transpile-only, cold", env: { PULUMI_NODEJS_TRANSPILE_ONLY: "true" }, warm: false },
  { name: "type-checked, warm", env: {}, warm: true },
  { name: "transpile-only, warm", env: { PULUMI_NODEJS_TRANSPILE_ONLY: "true" }, warm: true },
  {
    name: "transpile-only, warm, no delivery check",
    env: { PULUMI_NODEJS_TRANSPILE_ONLY: "true" },
    warm: true,
    config: { "watchtower:delivery": JSON.stringify({ checkOnUp: false }) },
  },
];
const [baseline] = variants as [Variant, ...Variant[]];

/** One run's bound: a cold type-checked run takes about 8 s on 2 loaded cores. */
const runTimeoutMs = 120_000;

/** The language host's environment: nothing from this shell may change how Pulumi compiles the program. */
function hostEnv(variant: Variant, cacheDirectory: string, dockerHost: string): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(
    ([key]) => !/^(PULUMI_|TS_NODE_)/.test(key) && key !== "NODE_OPTIONS",
  );
  return {
    ...Object.fromEntries(inherited),
    PULUMI_NODEJS_TYPESCRIPT: "true",
    TS_NODE_CACHE_DIRECTORY: cacheDirectory,
    DOCKER_HOST: dockerHost,
    ...variant.env,
    ...(variant.config === undefined ? {} : { NOOP_UP_PROBE_CONFIG: JSON.stringify(variant.config) }),
  };
}

async function runOnce(variant: Variant, cacheDirectory: string, dockerHost: string): Promise<Phases> {
  const started = performance.now();
  const { stderr } = await runBoundedChild(
    `the program (${variant.name})`,
    process.execPath,
    ["--require", probe, harness],
    { timeoutMs: runTimeoutMs, env: hostEnv(variant, cacheDirectory, dockerHost) },
  );
  const whole = performance.now() - started;
  return phasesOf(parseProbeReport(stderr), whole);
}

export async function benchNoopUp(options: NoopUpBenchOptions): Promise<Figure[]> {
  const { log } = options;
  const docker = await fakeDocker("1.41");
  const scratch = mkdtempSync(join(tmpdir(), "noop-up-"));
  const unregister = onExitCleanup(() => rmSync(scratch, { recursive: true, force: true }));
  const runs = new Map<Variant, Phases[]>(variants.map((variant) => [variant, []]));
  try {
    const warmCaches = new Map<Variant, string>();
    for (const variant of variants.filter(({ warm }) => warm)) {
      const cache = mkdtempSync(join(scratch, "warm-"));
      warmCaches.set(variant, cache);
      log(`noop-up: filling the ts-node cache for ${variant.name}`);
      await runOnce(variant, cache, docker.host);
    }
    const started = performance.now();
    for (let round = 0; round < options.rounds; round += 1) {
      if (round > 0 && performance.now() - started > options.budgetMs) {
        log(
          `noop-up: ${round} rounds in ${Math.round(options.budgetMs / 1000)} s, the budget: stopping there`,
        );
        break;
      }
      // Each round starts with another variant, so that none always runs first (or after the same one).
      const order = variants.map((_, index) => variants[(index + round) % variants.length] as Variant);
      for (const variant of order) {
        const cache = warmCaches.get(variant) ?? mkdtempSync(join(scratch, "cold-"));
        try {
          const phases = await runOnce(variant, cache, docker.host);
          runs.get(variant)?.push(phases);
          log(`noop-up: round ${round + 1}, ${variant.name}: ${Math.round(phases.whole)} ms`);
        } finally {
          if (!warmCaches.has(variant)) rmSync(cache, { recursive: true, force: true });
        }
      }
    }
  } finally {
    await docker.close();
    rmSync(scratch, { recursive: true, force: true });
    unregister();
  }
  return noopUpFigures(runs);
}

const phaseFigureNames: readonly (PhaseName | "whole")[] = [...phaseNames, "whole"];

function phaseMeasured(variant: Variant, phase: PhaseName | "whole", runs: readonly Phases[]): Measured {
  return measured(
    `${variant.name}: ${phaseLabels[phase]}`,
    "ms",
    runs.map((run) => run[phase]),
  );
}

/** The median of each phase over the runs: what the shares are taken of. */
function medianPhases(runs: readonly Phases[]): Phases {
  const of = (phase: PhaseName | "whole") => median(runs.map((run) => run[phase]));
  return {
    sdk: of("sdk"),
    typescript: of("typescript"),
    modules: of("modules"),
    preflight: of("preflight"),
    inputs: of("inputs"),
    resources: of("resources"),
    other: of("other"),
    whole: of("whole"),
    closure: median(runs.map((run) => run.closure)),
  };
}

function noopUpFigures(runs: ReadonlyMap<Variant, readonly Phases[]>): Figure[] {
  const baselineRuns = runs.get(baseline) ?? [];
  const figures: Figure[] = [];
  for (const variant of variants) {
    const own = runs.get(variant) ?? [];
    for (const phase of phaseFigureNames) {
      figures.push({
        part: "noop-up",
        ...phaseMeasured(variant, phase, own),
        ...(variant === baseline ? {} : { baseline: phaseMeasured(baseline, phase, baselineRuns) }),
        ...(phase === "whole" ? { note: `shares of the whole: ${formatShares(medianPhases(own))}` } : {}),
      });
      if (phase === "resources") {
        figures.push({
          part: "noop-up",
          ...measured(
            `${variant.name}: ${closureLabel}`,
            "ms",
            own.map((run) => run.closure),
          ),
        });
      }
    }
  }
  const whole = (variant: Variant) => phaseMeasured(variant, "whole", runs.get(variant) ?? []);
  for (const variant of variants.filter((other) => other !== baseline)) {
    figures.push({
      part: "noop-up",
      ...measured(
        `${variant.name}: whole run ÷ baseline's`,
        "×",
        paired(whole(variant), whole(baseline), (a, b) => a / b),
      ),
      baseline: whole(baseline),
    });
  }
  // A no-op `up` after an edit runs the program cold for the preview and warm for the update, which finds the
  // cache the preview filled: the program's part of such an `up`, round by round.
  const upOf = (cold: Variant, warm: Variant, name: string): Measured =>
    measured(
      name,
      "ms",
      paired(whole(cold), whole(warm), (a, b) => a + b),
    );
  const [checkedCold, transpiledCold, checkedWarm, transpiledWarm] = variants as [
    Variant,
    Variant,
    Variant,
    Variant,
  ];
  const checkedUp = upOf(checkedCold, checkedWarm, "type-checked: preview cold + update warm");
  figures.push({
    part: "noop-up",
    ...checkedUp,
    note: "the program's two runs in a no-op `pulumi up` after a .ts file changed",
  });
  figures.push({
    part: "noop-up",
    ...upOf(transpiledCold, transpiledWarm, "transpile-only: preview cold + update warm"),
    baseline: checkedUp,
  });
  return figures;
}
