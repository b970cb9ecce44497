/**
 * The bench's scale part, its quick pieces: the arithmetic (bench/scale-math.ts), the plot (bench/svg-plot.ts)
 * and the many-port server that stands in for the monitored jobs (bench/fleet-server.ts), on a few ports. The
 * part itself runs hundreds of jobs for minutes, so `npm test` never runs it: `npm run bench -- --only scale`
 * does.
 */
import { expect } from "chai";
import { fleetRequestSeries, renderAppFamilies } from "../bench/fleet-exposition";
import { type Fleet, serveFleet } from "../bench/fleet-server";
import { containersPerHost, renderCadvisorPage, renderNodeExporterPage } from "../bench/host-exposition";
import {
  hostSeriesQuery,
  parseInstanceCounts,
  type ReplicaReading,
  readinessQueries,
  readingQueries,
  ruleGroupIntervalsQuery,
  ruleGroupName,
  ruleGroupsQuery,
  type ScaleReading,
  scaleFigures,
  scaleHostCount,
  scaleHosts,
  scalePlotLines,
  scaleTable,
  scaleTargets,
  scrapeDurationStats,
  scrapeDurationsQuery,
} from "../bench/scale-math";
import { decades, logLogSvg } from "../bench/svg-plot";
import { promqlErrors } from "../configs/promql/lint";
import { cadvisorMetrics } from "../configs/promql/upstream-metrics";
import { loadSettings } from "../configs/validate";
import { apiRoutes, metricNames, requestDurationBuckets, requestLabels } from "../service/metrics-contract";
import { boundedFetch } from "../test-support/http";
import { freePort, loopback } from "../test-support/ports";
import { parseExposition, type Sample, startTestServer } from "../test-support/service";

const mib = 2 ** 20;

function replica(overrides: Partial<ReplicaReading> = {}): ReplicaReading {
  return {
    ruleEvaluationSeconds: 0.02,
    rules: 38,
    headSeries: 2700,
    residentBytes: 100 * mib,
    cpuSecondsPerMinute: 1.2,
    failedScrapes: 0,
    samplesPerScrape: 128,
    activeAlerts: 0,
    scrapeMedianSeconds: 0.002,
    scrapeP99Seconds: 0.01,
    largestGroup: { name: "slo.yml;slo-availability", seconds: 0.01 },
    groups: [{ name: "slo.yml;slo-availability", seconds: 0.01, intervalSeconds: 5 }],
    seriesPerHost: { node: 700, cadvisor: 140 },
    panels: [
      { dashboard: "Service", panel: "Requests", seconds: 0.01 },
      { dashboard: "SLO", panel: "Burn rate", seconds: 0.03 },
    ],
    ...overrides,
  };
}

const rendered = { seconds: [0.2, 0.21, 0.19] };

