/**
 * End to end, the SLOs on real binaries: time compressed through `slo.timeCompression` only (the 1h/5m page
 * becomes 1m/5s), so that an SLO that measures nothing, and then a fast burn, page within seconds. The burn page
 * arrives once, with its labels; its threshold twin HighErrorRate, and the slower pairs and the tickets that the
 * same errors trip, stay muted. Real binaries on loopback; see e2e/stack.ts.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "chai";
import { dashboardPanelQueries } from "../configs/grafana";
import { sloDashboard } from "../configs/grafana/dashboards/slo";
import { jobs, sloAlertNames } from "../configs/names";
import { alertNames } from "../configs/settings/alert-specs";
import { durationMs } from "../configs/settings/duration";
import type { SettingsInput } from "../configs/settings/schema";
import { absentFor, objectives } from "../configs/slo/rules";
import { apiRoutes } from "../service/metrics-contract";
import { requestTimeoutMs } from "../test-support/http";
import { seconds } from "../test-support/wait";
import { firingEmailBudgetMs, formatMeasurement, marginMs, mochaTimeoutMs } from "./budgets";
import { bodyField, notificationOf, parseSubject } from "./notifications";
import { useStack } from "./suite";
import { e2eSettings } from "./test-settings";
import { type SteadyTraffic, startSteadyTraffic } from "./traffic";

/** The suite's settings and 60 times faster SLOs: the shortest window, 5m, becomes 5s, 5 scrapes of 1s. */
const sloSettings = {
  ...e2eSettings,
  // The threshold twin as short as validation allows, so that it fires (and is seen muted) within seconds.
  alerts: { ...e2eSettings.alerts, highErrorRate: { window: "4s", for: "2s" } },
  slo: { timeCompression: 60 },
  // At 20% errors every pair and the twin turn true within the same few seconds, the page through its
  // recorded windows last. Alertmanager holds a new group this long, so the page is there to inhibit the others
  // before any of them is sent, also when a busy machine runs the recording groups late.
  alertmanager: { ...e2eSettings.alertmanager, groupWait: "4s" },
  loadtest: { enabled: false },
} satisfies SettingsInput;

/**
 * 20% of requests fail: above the 1h/5m page's 14.4 times the 1% budget, far from every other threshold that
 * matters here, and above HighErrorRate's 5%, so that its twin really fires and is seen to be muted.
 */
const okPerSecond = 8;
const errorsPerSecond = 2;

