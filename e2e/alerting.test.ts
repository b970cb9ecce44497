/**
 * End to end, the normal path: the stack comes up healthy, a k6 spike fires HighRequestVolume and its e-mail
 * arrives once, and a threshold changed in settings governs after a reload. Each scenario stands on its own:
 * none reads what another left behind.
 * Real binaries on loopback; see e2e/stack.ts.
 */

import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "chai";
import { parse as parseYaml } from "yaml";
import { loadtestPlan } from "../configs/loadtest/plan";
import { jobs } from "../configs/names";
import { jobSelector, requestsInWindow } from "../configs/promql/queries";
import { stackMetricNames } from "../configs/promql/upstream-metrics";
import type { Endpoints } from "../configs/runtime/endpoints";
import { renderedPaths } from "../configs/runtime/layout";
import { alertNames } from "../configs/settings/alert-specs";
import { durationMs } from "../configs/settings/duration";
import { apiRoutes, metricNames } from "../service/metrics-contract";
import { requestTimeoutMs } from "../test-support/http";
import { k6StartupBudgetMs } from "../test-support/k6";
import type { PrometheusClient } from "../test-support/prometheus-client";
import { seconds } from "../test-support/wait";
import {
  afterConditionBudgetMs,
  afterRecoveryBudgetMs,
  firingEmailBudgetMs,
  formatMeasurement,
  marginMs,
  mochaTimeoutMs,
  waitOverrunMs,
} from "./budgets";
import { conditionPeriod, wallClock } from "./measure";
import { bodyField, notificationOf, parseHumanized, parseSubject } from "./notifications";
import type { Stack } from "./stack";
import { useStack } from "./suite";
import { e2eSettings } from "./test-settings";
import { startSteadyTraffic } from "./traffic";