describe("the scale bench", () => {
  describe("--scale-instances", () => {
    it("reads ascending counts, spaces allowed", () => {
      expect(parseInstanceCounts("1,20,100,500")).to.deep.equal([1, 20, 100, 500]);
      expect(parseInstanceCounts(" 2 , 3")).to.deep.equal([2, 3]);
    });

    for (const text of ["", "0,5", "1,x", "1.5", "-1", "1,,5"]) {
      it(`refuses ${JSON.stringify(text)} as not whole numbers of at least 1`, () => {
        expect(() => parseInstanceCounts(text)).to.throw(RangeError, "whole numbers of at least 1");
      });
    }

    it("refuses counts that do not ascend", () => {
      expect(() => parseInstanceCounts("5,1")).to.throw(RangeError, "ascend without repeats");
    });
  });

  it("makes each address its own target job with the HTTP contract, which the settings accept", () => {
    const targets = scaleTargets(["127.0.0.1:20001", "127.0.0.1:20002"]);
    expect(targets).to.deep.equal([
      { job: "app-1", addresses: ["127.0.0.1:20001"], httpContract: true },
      { job: "app-2", addresses: ["127.0.0.1:20002"], httpContract: true },
    ]);
    expect(loadSettings({ targets }).settings.targets.map((target) => target.job)).to.deep.equal([
      "app-1",
      "app-2",
    ]);
  });

  describe("the queries", () => {
    const reading = readingQueries("127.0.0.1:9090", 60, 5);

    it("are valid PromQL", () => {
      const all = [
        ...Object.values(reading),
        ...Object.values(readinessQueries()),
        ruleGroupsQuery("127.0.0.1:9090", 60),
        ruleGroupIntervalsQuery("127.0.0.1:9090"),
        scrapeDurationsQuery,
      ];
      for (const expr of all) expect(promqlErrors(expr), expr).to.deep.equal([]);
    });

    it("read the jobs by one pattern that leaves out the demo app, and the replica from its scrape of itself", () => {
      expect(scrapeDurationsQuery).to.equal('scrape_duration_seconds{job=~"app-[0-9]+"}');
      expect(reading.ruleEvaluationSeconds).to.equal(
        'sum(avg_over_time(prometheus_rule_group_last_duration_seconds{job="prometheus",instance="127.0.0.1:9090"}[60s]) / prometheus_rule_group_interval_seconds{job="prometheus",instance="127.0.0.1:9090"}) * 5',
      );
      expect(reading.cpuSecondsPerMinute).to.equal(
        'sum(rate(process_cpu_seconds_total{job="prometheus",instance="127.0.0.1:9090"}[60s])) * 60',
      );
    });

    it("name a rule group by its file and group, without the temporary directory", () => {
      expect(ruleGroupName("/tmp/watchtower-e2e-x/prometheus/slo.yml;slo-latency")).to.equal(
        "slo.yml;slo-latency",
      );
    });

    it("take the median and the 99th percentile of the scrape durations", () => {
      const values = Array.from({ length: 100 }, (_, index) => (index + 1) / 1000);
      expect(scrapeDurationStats(values)).to.deep.equal({ median: 0.0505, p99: 0.099 });
    });
  });

  describe("the figures", () => {
    const readings: ScaleReading[] = [
      { instances: 1, render: rendered, replicas: [replica(), replica({ headSeries: 2600 })] },
      {
        instances: 20,
        render: { seconds: [0.4, 0.4, 0.5] },
        replicas: [replica({ headSeries: 7200 }), replica({ headSeries: 7000, cpuSecondsPerMinute: 3.6 })],
      },
      {
        instances: 100,
        render: { seconds: [0.09], error: "invalid PromQL: alert rule SLOMetricsAbsent" },
        replicas: [],
        error: "the stack's files did not render",
      },
    ];
    const figures = scaleFigures(readings, 60);
    const named = (name: string) => {
      const figure = figures.find((each) => each.name === name);
      if (figure === undefined) throw new Error(`no figure ${name} in ${figures.map((each) => each.name)}`);
      return figure;
    };

    it("gives each count one round per replica, against the first count", () => {
      const series = named("series in the head, N=20");
      expect(series.rounds).to.deep.equal([7200, 7000]);
      expect(series.baseline?.median).to.equal(2650);
      expect(named("Prometheus resident memory, N=1").rounds).to.deep.equal([100, 100]);
    });

    it("puts each ratio beside the work's ratio", () => {
      const ratio = named("series in the head, ratio N=1→20");
      expect(ratio.unit).to.equal("×");
      expect(ratio.rounds).to.deep.equal([7200 / 2700, 7000 / 2600]);
      expect(ratio.baseline?.median).to.equal(20);
      expect(named("Prometheus CPU, ratio N=1→20").rounds).to.deep.equal([1, 3]);
    });

    it("names the largest rule group and the slowest panel", () => {
      expect(named("largest rule group per cycle, N=20").note).to.include("slo.yml;slo-availability");
      expect(named("slowest dashboard panel query, N=1").median).to.be.closeTo(30, 1e-9);
      expect(named("slowest dashboard panel query, N=1").note).to.include("SLO / Burn rate");
    });

    it("reports a count whose render failed, with the render's error, and measures no stack for it", () => {
      expect(figures.some((figure) => figure.name.includes("N=100"))).to.equal(false);
      expect(named("render of the whole stack, ratio N=1→20").note).to.include(
        "N=100: render failed after 0.09 s: invalid PromQL",
      );
    });

    it("tabulates and plots the measured counts, the work as the reference line", () => {
      const table = scaleTable(readings);
      expect(table.counts).to.deep.equal([1, 20]);
      expect(table.rows.find((row) => row.name === "render of the whole stack")?.ratios).to.deep.equal([
        1, 2,
      ]);
      const lines = scalePlotLines(readings);
      expect(lines[0]).to.deep.equal({
        name: "work (N)",
        points: [
          [1, 1],
          [20, 20],
        ],
        dashed: true,
      });
      const svg = logLogSvg({ title: "t", xLabel: "x", yLabel: "y", lines });
      expect(svg).to.match(/^<svg /);
      expect(svg.match(/<polyline /g)).to.have.length(lines.length);
      expect(decades([1, 500])).to.deep.equal([1, 10, 100, 1000]);
    });
  });

  describe("the many-port server", function () {
    this.timeout(20_000);
    let fleet: Fleet | undefined;
    after(() => fleet?.stop());

    const scrapeOf = async (port: number): Promise<Sample[]> => {
      const response = await boundedFetch(`http://${loopback}:${port}/metrics`);
      expect(response.status).to.equal(200);
      return parseExposition(await response.text());
    };
    const own = (samples: readonly Sample[]) => samples.filter((s) => s.name.startsWith("app_")).length;
    // prom-client writes a per-type series of active handles, requests and resources only for the types a
    // process has at that moment, and the garbage collector's histogram only once a collection ran, so those
    // families come and go with what each process is doing.
    const momentary =
      /^nodejs_(active_(handles|requests|resources)\{type\}|gc_duration_seconds(_bucket|_sum|_count)\{)/;
    const shape = (samples: readonly Sample[]) =>
      [...new Set(samples.map((sample) => `${sample.name}{${Object.keys(sample.labels).sort()}}`))]
        .filter((family) => !momentary.test(family))
        .sort();

    it("serves each job on its own port with the service's own series, and stops a port on request", async () => {
      const ports = [await freePort(), await freePort(), await freePort()];
      fleet = await serveFleet(ports);
      const scrapes = await Promise.all(ports.map(scrapeOf));
      const service = await startTestServer();
      let real: Sample[];
      try {
        for (const route of [apiRoutes.items, `${apiRoutes.slow}?ms=1`, apiRoutes.error]) {
          await (await boundedFetch(`${service.url}${route}`)).arrayBuffer();
        }
        real = parseExposition(await (await boundedFetch(`${service.url}/metrics`)).text());
      } finally {
        await service.close();
      }
      for (const samples of scrapes) {
        // The same families and label names as the real service after the same three routes; the app's own
        // series exactly, the runtime's as many give or take a few (heap spaces and handle types vary by process).
        expect(shape(samples)).to.deep.equal(shape(real));
        expect(own(samples)).to.equal(own(real));
        const lasting = (all: readonly Sample[]) =>
          all.filter((sample) => !momentary.test(`${sample.name}{${Object.keys(sample.labels).sort()}}`))
            .length;
        expect(lasting(samples)).to.be.within(lasting(real) - 10, lasting(real) + 10);
        const buckets = samples.filter((s) => s.name === `${metricNames.requestDurationSeconds}_bucket`);
        expect(new Set(buckets.map((s) => s.labels.le))).to.have.length(requestDurationBuckets.length + 1);
        expect(
          Object.keys(samples.find((s) => s.name === metricNames.requestsTotal)?.labels ?? {}),
        ).to.have.members([...requestLabels]);
      }
      await fleet.close(ports[1] as number);
      const refused = await boundedFetch(`http://${loopback}:${ports[1]}/metrics`).then(
        () => false,
        () => true,
      );
      expect(refused).to.equal(true);
      expect(own(await scrapeOf(ports[0] as number))).to.equal(own(real));
    });

    it("serves each machine's node exporter and cAdvisor pages on theirs, beside the jobs", async () => {
      const [job, node, cadvisor] = [await freePort(), await freePort(), await freePort()];
      const captured = [
        'node_cpu_seconds_total{cpu="0",mode="idle"} 100',
        'node_cpu_seconds_total{cpu="0",mode="user"} 7',
        "node_memory_MemAvailable_bytes 1e+09",
        "",
      ].join("\n");
      const hostFleet = await serveFleet([job as number], {
        nodeExporterPorts: [node as number],
        cadvisorPorts: [cadvisor as number],
        nodeExporterPage: captured,
      });
      try {
        const nodeSamples = await scrapeOf(node as number);
        expect(nodeSamples.map((sample) => sample.name)).to.deep.equal([
          "node_cpu_seconds_total",
          "node_cpu_seconds_total",
          "node_memory_MemAvailable_bytes",
        ]);
        expect(nodeSamples.find((sample) => sample.labels.mode === "user")?.value).to.equal(7);
        expect(nodeSamples.find((sample) => sample.labels.mode === "idle")?.value).to.be.above(100);
        const cadvisorSamples = await scrapeOf(cadvisor as number);
        expect(cadvisorSamples.length).to.be.above(1000);
        expect(own(await scrapeOf(job as number))).to.be.above(0);
      } finally {
        await hostFleet.stop();
      }
    });

    it("shapes cAdvisor's page so that the scrape job keeps each named container's 7 kept series, none near its limit", () => {
      const kept = new Set<string>(Object.values(cadvisorMetrics));
      const samples = parseExposition(renderCadvisorPage(1, 60)).filter(
        (sample) => kept.has(sample.name) && sample.labels.name !== "",
      );
      expect(samples).to.have.length(containersPerHost * kept.size);
      const of = (name: string, container: string) =>
        samples.find((sample) => sample.name === name && sample.labels.name === container)?.value ?? 0;
      const names = [...new Set(samples.map((sample) => sample.labels.name as string))];
      for (const container of names) {
        const ratio =
          of(cadvisorMetrics.memoryWorkingSetBytes, container) /
          of(cadvisorMetrics.specMemoryLimitBytes, container);
        expect(ratio, container).to.be.below(0.5);
      }
      const laterOomKills = parseExposition(renderCadvisorPage(1, 600)).filter(
        (sample) => sample.name === cadvisorMetrics.oomEventsTotal,
      );
      expect(laterOomKills.map((sample) => sample.value)).to.satisfy((values: number[]) =>
        values.every((value) => value === 0),
      );
      expect(renderNodeExporterPage('node_cpu_seconds_total{cpu="1",mode="idle"} 5\n', 10)).to.equal(
        'node_cpu_seconds_total{cpu="1",mode="idle"} 15\n',
      );
    });

    it("watches one machine per 10 jobs, each named and addressed as a hosts entry the settings accept", () => {
      expect([1, 20, 100, 500].map(scaleHostCount)).to.deep.equal([1, 2, 10, 50]);
      const hosts = scaleHosts([{ nodeExporter: "127.0.0.1:9100", cadvisor: "127.0.0.1:8080" }]);
      expect(hosts).to.deep.equal([
        { name: "host-1", address: { nodeExporter: "127.0.0.1:9100", cadvisor: "127.0.0.1:8080" } },
      ]);
      expect(loadSettings({ host: { enabled: false }, hosts }).settings.hosts).to.deep.equal(
        hosts.map((host) => ({ ...host, alerts: {} })),
      );
      expect(promqlErrors(hostSeriesQuery())).to.deep.equal([]);
    });

    it("advances each counter at its series' rate, with cumulative buckets", () => {
      const at = (seconds: number) =>
        parseExposition(renderAppFamilies(seconds, 0.5)).filter((s) => s.labels.route === apiRoutes.items);
      const count = (samples: Sample[]) =>
        samples.find((s) => s.name === metricNames.requestsTotal)?.value as number;
      const rate = fleetRequestSeries[0]?.requestsPerSecond as number;
      expect(count(at(60)) - count(at(0))).to.equal(60 * rate);
      const buckets = at(60)
        .filter((s) => s.name.endsWith("_bucket"))
        .map((s) => s.value);
      expect(buckets).to.deep.equal([...buckets].sort((a, b) => a - b));
      expect(buckets.at(-1)).to.equal(count(at(60)));
    });
  });
});
