/**
 * End to end, the Alertmanager cluster: two replicas of the pinned binary gossiping on loopback, each sent every
 * alert by both Prometheus replicas. The cluster must deliver each notification once, whichever replica is up,
 * share silences, and not repeat what it sent when a replica comes back.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "chai";
import { clusterWaitMs } from "../configs/prometheus/alert-timing";
import { stackMetricNames } from "../configs/promql/upstream-metrics";
import { alertNames } from "../configs/settings/alert-specs";
import { durationMs } from "../configs/settings/duration";
import {
  firingEmailBudgetMs,
  formatMeasurement,
  marginMs,
  mochaTimeoutMs,
  resolvedEmailBudgetMs,
  targetsUpTimeoutMs,
} from "./budgets";
import { notificationOf, waitForNotification } from "./notifications";
import { readinessTimeoutMs, type Stack } from "./stack";
import { useStack } from "./suite";
import { e2eSettings } from "./test-settings";

const emailIntegration = { integration: "email" };

describe("end to end: an Alertmanager cluster of two replicas", () => {
  // The shipped two replicas. The peer timeout is cut as the other intervals, to what still leaves the
  // notification log, gossiped every 200 ms on loopback, time to reach a peer on a busy two-core machine.
  const suite = useStack(
    { ...e2eSettings, alertmanager: { ...e2eSettings.alertmanager, replicas: 2, peerTimeout: "5s" } },
    { withK6: false },
  );

  /** Long enough for a replica that did not send first to have sent too, were the cluster not deduplicating. */
  const quietMs = (stack: Stack) =>
    clusterWaitMs(stack.settings, stack.alertmanagers.length - 1) +
    durationMs(stack.settings.alertmanager.groupInterval);

  const instanceDownEmails = (stack: Stack, status: "firing" | "resolved", since: number) =>
    stack.inbox.received(notificationOf(alertNames.instanceDown, status), since);

  /** Every replica a member of a cluster of all of them, so that each knows the others' notification log. */
  const waitForCluster = (stack: Stack) =>
    stack.waitFor(
      "every Alertmanager replica to see all the others",
      async () => {
        for (const client of stack.alertmanagers) {
          if ((await client.metricSum("alertmanager_cluster_members")) !== stack.alertmanagers.length) {
            return undefined;
          }
        }
        return true;
      },
      readinessTimeoutMs,
    );

  /** Starts the app again and waits for the resolved e-mail, so that the next scenario starts clean. */
  const recover = async (stack: Stack) => {
    const restartedAt = performance.now();
    await stack.startApp();
    await waitForNotification(
      stack,
      alertNames.instanceDown,
      "resolved",
      restartedAt,
      resolvedEmailBudgetMs(stack.settings),
    );
  };

  before(async function () {
    this.timeout(mochaTimeoutMs(targetsUpTimeoutMs, readinessTimeoutMs));
    const { stack } = suite();
    await stack.waitForAllTargetsUp(targetsUpTimeoutMs);
    await waitForCluster(stack);
  });

  it("1. with every replica up, InstanceDown gives exactly one e-mail, and one resolved", async function () {
    const { stack } = suite();
    const budgetMs = firingEmailBudgetMs(stack.settings, stack.settings.alerts.instanceDown.for);
    this.timeout(
      mochaTimeoutMs(
        budgetMs,
        quietMs(stack),
        readinessTimeoutMs,
        resolvedEmailBudgetMs(stack.settings),
        quietMs(stack),
      ),
    );
    const sentBefore = await Promise.all(
      stack.alertmanagers.map((client) =>
        client.metricSum(stackMetricNames.alertmanagerNotifications, emailIntegration),
      ),
    );

    const killedAt = performance.now();
    await stack.killApp();
    const firing = await waitForNotification(stack, alertNames.instanceDown, "firing", killedAt, budgetMs);
    stack.log(
      formatMeasurement("InstanceDown e-mail after the kill", firing.receivedAt - killedAt, budgetMs),
    );
    // Both replicas hold the alert: both Prometheus replicas sent it to each.
    for (const [replica, client] of stack.alertmanagers.entries()) {
      const held = (await client.alerts()).filter(
        (alert) => alert.labels.alertname === alertNames.instanceDown,
      );
      expect(held, `Alertmanager replica ${replica}`).to.have.length(1);
    }
    await sleep(quietMs(stack));
    expect(instanceDownEmails(stack, "firing", killedAt), "firing e-mails").to.have.length(1);
    const sentAfter = await Promise.all(
      stack.alertmanagers.map((client) =>
        client.metricSum(stackMetricNames.alertmanagerNotifications, emailIntegration),
      ),
    );
    const sent = sentAfter.map((count, replica) => count - (sentBefore[replica] ?? 0));
    expect(
      sent.reduce((total, count) => total + count, 0),
      `e-mails sent by each replica: ${sent.join(", ")}`,
    ).to.equal(1);

    const restartedAt = performance.now();
    await recover(stack);
    await sleep(quietMs(stack));
    expect(instanceDownEmails(stack, "resolved", restartedAt), "resolved e-mails").to.have.length(1);
  });

  it("2. with one replica stopped before the alert fires, still exactly one e-mail, within the bound with one down", async function () {
    const { stack } = suite();
    const budgetMs = firingEmailBudgetMs(stack.settings, stack.settings.alerts.instanceDown.for, 1);
    this.timeout(
      mochaTimeoutMs(
        budgetMs,
        quietMs(stack),
        readinessTimeoutMs,
        readinessTimeoutMs,
        resolvedEmailBudgetMs(stack.settings),
      ),
    );

    await stack.stopAlertmanager(0);
    const killedAt = performance.now();
    await stack.killApp();
    const firing = await waitForNotification(stack, alertNames.instanceDown, "firing", killedAt, budgetMs);
    stack.log(
      formatMeasurement("InstanceDown e-mail with replica 0 stopped", firing.receivedAt - killedAt, budgetMs),
    );
    await sleep(quietMs(stack));
    expect(instanceDownEmails(stack, "firing", killedAt), "firing e-mails").to.have.length(1);

    await stack.startAlertmanager(0);
    await waitForCluster(stack);
    await recover(stack);
  });

  it("3. a silence made through one replica's API silences the alert on the other, and no e-mail is sent", async function () {
    const { stack } = suite();
    const [first, second] = stack.alertmanagers;
    if (!first || !second) throw new Error("scenario 3 needs two Alertmanager replicas");
    const budgetMs = firingEmailBudgetMs(stack.settings, stack.settings.alerts.instanceDown.for);
    this.timeout(mochaTimeoutMs(readinessTimeoutMs, budgetMs, quietMs(stack), readinessTimeoutMs, marginMs));

    const silenceId = await second.silence({ alertname: alertNames.instanceDown }, 10, "e2e");
    await stack.waitFor(
      "the silence made on replica 1 to be active on replica 0",
      async () =>
        (await first.silences()).some(
          (silence) => silence.id === silenceId && silence.status.state === "active",
        )
          ? true
          : undefined,
      readinessTimeoutMs,
    );
    const killedAt = performance.now();
    await stack.killApp();
    await stack.waitFor(
      "InstanceDown held, and suppressed, by both replicas",
      async () => {
        for (const client of stack.alertmanagers) {
          const held = (await client.alerts()).find(
            (alert) => alert.labels.alertname === alertNames.instanceDown,
          );
          if (held?.status.state !== "suppressed") return undefined;
        }
        return true;
      },
      budgetMs,
    );
    await sleep(quietMs(stack));
    expect(instanceDownEmails(stack, "firing", killedAt), "firing e-mails under the silence").to.deep.equal(
      [],
    );

    await stack.startApp();
    await stack.waitFor(
      "InstanceDown to leave both replicas",
      async () => {
        for (const client of stack.alertmanagers) {
          const held = await client.alerts();
          if (held.some((alert) => alert.labels.alertname === alertNames.instanceDown)) return undefined;
        }
        return true;
      },
      readinessTimeoutMs,
    );
    await first.expireSilence(silenceId);
  });

  it("4. a replica restarted while an alert fires does not send again what the cluster sent", async function () {
    const { stack } = suite();
    const budgetMs = firingEmailBudgetMs(stack.settings, stack.settings.alerts.instanceDown.for);
    this.timeout(
      mochaTimeoutMs(
        budgetMs,
        readinessTimeoutMs,
        readinessTimeoutMs,
        quietMs(stack),
        readinessTimeoutMs,
        resolvedEmailBudgetMs(stack.settings),
      ),
    );

    const killedAt = performance.now();
    await stack.killApp();
    await waitForNotification(stack, alertNames.instanceDown, "firing", killedAt, budgetMs);
    for (const replica of stack.alertmanagers.keys()) {
      const held = (await stack.alertmanagers[1 - replica]?.alerts()) ?? [];
      await stack.stopAlertmanager(replica);
      await stack.startAlertmanager(replica);
      await waitForCluster(stack);
      // What Prometheus re-sends within its resend delay, handed over now: the restarted replica holds the
      // alert again at once, and its notification log (from disk and from its peer) says it was sent.
      await stack.alertmanagers[replica]?.postAlerts(
        held.filter((alert) => alert.labels.alertname === alertNames.instanceDown),
      );
    }
    await sleep(quietMs(stack));
    expect(
      instanceDownEmails(stack, "firing", killedAt),
      "firing e-mails across two restarts",
    ).to.have.length(1);
    await recover(stack);
  });
});