describe("end to end: service level objectives on real binaries", () => {
  const suite = useStack(sloSettings, { withK6: false });
  let traffic: SteadyTraffic[] = [];
  let trafficStartedAt: Date | undefined;

  after(async () => {
    await Promise.all(traffic.map((each) => each.stop()));
  });

  it("1. before the app has answered a request, SLOMetricsAbsent says each SLO measures nothing", async function () {
    const { stack } = suite();
    const all = objectives(stack.settings);
    const budgetMs = Math.max(
      ...all.map((objective) => firingEmailBudgetMs(stack.settings, absentFor(objective))),
    );
    this.timeout(mochaTimeoutMs(budgetMs));
    const since = 0;
    for (const objective of all) {
      const arrived = await stack.inbox.waitForEmail(
        `${sloAlertNames.metricsAbsent} for ${objective.name}`,
        (email) =>
          notificationOf(sloAlertNames.metricsAbsent, "firing")(email) &&
          email.text.includes(`slo=${objective.name}`),
        { since, timeoutMs: budgetMs, diagnostics: () => stack.diagnostics() },
      );
      expect(bodyField(arrived.email, "Severity")).to.equal("warning");
    }
  });

  it("2. a fast burn pages once, with its SLO and windows; its threshold twin and the slower pairs stay muted", async function () {
    const { stack } = suite();
    const { settings } = stack;
    const availability = objectives(settings).find((objective) => objective.name === "availability");
    const fastest = availability?.pairs[0];
    if (!availability || !fastest) throw new Error("the availability SLO is on by default");
    const pageBudgetMs = firingEmailBudgetMs(settings, "0s") + fastest.shortMs;
    const twin = settings.alerts.highErrorRate;
    const twinBudgetMs = firingEmailBudgetMs(settings, twin.for) + durationMs(twin.window);
    const settleMs =
      durationMs(settings.alertmanager.groupWait) +
      durationMs(settings.alertmanager.groupInterval) +
      marginMs;
    this.timeout(mochaTimeoutMs(pageBudgetMs, twinBudgetMs, twinBudgetMs, settleMs, requestTimeoutMs));

    const startedAt = performance.now();
    trafficStartedAt = new Date();
    const app = `http://${stack.endpoints.app}`;
    traffic = [
      startSteadyTraffic(`${app}${apiRoutes.items}`, okPerSecond, this.timeout()),
      startSteadyTraffic(`${app}${apiRoutes.error}`, errorsPerSecond, this.timeout()),
    ];
    const page = await stack.inbox.waitForEmail(
      `${sloAlertNames.errorBudgetBurn} critical`,
      notificationOf(sloAlertNames.errorBudgetBurn, "firing"),
      { since: startedAt, timeoutMs: pageBudgetMs, diagnostics: () => stack.diagnostics() },
    );
    stack.log(formatMeasurement("ErrorBudgetBurn page after the errors began", page.elapsedMs, pageBudgetMs));
    expect(parseSubject(page.email.subject)).to.include({
      alertname: sloAlertNames.errorBudgetBurn,
      severity: "critical",
      job: jobs.app,
    });
    expect(bodyField(page.email, "Labels")).to.equal(
      `job=${jobs.app}, long=${fastest.long}, short=${fastest.short}, slo=availability`,
    );
    expect(bodyField(page.email, "Description")).to.include(`this alert fires above ${fastest.factor}`);

    // The twin fires in Prometheus, and Alertmanager holds it back.
    const [replica] = stack.prometheus;
    if (!replica) throw new Error("no Prometheus replica");
    const twinFiring = await stack.waitFor(
      `${alertNames.highErrorRate} firing in Prometheus`,
      async () =>
        (await replica.alerts()).some(
          (alert) => alert.labels.alertname === alertNames.highErrorRate && alert.state === "firing",
        )
          ? true
          : undefined,
      twinBudgetMs,
    );
    stack.log(`      ${alertNames.highErrorRate} firing after ${seconds(twinFiring.elapsedMs)}`);
    await stack.waitFor(
      `${alertNames.highErrorRate} suppressed in Alertmanager`,
      async () => {
        const held = (await stack.alertmanager.alerts()).find(
          (alert) => alert.labels.alertname === alertNames.highErrorRate,
        );
        return held?.status.state === "suppressed" ? true : undefined;
      },
      twinBudgetMs,
    );

    // Long enough for any further notification of these groups to leave.
    await sleep(settleMs);
    const sent = (alertname: string) => stack.inbox.received(notificationOf(alertname, "firing"), startedAt);
    expect(
      sent(sloAlertNames.errorBudgetBurn).map((email) => email.subject),
      "ErrorBudgetBurn e-mails",
    ).to.have.lengthOf(1);
    expect(
      sent(alertNames.highErrorRate).map((email) => email.subject),
      "HighErrorRate e-mails",
    ).to.deep.equal([]);
  });

  it("3. every panel of the SLOs dashboard has data", async function () {
    this.timeout(mochaTimeoutMs(requestTimeoutMs));
    const { stack } = suite();
    const start = trafficStartedAt;
    if (!start) throw new Error("scenario 3 reads the traffic of scenario 2, which did not start");
    const [client] = stack.prometheus;
    if (!client) throw new Error("no Prometheus replica");
    const queries = dashboardPanelQueries(stack.settings).filter(
      (query) => query.dashboard === sloDashboard.title,
    );
    expect(queries.length).to.be.above(0);
    const empty: string[] = [];
    for (const query of queries) {
      const series = await client.queryRange(query.expr, start, new Date(), 1);
      if (series.every((each) => each.values.length === 0)) empty.push(`${query.panel}: ${query.expr}`);
    }
    expect(empty, "SLO panels without data").to.deep.equal([]);
  });
});
