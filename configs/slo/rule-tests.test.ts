import { expect } from "chai";
import { parse } from "yaml";
import { requireBinaries } from "../../test-support/binaries";
import { makeTempDir } from "../../test-support/cleanup";
import { dockerTestEndpoints, loopbackEndpoints, runTool } from "../../test-support/promtool";
import { sloAlertNames } from "../names";
import { renderedPaths, writeRenderedFiles } from "../runtime/layout";
import type { Settings } from "../settings/schema";
import { loadSettings } from "../validate";
import { renderSloRuleTests, sloTestFiles, windowRatio } from "./rule-tests";
import { objectives, renderSloRules } from "./rules";

const variants = [
  ["the defaults", {}],
  [
    "compressed time, as the end-to-end tests run",
    { scrape: { interval: "1s", timeout: "1s", evaluationInterval: "1s" }, slo: { timeCompression: 60 } },
  ],
  [
    "other windows, objectives and a threshold",
    {
      slo: {
        availability: { objective: 0.999, window: "28d" },
        latency: { objective: 0.995, thresholdSeconds: 1, window: "7d" },
      },
    },
  ],
] as const;

interface TestFile {
  rule_files: string[];
  evaluation_interval: string;
  tests: {
    name: string;
    alert_rule_test: {
      eval_time: string;
      alertname: string;
      exp_alerts: { exp_labels: Record<string, string> }[];
    }[];
  }[];
}

/** The SLO rules and their tests alone, in the rendered layout: nothing else of a render takes part. */
function renderSloFiles(settings: Settings) {
  const dir = makeTempDir("slo-rule-tests-");
  const tests = renderSloRuleTests(settings, loopbackEndpoints(settings.prometheus.replicas));
  writeRenderedFiles(dir.path, { [renderedPaths.sloRules]: renderSloRules(settings), ...tests });
  return { dir, paths: Object.keys(tests) };
}

