/**
 * End to end, the failure paths: the service dies, a Prometheus replica dies, the mail server is down, and
 * Alertmanager restarts. Each scenario causes the fault, waits for the e-mail within its budget, undoes the
 * fault and waits for the resolution, so that the next scenario starts from a healthy stack.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "chai";
import { jobs } from "../configs/names";
import { alertNames } from "../configs/settings/alert-specs";
import { durationMs } from "../configs/settings/duration";
import { stopGraceMs } from "../test-support/processes";
import { seconds } from "../test-support/wait";
import {
  afterAlertmanagerRestartBudgetMs,
  firingEmailBudgetMs,
  formatMeasurement,
  marginMs,
  mochaTimeoutMs,
  redeliveryBudgetMs,
  resolvedEmailBudgetMs,
  targetsUpTimeoutMs,
} from "./budgets";
import { bodyField, notificationOf, parseSubject, waitForNotification } from "./notifications";
import { readinessTimeoutMs, type Stack } from "./stack";
import { useStack } from "./suite";
import { e2eSettings } from "./test-settings";

/**
 * Alertmanager's count of failed delivery attempts, retries included; `alertmanager_notifications_failed_total`
 * counts a notification only once its retries have run out.
 */
const failedDeliveryAttempts = "alertmanager_notification_requests_failed_total";
const emailIntegration = { integration: "email" };