describe("end to end: the alerting pipeline on real binaries", () => {
  const suite = useStack(e2eSettings, { withK6: true });

  it("1. every target is up on every replica, and no rule evaluation has failed", async function () {
    const { stack } = suite();
    // Prometheus first evaluates a group at an offset within its interval: the slowest may take that long.
    const budgetMs = 20_000 + (await stack.longestRuleIntervalMs());
    // Two waits share the budget, the second getting what the first left: each may overrun it.
    this.timeout(mochaTimeoutMs(budgetMs) + waitOverrunMs);
    const ruleNames = renderedRules(stack)
      .map((rule) => rule.alert)
      .sort();
    const up = await stack.waitForAllTargetsUp(budgetMs);
    stack.log(formatMeasurement("every target up on every replica", up.elapsedMs, budgetMs));
    const evaluated = await stack.waitFor(
      "every rule evaluated without error, on every replica",
      async () => {
        for (const [replica, client] of stack.prometheus.entries()) {
          await expectRulesHealthy(client, ruleNames, replica);
          await expectNoRuleEvaluationFailures(client, stack.endpoints, replica);
        }
        return true;
      },
      budgetMs - up.elapsedMs,
    );
    stack.log(formatMeasurement("and every rule evaluated", up.elapsedMs + evaluated.elapsedMs, budgetMs));
  });

  it("2. the k6 spike fires HighRequestVolume: one e-mail showing it, then one resolved e-mail", async function () {
    const { stack, k6 } = suite();
    if (k6 === undefined) throw new Error("the suite was started without k6");
    const { settings, inbox } = stack;
    const alert = settings.alerts.highRequestVolume;
    const plan = loadtestPlan(settings);
    const groupWaitMs = durationMs(settings.alertmanager.groupWait);
    const groupIntervalMs = durationMs(settings.alertmanager.groupInterval);
    // Deadlines from k6's first request, where the plan starts counting.
    const firingDeadlineMs = plan.phases.spike.startMs + plan.alertFiresWithinMs + groupWaitMs + marginMs;
    const resolvedDeadlineMs =
      plan.phases.cooldown.startMs + plan.alertResolvesWithinMs + groupIntervalMs + marginMs;
    const exitDeadlineMs = plan.totalMs + marginMs;
    const noDuplicateMs = groupIntervalMs + marginMs;
    this.timeout(
      mochaTimeoutMs(
        k6StartupBudgetMs,
        Math.max(resolvedDeadlineMs, exitDeadlineMs),
        noDuplicateMs,
        requestTimeoutMs,
      ),
    );
    stack.log(
      `      k6: warm-up ${seconds(plan.phases.warmup.durationMs)} at ${plan.phases.warmup.requestsPerSecond} req/s, ` +
        `spike ${seconds(plan.phases.spike.durationMs)} at ${plan.phases.spike.requestsPerSecond} req/s, ` +
        `cool-down ${seconds(plan.phases.cooldown.durationMs)}; threshold ${plan.thresholdRequestsPerSecond} req/s`,
    );
    const run = await stack.runLoadtest(k6, `e2e-${Date.now()}`);
    stack.log(
      `      k6: first request counted ${seconds(run.firstRequestAt - run.startedAt)} after its start ` +
        `(budget ${seconds(k6StartupBudgetMs)})`,
    );
    const remainingMs = (deadlineMs: number) =>
      Math.max(0, run.firstRequestAt + deadlineMs - performance.now());

    // The plan bounds how long to wait; the budgets are then checked against what Prometheus stored.
    const firing = await inbox.waitForEmail(
      `${alertNames.highRequestVolume} firing`,
      notificationOf(alertNames.highRequestVolume, "firing"),
      {
        since: run.startedAt,
        timeoutMs: remainingMs(firingDeadlineMs),
        diagnostics: () => stack.diagnostics(),
      },
    );
    const resolved = await inbox.waitForEmail(
      `${alertNames.highRequestVolume} resolved`,
      notificationOf(alertNames.highRequestVolume, "resolved"),
      {
        since: firing.email.receivedAt,
        timeoutMs: remainingMs(resolvedDeadlineMs),
        diagnostics: () => stack.diagnostics(),
      },
    );
    await stack.waitFor(
      `${run.process.name} to finish its plan`,
      () => (run.process.running ? undefined : true),
      remainingMs(exitDeadlineMs),
    );
    const exit = await run.process.exited;

    const aboveThreshold = `${requestsInWindow(alert.window)} > ${alert.maxRequests}`;
    const period = await conditionPeriod(stack.prometheus, aboveThreshold, run.startedAtDate, new Date());
    if (!period?.end) throw new Error(`Prometheus stored no complete period in which ${aboveThreshold}`);
    const firingMs = wallClock(firing.email.receivedAt).getTime() - period.start.getTime();
    const firingBudgetMs = afterConditionBudgetMs(settings, alert.for);
    stack.log(
      formatMeasurement(
        `e-mail after the window's count crossed ${alert.maxRequests}`,
        firingMs,
        firingBudgetMs,
      ),
    );
    const resolvedMs = wallClock(resolved.email.receivedAt).getTime() - period.end.getTime();
    const resolvedBudgetMs = afterRecoveryBudgetMs(settings);
    stack.log(formatMeasurement("resolved e-mail after it fell back", resolvedMs, resolvedBudgetMs));
    expect(firingMs, "time to the firing e-mail").to.be.within(durationMs(alert.for), firingBudgetMs);
    expect(resolvedMs, "time to the resolved e-mail").to.be.within(0, resolvedBudgetMs);
    expect(exit, `k6 exit status; its output:\n${run.process.tail(60)}`).to.deep.equal({
      code: 0,
      signal: null,
    });

    const rule = await alertingRule(first(stack.prometheus), alertNames.highRequestVolume);
    const subject = parseSubject(firing.email.subject);
    expect(subject, firing.email.subject).to.include({
      alertname: alertNames.highRequestVolume,
      severity: alert.severity,
    });
    expect(subject?.summary, "summary in the subject").to.equal(rule.annotations?.summary);
    expect(bodyField(firing.email, "Severity"), "severity in the body").to.equal(alert.severity);
    expect(bodyField(firing.email, "Summary"), "summary in the body").to.equal(rule.annotations?.summary);
    const value = parseHumanized(bodyField(firing.email, "Value") ?? "");
    expect(value, `value in the body of:\n${firing.email.text}`).to.be.a("number").above(alert.maxRequests);
    expect(firing.email.html, "the HTML body")
      .to.include(alertNames.highRequestVolume)
      .and.include(alert.severity);
    const recipients = Array.isArray(settings.email.to) ? settings.email.to : [settings.email.to];
    expect(firing.email.recipients).to.have.members(recipients);
    expect(firing.email.from).to.equal(settings.email.from);

    // Both replicas fired and resolved the alert; Alertmanager must have merged them into one of each. A
    // duplicate would come at the latest one group interval after the other.
    await sleep(Math.max(0, resolved.email.receivedAt + noDuplicateMs - performance.now()));
    const sent = (status: "firing" | "resolved") =>
      inbox
        .received(notificationOf(alertNames.highRequestVolume, status), run.startedAt)
        .map((email) => email.subject);
    expect(sent("firing"), "firing e-mails").to.have.length(1);
    expect(sent("resolved"), "resolved e-mails").to.have.length(1);
  });

  it("8. a threshold changed in settings governs after a reload, and the stored series survive it", async function () {
    const { stack } = suite();
    const before = stack.settings.alerts.highRequestVolume;
    const windowMs = durationMs(before.window);
    // Traffic between the new threshold and the old one: only the new threshold can make the alert fire.
    const newMaxRequests = Math.floor(before.maxRequests / 3);
    const requestsPerWindow = (before.maxRequests + newMaxRequests) / 2;
    const scrapeIntervalMs = durationMs(stack.settings.scrape.interval);
    const settleMs = windowMs + 2 * scrapeIntervalMs + marginMs;
    const holdMs = durationMs(before.for) + durationMs(stack.settings.scrape.evaluationInterval);
    const firingBudgetMs = firingEmailBudgetMs(stack.settings, before.for);
    // The settling wait, the hold, the reload's requests, and the e-mail.
    this.timeout(mochaTimeoutMs(settleMs, holdMs, requestTimeoutMs, firingBudgetMs));
    const traffic = startSteadyTraffic(
      `http://${stack.endpoints.app}${apiRoutes.items}`,
      (requestsPerWindow * 1000) / windowMs,
      this.timeout(),
    );
    try {
      const [firstReplica, ...otherReplicas] = stack.prometheus;
      if (!firstReplica) throw new Error("no Prometheus replica");
      const inWindow = requestsInWindow(before.window);
      await stack.waitFor(
        `${inWindow} between ${newMaxRequests} and ${before.maxRequests}`,
        async () => {
          const value = (await firstReplica.query(inWindow))[0]?.value;
          if (value === undefined) throw new Error(`${inWindow} returned nothing`);
          if (value <= newMaxRequests || value >= before.maxRequests)
            throw new Error(`${inWindow} is ${value}`);
          return value;
        },
        settleMs,
      );
      // Held for longer than `for`, under the old threshold the alert must not even be pending.
      await sleep(holdMs);
      for (const client of stack.prometheus) {
        expect((await alertingRule(client, alertNames.highRequestVolume)).state, client.baseUrl).to.equal(
          "inactive",
        );
      }

      // Old enough that every scrape stamped before it has been committed: a scrape is stamped when it starts
      // and stored when it ends, up to a scrape timeout later.
      const storedAt = new Date(
        Date.now() - (scrapeIntervalMs + durationMs(stack.settings.scrape.timeout) + marginMs),
      );
      const stored = `sum by (instance) (${metricNames.requestsTotal}{${jobSelector(jobs.app)}})`;
      const storedBefore = await Promise.all(
        stack.prometheus.map((client) => client.query(stored, storedAt)),
      );
      expect(storedBefore.map((samples) => samples.length)).to.not.include(0);

      const previousRule = await alertingRule(firstReplica, alertNames.highRequestVolume);
      const reloadStarted = performance.now();
      await stack.applySettings({
        ...e2eSettings,
        alerts: {
          ...e2eSettings.alerts,
          highRequestVolume: { ...e2eSettings.alerts.highRequestVolume, maxRequests: newMaxRequests },
        },
      });
      for (const client of stack.prometheus) {
        const reloaded = await alertingRule(client, alertNames.highRequestVolume);
        expect(reloaded.query, `${client.baseUrl} after the reload`).to.not.equal(previousRule.query);
        expect(reloaded.query).to.equal(
          renderedRules(stack).find((rule) => rule.alert === alertNames.highRequestVolume)?.expr,
        );
      }

      const fired = await stack.inbox.waitForEmail(
        `${alertNames.highRequestVolume} firing under the new threshold`,
        notificationOf(alertNames.highRequestVolume, "firing"),
        { since: reloadStarted, timeoutMs: firingBudgetMs, diagnostics: () => stack.diagnostics() },
      );
      stack.log(
        formatMeasurement("HighRequestVolume e-mail after the reload", fired.elapsedMs, firingBudgetMs),
      );
      const value = parseHumanized(bodyField(fired.email, "Value") ?? "");
      expect(value, "value in the e-mail").to.be.a("number").within(newMaxRequests, before.maxRequests);
      for (const client of otherReplicas) {
        const rule = await alertingRule(client, alertNames.highRequestVolume);
        expect(rule.state, `${client.baseUrl} under the new threshold`).to.be.oneOf(["pending", "firing"]);
      }

      const storedAfter = await Promise.all(stack.prometheus.map((client) => client.query(stored, storedAt)));
      expect(storedAfter, "series stored before the reload").to.deep.equal(storedBefore);
    } finally {
      await traffic.stop();
    }
  });
});

