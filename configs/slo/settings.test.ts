import { expect } from "chai";
import { settingsProblems } from "../../test-support/settings";
import { loadSettings } from "../validate";
import { effectivePairs } from "./windows";

describe("slo settings", () => {
  it("default to 99% availability and 98% within 0.25 s over 30d, uncompressed", () => {
    const { slo } = loadSettings({}).settings;
    expect(slo).to.deep.equal({
      availability: { enabled: true, objective: 0.99, window: "30d" },
      latency: { enabled: true, objective: 0.98, thresholdSeconds: 0.25, window: "30d" },
      timeCompression: 1,
    });
  });

  it("scale the workbook's factors to the window, the same share of the budget per pair", () => {
    const factors = (window: string) =>
      effectivePairs(loadSettings({}).settings, window).map((pair) => pair.factor);
    expect(factors("30d")).to.deep.equal([14.4, 6, 3, 1]);
    expect(factors("60d")).to.deep.equal([28.8, 12, 6, 2]);
    expect(factors("4w")).to.deep.equal([13.44, 5.6, 2.8, 0.9333333333333333]);
  });

  for (const [what, input, expected] of [
    [
      "an objective of 1",
      { availability: { objective: 1 } },
      /^slo\.availability\.objective: must be strictly between 0 and 1/,
    ],
    [
      "an objective of 0",
      { latency: { objective: 0 } },
      /^slo\.latency\.objective: must be strictly between 0 and 1/,
    ],
    [
      "a window of hours",
      { availability: { window: "36h" } },
      /^slo\.availability\.window: must be a whole number of days from 1d to 90d/,
    ],
    [
      "a window over 90 days",
      { latency: { window: "91d" } },
      /^slo\.latency\.window: must be a whole number of days/,
    ],
    [
      "a window that is no duration",
      { latency: { window: "month" } },
      /^slo\.latency\.window: must be a Prometheus duration/,
    ],
    [
      "a threshold between buckets",
      { latency: { thresholdSeconds: 0.3 } },
      /^slo\.latency\.thresholdSeconds: must be one of the duration histogram's bucket boundaries: 0\.005, 0\.01, .*, 10 \(got 0\.3\)$/,
    ],
    [
      "a compression that leaves fractions of seconds",
      { timeCompression: 7 },
      /^slo\.timeCompression: must divide 300/,
    ],
    ["an unknown key", { availability: { target: 0.9 } }, /^slo\.availability\.target: unknown setting/],
  ] as const) {
    it(`reject ${what}, naming the key`, () => {
      const found = settingsProblems({ slo: input });
      expect(found, found.join("\n")).to.have.lengthOf(1);
      expect(found[0]).to.match(expected);
    });
  }

  it("reject short windows under 4 scrape intervals, saying where they come from", () => {
    const found = settingsProblems({ slo: { timeCompression: 60 } });
    expect(found).to.have.lengthOf(2);
    expect(found[0]).to.equal(
      "slo.availability: its shortest alert window, 5s (5m / slo.timeCompression 60), is shorter than 4 x scrape.interval (4 x 5s = 20s), so rate() would not see enough samples; lower slo.timeCompression or scrape more often",
    );
    expect(found[1]).to.match(/^slo\.latency: /);
    expect(
      settingsProblems({ slo: { timeCompression: 60 }, scrape: { interval: "1s", timeout: "1s" } }),
    ).to.deep.equal([]);
    // A disabled SLO has no windows to check.
    expect(
      settingsProblems({
        slo: { timeCompression: 60, availability: { enabled: false }, latency: { enabled: false } },
      }),
    ).to.deep.equal([]);
  });

  it("reject an objective so loose that its fastest page would need more than two thirds of requests failing", () => {
    const found = settingsProblems({ slo: { availability: { objective: 0.95 } } });
    expect(found).to.deep.equal([
      "slo.availability.objective: 0.95 leaves an error budget of 5%, too large for the 1h/5m page over 30d: it fires at a burn rate of 14.4, when 72% of requests fail, more than two thirds; the objective must be above 0.953704",
    ]);
    expect(settingsProblems({ slo: { availability: { objective: 0.96 } } })).to.deep.equal([]);
  });
});
