import { spawnSync } from "node:child_process";
import { expect } from "chai";
import { Histogram, Registry } from "prom-client";
import { requireBinaries } from "../test-support/binaries";
import { metricNames, requestDurationBuckets, requestLabels } from "./metrics-contract";
import { type HistogramDefinition, RequestHistogram } from "./request-histogram";

type Label = (typeof requestLabels)[number];
type Labels = Record<Label, string>;

const definition: HistogramDefinition<Label> = {
  name: metricNames.requestDurationSeconds,
  help: "Time from receiving an HTTP request until its response has been sent, in seconds.",
  labelNames: requestLabels,
  buckets: requestDurationBuckets,
};

/** Label values the exposition format must escape, and some it must not touch. */
const awkward: readonly Labels[] = [
  { method: "GET", route: "/", status_code: "200" },
  { method: "GET", route: 'say "hi"', status_code: "404" },
  { method: "POST", route: "back\\slash\\n", status_code: "500" },
  { method: "_OTHER", route: "line\nfeed", status_code: "501" },
  { method: "PUT", route: "/ünï/çødé/{x}=,y", status_code: "" },
];

/** Boundaries exactly, between them, below the first, above the last (+Inf), and sums that are not round. */
const values = [0, 0.005, 0.0050001, 0.01, 0.3, 1, 2.5, 7.5, 10, 10.000001, 42, 1e-9, 0.1 + 0.2];

/** The same observations into prom-client's Histogram and ours, series appearing in `order`. */
function feedBoth(
  order: readonly Labels[],
  help = definition.help,
): { ours: RequestHistogram<Label>; theirs: Registry } {
  const theirs = new Registry();
  const reference = new Histogram({
    name: definition.name,
    help,
    labelNames: [...requestLabels],
    buckets: [...definition.buckets],
    registers: [theirs],
  });
  const ours = new RequestHistogram({ ...definition, help });
  const series = new Map<string, number>();
  order.forEach((labels, i) => {
    const value = values[i % values.length] as number;
    reference.observe(labels, value);
    const key = JSON.stringify(labels);
    let index = series.get(key);
    if (index === undefined) {
      index = ours.addSeries(labels);
      series.set(key, index);
    }
    ours.observe(index, value);
  });
  return { ours, theirs };
}

async function expectSameText(ours: RequestHistogram<Label>, theirs: Registry): Promise<void> {
  expect(ours.render()).to.equal(await theirs.getSingleMetricAsString(definition.name));
}

describe("service: request histogram", () => {
  it("writes exactly what prom-client writes for the same observations, escaping included", async () => {
    // Interleaved, and repeated, so that every series gets several values and the order of first appearance
    // differs from the order of the list.
    const order = [2, 0, 2, 1, 3, 4, 0, 1, 2, 3, 4, 4, 0, 2, 1, 3].flatMap((i) => [awkward[i] as Labels]);
    const repeated = Array.from({ length: 5 }, () => order).flat();
    const { ours, theirs } = feedBoth(repeated);
    await expectSameText(ours, theirs);
    expect(ours.render()).to.include('route="say \\"hi\\""').and.include('route="line\\nfeed"');
  });

  it("writes HELP and TYPE alone before the first observation, and escapes HELP as prom-client does", async () => {
    const { ours, theirs } = feedBoth([], 'a \\ backslash,\na line feed and "quotes"');
    await expectSameText(ours, theirs);
    expect(ours.render().split("\n")).to.have.length(2);
  });

  it("keeps every series when it grows past its initial capacity", async () => {
    const order = Array.from({ length: 600 }, (_, i) => ({
      method: "GET",
      route: `/r/${i % 150}`,
      status_code: String(200 + (i % 4)),
    }));
    const { ours, theirs } = feedBoth(order);
    expect(ours.seriesCount).to.equal(300);
    await expectSameText(ours, theirs);
  });

  it("counts each series' observations, for the request counter", () => {
    const { ours } = feedBoth([awkward[0], awkward[1], awkward[0], awkward[0]] as Labels[]);
    expect([ours.count(0), ours.count(1)]).to.deep.equal([3, 1]);
  });

  describe("with promtool", () => {
    let promtool: string;
    before(function () {
      ({ promtool } = requireBinaries(this, "promtool"));
    });

    it("passes promtool check metrics, awkward label values included", () => {
      const { ours } = feedBoth([...awkward, ...awkward]);
      const result = spawnSync(promtool, ["check", "metrics"], {
        input: `${ours.render()}\n`,
        encoding: "utf8",
        timeout: 10_000,
      });
      expect(`${result.stdout}${result.stderr}`.trim()).to.equal("");
      expect(result.status).to.equal(0);
    });
  });
});
