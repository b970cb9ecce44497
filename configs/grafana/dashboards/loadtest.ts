/**
 * "Load test": what k6 sent and saw, from the series its Prometheus remote-write output writes, next to what
 * the service counted, for one or several runs picked by their `testid`.
 */
import {
  type Dashboard,
  QueryVariableBuilder,
  VariableRefresh,
  VariableSort,
} from "@grafana/grafana-foundation-sdk/dashboard";
import { metricNames } from "../../../service/metrics-contract";
import {
  k6CheckTag,
  k6HttpRequestDuration,
  k6HttpTags,
  k6PushInterval,
  k6Series,
  k6TestIdTag,
  k6TrendSeries,
} from "../../loadtest/k6-metrics";
import { jobs } from "../../names";
import { jobSelector } from "../../promql/queries";
import { durationMs, formatDuration } from "../../settings/duration";
import type { Settings } from "../../settings/schema";
import { addSections, newDashboard, prometheusDatasource, rateInterval, timeSeries } from "../panels";

export const loadtestDashboard = {
  uid: "watchtower-load-test",
  title: "Load test",
  description:
    "k6 runs: request and iteration rates, virtual users, latency, failures and checks. k6 writes to one " +
    "Prometheus replica, so these panels are empty with another replica selected.",
} as const;

/** The test-run variable is named after the tag it selects on. */
const testIdVariable = k6TestIdTag;
/** What "All" puts in the regular expression: every run, and no series without a run id. */
const allTestIds = ".+";
const run = `${k6TestIdTag}=~"$${testIdVariable}"`;
const runLegend = `{{${k6TestIdTag}}}`;
const { name, status } = k6HttpTags;

/** Trend statistics drawn on the latency panel; both are in `k6TrendStats`, which k6 is told to write. */
const latencyPercentiles = [
  { stat: "p(95)", legend: "p95" },
  { stat: "p(99)", legend: "p99" },
] as const;

function testRunVariable(): QueryVariableBuilder {
  const query = `label_values(${k6Series.httpRequests}, ${k6TestIdTag})`;
  return new QueryVariableBuilder(testIdVariable)
    .label("Test run")
    .description(`The ${k6TestIdTag} tag of each k6 run that wrote to the selected Prometheus replica.`)
    .datasource(prometheusDatasource)
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalDesc)
    .multi(true)
    .includeAll(true)
    .allValue(allTestIds)
    .current({ text: "All", value: "$__all" });
}

export function buildLoadtestDashboard(settings: Settings): Dashboard {
  // Grafana's rate window is four times the panel's minimum interval: it must span a few of k6's pushes and,
  // for the service's series drawn alongside, a few scrapes.
  const minInterval = formatDuration(
    Math.max(durationMs(k6PushInterval), durationMs(settings.scrape.interval)),
  );

  const traffic = [
    timeSeries({
      title: "Request rate: k6 sent, service counted",
      description:
        "Requests per second k6 sent in each run, next to the requests the service counted. They match while " +
        "the service keeps up; the service's count excludes probes and scrapes.",
      unit: "reqps",
      minInterval,
      queries: [
        {
          expr: `sum by (${k6TestIdTag}) (rate(${k6Series.httpRequests}{${run}}[${rateInterval}]))`,
          legend: `k6 ${runLegend}`,
        },
        {
          expr: `sum(rate(${metricNames.requestsTotal}{${jobSelector(jobs.app)}}[${rateInterval}]))`,
          legend: "service",
        },
      ],
    }),
    timeSeries({
      title: "Virtual users",
      description: "Virtual users k6 ran; an arrival-rate scenario adds users when responses slow down.",
      unit: "short",
      minInterval,
      queries: [{ expr: `sum by (${k6TestIdTag}) (${k6Series.vus}{${run}})`, legend: runLegend }],
    }),
    timeSeries({
      title: "Iterations",
      description:
        "Script iterations per second, and iterations k6 dropped because it had no free virtual user. k6 writes " +
        "the dropped count only once an iteration is dropped, so it reads 0 until then.",
      unit: "ops",
      minInterval,
      queries: [
        {
          expr: `sum by (${k6TestIdTag}) (rate(${k6Series.iterations}{${run}}[${rateInterval}]))`,
          legend: `completed ${runLegend}`,
        },
        {
          expr: `sum(rate(${k6Series.droppedIterations}{${run}}[${rateInterval}])) or vector(0)`,
          legend: "dropped",
        },
      ],
    }),
  ];

  const results = [
    timeSeries({
      title: "Latency p95 / p99 by request",
      description:
        "Request duration percentiles k6 computed since each run started, by request name. Percentiles of " +
        "different runs cannot be combined, so with several runs selected this shows the slowest.",
      unit: "s",
      minInterval,
      queries: latencyPercentiles.map(({ stat, legend }) => ({
        expr: `max by (${name}) (${k6TrendSeries(k6HttpRequestDuration, stat)}{${run}})`,
        legend: `${legend} {{${name}}}`,
      })),
    }),
    timeSeries({
      title: "Failed requests",
      description:
        "Share of requests k6 counted as failed since the run started, by request name and status. The " +
        "intended calls to the error endpoint fail by design.",
      unit: "percentunit",
      minInterval,
      queries: [
        {
          expr: `max by (${name}, ${status}) (${k6Series.httpFailedRate}{${run}})`,
          legend: `{{${name}}} {{${status}}}`,
        },
      ],
    }),
    timeSeries({
      title: "Checks passing",
      description:
        "Share of each k6 check that passed since the run started; the worst run when several are selected.",
      unit: "percentunit",
      minInterval,
      queries: [
        {
          expr: `min by (${k6CheckTag}) (${k6Series.checksRate}{${run}})`,
          legend: `{{${k6CheckTag}}}`,
        },
      ],
    }),
  ];

  return addSections(newDashboard(loadtestDashboard).withVariable(testRunVariable()), [
    { title: "Traffic", panels: traffic },
    { title: "Results", panels: results },
  ]);
}