describe("end to end: alerts survive faults of the service, Prometheus, the inbox and Alertmanager", () => {
  const suite = useStack(e2eSettings, { withK6: false });

  before(async function () {
    this.timeout(mochaTimeoutMs(targetsUpTimeoutMs));
    await suite().stack.waitForAllTargetsUp(targetsUpTimeoutMs);
  });

  it("3. kill the service: InstanceDown arrives within its budget; start it again: resolved", async function () {
    const { stack } = suite();
    const budgetMs = firingEmailBudgetMs(stack.settings, stack.settings.alerts.instanceDown.for);
    this.timeout(mochaTimeoutMs(budgetMs, ...restartStepsMs(stack)));

    const killedAt = performance.now();
    await stack.killApp();
    const firing = await waitForNotification(stack, alertNames.instanceDown, "firing", killedAt, budgetMs);
    stack.log(
      formatMeasurement("InstanceDown e-mail after the kill", firing.receivedAt - killedAt, budgetMs),
    );
    expect(parseSubject(firing.subject)).to.include({
      job: jobs.app,
      severity: stack.settings.alerts.instanceDown.severity,
    });
    expect(bodyField(firing, "Labels"), "the dead instance in the body").to.include(stack.endpoints.app);

    await restartAndWaitForResolution(stack, alertNames.instanceDown, () => stack.startApp());
  });

  it("4. kill one Prometheus replica: the other sends PrometheusDown", async function () {
    const { stack } = suite();
    const budgetMs = firingEmailBudgetMs(stack.settings, stack.settings.alerts.prometheusDown.for);
    this.timeout(mochaTimeoutMs(budgetMs, ...restartStepsMs(stack)));
    const victim = stack.endpoints.prometheus.length - 1;
    const victimAddress = stack.endpoints.prometheus[victim] ?? "";

    const killedAt = performance.now();
    await stack.killPrometheus(victim);
    const firing = await waitForNotification(stack, alertNames.prometheusDown, "firing", killedAt, budgetMs);
    stack.log(
      formatMeasurement("PrometheusDown e-mail after the kill", firing.receivedAt - killedAt, budgetMs),
    );
    expect(parseSubject(firing.subject)).to.include({ job: jobs.prometheus });
    expect(bodyField(firing, "Labels"), "the dead replica in the body").to.include(victimAddress);

    await restartAndWaitForResolution(stack, alertNames.prometheusDown, () => stack.startPrometheus(victim));
  });

  it("5. the inbox is down while InstanceDown fires: once it is back, the e-mail still arrives", async function () {
    const { stack } = suite();
    const { inbox, alertmanager } = stack;
    const firstAttemptBudgetMs = firingEmailBudgetMs(stack.settings, stack.settings.alerts.instanceDown.for);
    const redeliveryMs = redeliveryBudgetMs(stack.settings);
    this.timeout(mochaTimeoutMs(firstAttemptBudgetMs, redeliveryMs, ...restartStepsMs(stack)));

    await inbox.stop();
    const failedBefore = await alertmanager.metricSum(failedDeliveryAttempts, emailIntegration);
    const killedAt = performance.now();
    await stack.killApp();
    const firstFailure = await stack.waitFor(
      "Alertmanager's first attempt to deliver the e-mail to fail",
      async () => {
        const failed = await alertmanager.metricSum(failedDeliveryAttempts, emailIntegration);
        return failed > failedBefore ? failed : undefined;
      },
      firstAttemptBudgetMs,
    );
    stack.log(
      `      first delivery attempt failed ${seconds(firstFailure.elapsedMs)} after the kill; starting the inbox`,
    );

    const restartedAt = performance.now();
    await inbox.start();
    const delivered = await waitForNotification(
      stack,
      alertNames.instanceDown,
      "firing",
      killedAt,
      redeliveryMs,
    );
    stack.log(
      formatMeasurement(
        "InstanceDown e-mail after the inbox came back",
        delivered.receivedAt - restartedAt,
        redeliveryMs,
      ),
    );

    await restartAndWaitForResolution(stack, alertNames.instanceDown, () => stack.startApp());
    expect(
      inbox.received(notificationOf(alertNames.instanceDown, "firing"), killedAt),
      "firing e-mails",
    ).to.have.length(1);
  });

  it("6. the whole Alertmanager cluster restarts while alerts fire: the pending notification is delivered, the sent one is not repeated", async function () {
    const { stack } = suite();
    const { settings, inbox } = stack;
    const instanceDownBudgetMs = firingEmailBudgetMs(settings, settings.alerts.instanceDown.for);
    const groupIntervalMs = durationMs(settings.alertmanager.groupInterval);
    // After the restart Alertmanager knows no alert until Prometheus re-sends them, at most a resend delay later.
    const afterRestartBudgetMs = afterAlertmanagerRestartBudgetMs(settings);
    const prometheusDownBudgetMs = firingEmailBudgetMs(settings, settings.alerts.prometheusDown.for);
    const noRepeatMs = durationMs(settings.alertmanager.groupWait) + groupIntervalMs + marginMs;
    this.timeout(
      mochaTimeoutMs(
        instanceDownBudgetMs,
        stopGraceMs,
        prometheusDownBudgetMs,
        readinessTimeoutMs,
        afterRestartBudgetMs,
        afterRestartBudgetMs,
        noRepeatMs,
        ...restartStepsMs(stack),
        ...restartStepsMs(stack),
      ),
    );

    // InstanceDown fires and its e-mail goes out before the restart.
    const killedAt = performance.now();
    await stack.killApp();
    await waitForNotification(stack, alertNames.instanceDown, "firing", killedAt, instanceDownBudgetMs);

    // PrometheusDown starts firing while every Alertmanager replica is down: Prometheus cannot hand it over.
    const replicas = [...stack.alertmanagers.keys()];
    await Promise.all(replicas.map((replica) => stack.stopAlertmanager(replica)));
    const victim = stack.endpoints.prometheus.length - 1;
    const survivor = stack.prometheus[0];
    if (!survivor || victim === 0) throw new Error("scenario 6 needs two Prometheus replicas");
    await stack.killPrometheus(victim);
    await stack.waitFor(
      `${alertNames.prometheusDown} firing on the surviving replica`,
      async () =>
        (await survivor.alerts()).some(
          (alert) => alert.labels.alertname === alertNames.prometheusDown && alert.state === "firing",
        )
          ? true
          : undefined,
      prometheusDownBudgetMs,
    );
    const restartedAt = performance.now();
    await Promise.all(replicas.map((replica) => stack.startAlertmanager(replica)));

    const delivered = await waitForNotification(
      stack,
      alertNames.prometheusDown,
      "firing",
      restartedAt,
      afterRestartBudgetMs,
    );
    stack.log(
      formatMeasurement(
        "PrometheusDown e-mail after Alertmanager restarted",
        delivered.receivedAt - restartedAt,
        afterRestartBudgetMs,
      ),
    );

    // By now Prometheus has re-sent InstanceDown too (same resend delay); its notification is in the log that
    // each replica kept on disk, so no second e-mail may follow, not even after another group interval.
    await stack.waitFor(
      `Alertmanager to hold ${alertNames.instanceDown} again`,
      async () =>
        (await stack.alertmanager.alerts()).some(
          (alert) => alert.labels.alertname === alertNames.instanceDown,
        )
          ? true
          : undefined,
      afterRestartBudgetMs,
    );
    await sleep(noRepeatMs);
    expect(
      inbox.received(notificationOf(alertNames.instanceDown, "firing"), killedAt),
      "InstanceDown e-mails",
    ).to.have.length(1);
    expect(
      inbox.received(notificationOf(alertNames.prometheusDown, "firing"), killedAt),
      "PrometheusDown e-mails",
    ).to.have.length(1);

    await restartAndWaitForResolution(stack, alertNames.instanceDown, () => stack.startApp());
    await restartAndWaitForResolution(stack, alertNames.prometheusDown, () => stack.startPrometheus(victim));
  });
});

/** The waits of `restartAndWaitForResolution`, for mocha timeouts. */
function restartStepsMs(stack: Stack): number[] {
  return [readinessTimeoutMs, resolvedEmailBudgetMs(stack.settings)];
}

/** Undoes a fault and waits for the resolved e-mail, so that the next scenario starts from a healthy stack. */
async function restartAndWaitForResolution(
  stack: Stack,
  alertname: string,
  restart: () => Promise<void>,
): Promise<void> {
  const restartedAt = performance.now();
  await restart();
  const readyAt = performance.now();
  const budgetMs = resolvedEmailBudgetMs(stack.settings);
  const resolved = await waitForNotification(
    stack,
    alertname,
    "resolved",
    restartedAt,
    readyAt - restartedAt + budgetMs,
  );
  stack.log(
    formatMeasurement(
      `${alertname} resolved e-mail after the restart`,
      resolved.receivedAt - readyAt,
      budgetMs,
    ),
  );
}
