/**
 * End to end, the dashboards: after a short k6 load of its own, every panel query of every dashboard returns
 * data from the real Prometheus, labelled by what it groups by. Real binaries on loopback; see e2e/stack.ts.
 */
import { expect } from "chai";
import { dashboardPanelQueries } from "../configs/grafana";
import { loadtestPlan } from "../configs/loadtest/plan";
import { requestTimeoutMs } from "../test-support/http";
import { k6StartupBudgetMs } from "../test-support/k6";
import { resultLabels } from "../test-support/promql-labels";
import { seconds } from "../test-support/wait";
import { marginMs, mochaTimeoutMs } from "./budgets";
import { useStack } from "./suite";
import { e2eSettings } from "./test-settings";

describe("end to end: the dashboards on real binaries", () => {
  // A load that only has to leave data behind: no alert need fire or resolve within it. SLO time is compressed
  // as in the SLO suite, so the SLO recording groups run every few seconds, not every 30 s and minute.
  const suite = useStack(
    {
      ...e2eSettings,
      loadtest: { ...e2eSettings.loadtest, spikeDuration: "10s", cooldownDuration: "5s" },
      slo: { timeCompression: 60 },
    },
    { withK6: true },
  );

  it("7. after the load, every dashboard panel's query returns data, labelled by what it groups by", async function () {
    const { stack, k6 } = suite();
    if (k6 === undefined) throw new Error("the suite was started without k6");
    const plan = loadtestPlan(stack.settings);
    // k6's start, its plan, and the queries, which run side by side, each bounded by the request timeout.
    this.timeout(mochaTimeoutMs(k6StartupBudgetMs, plan.totalMs, requestTimeoutMs));
    const run = await stack.runLoadtest(k6, `e2e-dashboards-${Date.now()}`);
    await stack.waitFor(
      `${run.process.name} to finish its plan`,
      () => (run.process.running ? undefined : true),
      plan.totalMs + marginMs,
    );
    const start = run.startedAtDate;
    // Replica 0 is the dashboards' default datasource and the one k6 writes to.
    const client = stack.prometheus[0];
    if (!client) throw new Error("no Prometheus replica");
    // The recorded series the panels read exist once every group has evaluated over the load.
    const longestIntervalMs = await stack.longestRuleIntervalMs();
    this.timeout(mochaTimeoutMs(k6StartupBudgetMs, plan.totalMs, requestTimeoutMs, longestIntervalMs));
    await stack.waitForRuleEvaluations(marginMs);
    const queries = dashboardPanelQueries(stack.settings);
    expect(queries.length, "panel queries").to.be.above(0);
    const started = performance.now();
    const results = await Promise.allSettled(
      queries.map((query) => client.queryRange(query.expr, start, new Date(), 1)),
    );
    const elapsedMs = performance.now() - started;
    const problems = results.flatMap((result, i) => {
      const query = queries[i];
      if (!query) return [];
      const where = `${query.dashboard} / ${query.panel}: ${query.expr}`;
      if (result.status === "rejected") return [`${where}: ${String(result.reason)}`];
      const samples = result.value.reduce((count, series) => count + series.values.length, 0);
      if (samples === 0) return [`${where}: no data`];
      // A misspelt or missing label makes no error, only series without it.
      const labels = resultLabels(query.expr);
      return result.value.flatMap((series) => {
        const missing = labels.filter((label) => series.labels[label] === undefined);
        return missing.length > 0
          ? [`${where}: a series without ${missing.join(", ")}: ${JSON.stringify(series.labels)}`]
          : [];
      });
    });
    expect(problems, "panels without data or without the labels they group by").to.deep.equal([]);
    stack.log(
      `      ${queries.length} panel queries, all with data and their labels, in ${seconds(elapsedMs)}`,
    );
  });
});
