/**
 * End to end, monitoring services of the user's own (`targets`): a second instance of the app as its own job
 * with a lower request threshold, and an address where nothing listens. Only the dead one raises InstanceDown,
 * naming its job; load on the second raises HighRequestVolume for that job alone; and every panel of the
 * Service dashboard has data with its `job` variable set to each job. Real binaries on loopback.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "chai";
import { dashboardPanelQueries } from "../configs/grafana";
import { serviceDashboard } from "../configs/grafana/dashboards/service";
import { jobs } from "../configs/names";
import type { HostPort } from "../configs/runtime/endpoints";
import { alertNames } from "../configs/settings/alert-specs";
import { durationMs } from "../configs/settings/duration";
import { apiRoutes } from "../service/metrics-contract";
import { requestTimeoutMs } from "../test-support/http";
import { freePort, loopback } from "../test-support/ports";
import { seconds } from "../test-support/wait";
import { firingEmailBudgetMs, formatMeasurement, marginMs, mochaTimeoutMs } from "./budgets";
import { parseSubject, waitForNotification } from "./notifications";
import { readinessTimeoutMs } from "./stack";
import { useStack } from "./suite";
import { e2eSettings } from "./test-settings";
import { startSteadyTraffic } from "./traffic";

const second = "second";
const nobody = "nobody";
/** The second instance's own HighRequestVolume threshold, a third of the app's. */
const secondMaxRequests = Math.floor(e2eSettings.alerts.highRequestVolume.maxRequests / 3);

describe("end to end: monitoring your own services on real binaries", () => {
  let secondAddress: HostPort | undefined;
  const suite = useStack(
    async () => {
      secondAddress = `${loopback}:${await freePort()}`;
      // Taken and let go: nothing listens there while the suite runs.
      const deadAddress: HostPort = `${loopback}:${await freePort()}`;
      return {
        ...e2eSettings,
        targets: [
          {
            job: second,
            addresses: [secondAddress],
            httpContract: true,
            alerts: { highRequestVolume: { maxRequests: secondMaxRequests } },
          },
          { job: nobody, addresses: [deadAddress] },
        ],
      };
    },
    { withK6: false },
  );

  // The second instance runs for the whole suite, as a service of the user's would.
  before(async function () {
    this.timeout(mochaTimeoutMs(readinessTimeoutMs));
    await suite().stack.startAppInstance(`app-${second}`, instanceAddress());
  });

  function instanceAddress(): HostPort {
    if (secondAddress === undefined) throw new Error("the suite picked no address for the second instance");
    return secondAddress;
  }

  it("1. InstanceDown arrives for the address where nothing listens, naming its job, and for no other job", async function () {
    const { stack } = suite();
    const budgetMs = firingEmailBudgetMs(stack.settings, stack.settings.alerts.instanceDown.for);
    this.timeout(mochaTimeoutMs(budgetMs, budgetMs));
    // Nothing ever listened at the dead address: its InstanceDown is due within a budget of the stack's start.
    const startedAt = performance.now();
    const email = await waitForNotification(stack, alertNames.instanceDown, "firing", 0, budgetMs);
    stack.log(formatMeasurement(`InstanceDown for job ${nobody}`, email.receivedAt - startedAt, budgetMs));
    expect(parseSubject(email.subject)?.job).to.equal(nobody);
    // Long enough for an InstanceDown of a live job to have arrived too, had one fired.
    await sleep(budgetMs - (performance.now() - startedAt));
    const downJobs = stack.inbox
      .received((received) => parseSubject(received.subject)?.alertname === alertNames.instanceDown)
      .map((received) => parseSubject(received.subject)?.job);
    expect(downJobs).to.deep.equal([nobody]);
  });

  it("2. load on the second instance fires HighRequestVolume for its job at its own threshold, and not for the app", async function () {
    const { stack } = suite();
    const { window } = stack.settings.alerts.highRequestVolume;
    const windowMs = durationMs(window);
    // Twice the second's threshold and under the app's: only a per-job threshold can fire.
    const requestsPerSecond = (2 * secondMaxRequests * 1000) / windowMs;
    const budgetMs =
      windowMs + firingEmailBudgetMs(stack.settings, stack.settings.alerts.highRequestVolume.for);
    this.timeout(mochaTimeoutMs(budgetMs, requestTimeoutMs));
    const address = instanceAddress();
    const since = performance.now();
    const traffic = startSteadyTraffic(`http://${address}${apiRoutes.items}`, requestsPerSecond, budgetMs);
    try {
      const email = await waitForNotification(stack, alertNames.highRequestVolume, "firing", since, budgetMs);
      stack.log(formatMeasurement(`HighRequestVolume for job ${second}`, email.receivedAt - since, budgetMs));
      expect(parseSubject(email.subject)?.job).to.equal(second);
      const appAlerts = stack.inbox.received(
        (received) =>
          parseSubject(received.subject)?.alertname === alertNames.highRequestVolume &&
          parseSubject(received.subject)?.job === jobs.app,
        since,
      );
      expect(appAlerts).to.deep.equal([]);
    } finally {
      await traffic.stop();
    }
  });

  it("3. every Service panel has data, with its job variable set to each job of the HTTP contract", async function () {
    const { stack } = suite();
    const settleMs = durationMs(stack.settings.scrape.interval) * 4 + marginMs;
    this.timeout(mochaTimeoutMs(settleMs, requestTimeoutMs, requestTimeoutMs));
    const address = instanceAddress();
    const client = stack.prometheus[0];
    if (!client) throw new Error("no Prometheus replica");
    const started = new Date();
    // Every panel of the dashboard: ordinary, slow and failing requests on both instances.
    const traffic = [stack.endpoints.app, address].flatMap((target) =>
      [apiRoutes.items, `${apiRoutes.slow}?ms=50`, apiRoutes.error].map((route) =>
        startSteadyTraffic(`http://${target}${route}`, 2, settleMs),
      ),
    );
    await sleep(settleMs);
    await Promise.all(traffic.map((each) => each.stop()));
    const problems: string[] = [];
    for (const job of [jobs.app, second]) {
      const queries = dashboardPanelQueries(stack.settings, { job }).filter(
        (query) => query.dashboard === serviceDashboard.title,
      );
      expect(queries.length, `queries for ${job}`).to.be.above(0);
      const results = await Promise.all(
        queries.map((query) => client.queryRange(query.expr, started, new Date(), 1)),
      );
      results.forEach((series, index) => {
        const query = queries[index];
        if (query && series.every((each) => each.values.length === 0))
          problems.push(`job ${job}: ${query.panel}: ${query.expr}: no data`);
      });
    }
    expect(problems).to.deep.equal([]);
    stack.log(
      `      every Service panel has data for jobs ${jobs.app} and ${second} (${seconds(settleMs)} of traffic)`,
    );
  });
});