/** The alerting rules of the rendered rules file: what every replica must have loaded. */
/** The alerting rules of every rule file the replicas load: the alerts and the SLOs. */
function renderedRules(stack: Stack): { alert: string; expr: string }[] {
  return [renderedPaths.alertRules, renderedPaths.sloRules].flatMap((ruleFile) => {
    const file = parseYaml(readFileSync(stack.renderedFile(ruleFile), "utf8")) as {
      groups: { rules: { alert?: string; expr: string }[] }[];
    };
    return file.groups.flatMap((group) =>
      group.rules.flatMap((rule) => (rule.alert ? [{ alert: rule.alert, expr: rule.expr }] : [])),
    );
  });
}

async function expectRulesHealthy(
  client: PrometheusClient,
  ruleNames: string[],
  replica: number,
): Promise<void> {
  const rules = (await client.ruleGroups()).flatMap((group) => group.rules);
  const loaded = rules
    .filter((rule) => rule.type === "alerting")
    .map((rule) => rule.name)
    .sort();
  if (JSON.stringify(loaded) !== JSON.stringify(ruleNames)) {
    throw new Error(
      `replica ${replica} loaded alerts ${loaded.join(", ")}; the rendered file has ${ruleNames.join(", ")}`,
    );
  }
  const notYet = rules.filter((rule) => Date.parse(rule.lastEvaluation) <= 0).map((rule) => rule.name);
  if (notYet.length > 0) throw new Error(`replica ${replica} has not evaluated ${notYet.join(", ")} yet`);
  const failing = rules.filter((rule) => rule.health !== "ok");
  if (failing.length > 0) {
    const detail = failing.map((rule) => `${rule.name}: ${rule.health} ${rule.lastError ?? ""}`).join("; ");
    throw new Error(`replica ${replica} has unhealthy rules: ${detail}`);
  }
}