describe("renderSloRuleTests", () => {
  it("writes one file per burn-rate pair beside the alert tests, loading the SLO rules relative to itself", () => {
    const { settings } = loadSettings({});
    const files = renderSloRuleTests(settings, dockerTestEndpoints(settings));
    expect(Object.keys(files)).to.deep.equal([0, 1, 2, 3].map((pair) => renderedPaths.sloRuleTests(pair)));
    const first = parse(files[renderedPaths.sloRuleTests(0)] ?? "") as TestFile;
    expect(first.rule_files).to.deep.equal(["../rules/slo.yml"]);
    expect(first.evaluation_interval).to.equal("5m");
  });

  it("drives every pair of every SLO above its factor to fire at its severity, and below it never to fire", () => {
    const { settings } = loadSettings({});
    const files = sloTestFiles(settings, dockerTestEndpoints(settings));
    for (const objective of objectives(settings)) {
      objective.pairs.forEach((pair, index) => {
        const cases = files[index]?.cases.filter((test) => test.name.startsWith(`${objective.name} `)) ?? [];
        const [above, below] = cases;
        const fires = (test: typeof above, at: number) =>
          test?.checks[at]?.alerts.some(
            (alert) => alert.labels.long === pair.long && alert.labels.severity === pair.severity,
          );
        expect(fires(above, 0), `${objective.name} ${pair.long} early`).to.equal(false);
        expect(fires(above, 1), `${objective.name} ${pair.long} after its long window`).to.equal(true);
        expect(fires(below, 0) || fires(below, 1), `${objective.name} ${pair.long} below`).to.equal(false);
      });
    }
  });

  for (const [name, input] of variants) {
    it(`keeps every check at least 10% from every pair's threshold, with ${name}`, () => {
      const { settings } = loadSettings(input);
      const files = sloTestFiles(settings, dockerTestEndpoints(settings));
      for (const objective of objectives(settings)) {
        for (const test of files
          .flatMap((file) => file.cases)
          .filter((t) => t.name.startsWith(`${objective.name} burning`))) {
          for (const check of test.checks) {
            expect(check.margin, `${test.name} at ${check.atMs} ms`).to.be.at.least(0.1);
          }
        }
      }
    });
  }

  it("computes the error ratio rate() sees over the shortest window: bad over all increments in it", () => {
    const traffic = {
      intervalMs: 1000,
      phases: [
        { steps: 10, bad: 0 },
        { steps: 10, bad: 1e12 },
      ],
    };
    const shortest = (windowMs: number) => ({ shortestMs: windowMs, everyMs: 1000 });
    expect(windowRatio(traffic, 20_000, 10_000, shortest(10_000))).to.equal(1);
    expect(windowRatio(traffic, 20_000, 20_000, shortest(20_000))).to.equal(10 / 19);
    expect(windowRatio(traffic, 20_000, 40_000, shortest(40_000))).to.equal(0.5);
    expect(windowRatio(traffic, 20_000, 1_000, shortest(1_000))).to.equal(undefined);
  });

  it("sums the shortest window's rates over the evaluations in a longer one, each with its extrapolation", () => {
    // Samples every second and a 3 s shortest window: two increments at every evaluation from 2 s on, one at
    // 1 s, extrapolated there by half an interval only, as no sample lies within 1.1 intervals of the window's
    // start. Relative weights: 1.5 at 1 s, 3 from 2 s on.
    const traffic = {
      intervalMs: 1000,
      phases: [
        { steps: 4, bad: 0 },
        { steps: 4, bad: 1e12 },
      ],
    };
    const evaluation = { shortestMs: 3000, everyMs: 1000 };
    // At 6 s over 4 s: evaluations at 3..6 s. Bad: half of the one at 5 s (steps 4 and 5), all of 6 s's.
    expect(windowRatio(traffic, 6000, 4000, evaluation)).to.be.closeTo(4.5 / 12, 1e-15);
    // At 3 s over 4 s: evaluations at 1, 2 and 3 s (none at 0 s, one sample), none of them bad.
    expect(windowRatio(traffic, 3000, 4000, evaluation)).to.equal(0);
    // At 5 s over 8 s: evaluations at 1..5 s, weighing 1.5 + 4 × 3; half of the one at 5 s is bad.
    expect(windowRatio(traffic, 5000, 8000, evaluation)).to.be.closeTo(1.5 / 13.5, 1e-15);
  });

  describe("with promtool", function () {
    this.timeout(240_000);
    let promtool: string;
    before(function () {
      ({ promtool } = requireBinaries(this, "promtool"));
    });

    for (const [name, input] of variants) {
      it(`passes promtool test rules with ${name}`, async () => {
        const { settings } = loadSettings(input);
        const { dir, paths } = renderSloFiles(settings);
        try {
          // One promtool per file, side by side: each file is a long simulation on one core.
          const results = await Promise.all(
            paths.map((path) => runTool(promtool, ["test", "rules", path], dir.path)),
          );
          for (const result of results) {
            expect(result.exitCode, result.output).to.equal(0);
            expect(result.output).to.include("SUCCESS");
          }
        } finally {
          dir.remove();
        }
      });
    }

    it("fail a rule with the wrong factor, so they do test the rules", async () => {
      const { settings } = loadSettings({});
      const { dir } = renderSloFiles(settings);
      try {
        const { readFileSync, writeFileSync } = await import("node:fs");
        const rulesPath = `${dir.path}/${renderedPaths.sloRules}`;
        writeFileSync(rulesPath, readFileSync(rulesPath, "utf8").replaceAll("> 14.4", "> 28.8"));
        const result = await runTool(promtool, ["test", "rules", renderedPaths.sloRuleTests(0)], dir.path);
        expect(result.exitCode).to.not.equal(0);
        expect(result.output).to.include(sloAlertNames.errorBudgetBurn);
      } finally {
        dir.remove();
      }
    });
  });
});