/** Every replica's own failure counter, as scraped by this replica, exists and is zero. */
async function expectNoRuleEvaluationFailures(
  client: PrometheusClient,
  endpoints: Endpoints,
  replica: number,
): Promise<void> {
  const samples = await client.query(`sum by (instance) (${stackMetricNames.ruleEvaluationFailures})`);
  const reported = samples.map((sample) => sample.labels.instance).sort();
  if (JSON.stringify(reported) !== JSON.stringify([...endpoints.prometheus].sort())) {
    throw new Error(
      `replica ${replica} has rule evaluation counters for ${reported.join(", ") || "no replica"} only`,
    );
  }
  const failed = samples.filter((sample) => sample.value !== 0);
  if (failed.length > 0) {
    throw new Error(
      `rule evaluations failed: ${failed.map((s) => `${s.labels.instance}=${s.value}`).join(", ")}`,
    );
  }
}

function first(clients: readonly PrometheusClient[]): PrometheusClient {
  const [client] = clients;
  if (!client) throw new Error("the stack has no Prometheus replica");
  return client;
}

async function alertingRule(client: PrometheusClient, name: string) {
  const rule = (await client.ruleGroups())
    .flatMap((group) => group.rules)
    .find((candidate) => candidate.name === name);
  if (!rule) throw new Error(`${client.baseUrl} has no rule named ${name}`);
  return rule;
}
