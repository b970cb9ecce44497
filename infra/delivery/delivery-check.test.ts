import { createServer, type Server } from "node:http";
import { expect } from "chai";
import { deliveryCheckTiming } from "../../configs/alertmanager/config";
import { annotationKeys, deliveryCheck } from "../../configs/names";
import { durationMs } from "../../configs/settings/duration";
import { freePort, loopback } from "../../test-support/ports";
import { deliveryCheckAlert, exitCodeOf, runDeliveryCheck } from "./check";
import { mailpitInbox } from "./inbox";
import { notifyErrors } from "./logs";

/** Serves one fixed JSON answer on loopback, as a stand-in for an HTTP API. */
async function serveJson(body: unknown): Promise<{ url: string; server: Server; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((request, response) => {
    paths.push(request.url ?? "");
    response.setHeader("content-type", "application/json");
    response.end(JSON.stringify(body));
  });
  const port = await freePort();
  await new Promise<void>((ready) => server.listen(port, loopback, ready));
  return { url: `http://${loopback}:${port}`, server, paths };
}

describe("the delivery check", () => {
  it("posts an info alert with its own name and id, that says it needs no action and ends within minutes", () => {
    const now = new Date("2026-12-01T12:00:00Z");
    const alert = deliveryCheckAlert("c0ffee", now);
    expect(alert.labels).to.deep.equal({
      alertname: deliveryCheck.alertname,
      severity: "info",
      [deliveryCheck.idLabel]: "c0ffee",
    });
    expect(alert.annotations[annotationKeys.summary])
      .to.match(/delivery check/i)
      .and.match(/no action/i);
    const lifetimeMs = Date.parse(alert.endsAt) - now.getTime();
    // Long enough for any check, shorter than the route's repeat_interval: never a second e-mail.
    expect(lifetimeMs).to.be.within(60_000, durationMs(deliveryCheckTiming.repeat_interval) - 1);
  });

  it("exits 2 naming the URL when Alertmanager cannot be reached", async () => {
    const url = `http://${loopback}:${await freePort()}`;
    const report = await runDeliveryCheck({ alertmanagerUrl: url, timeoutMs: 1000 });
    expect(report.outcome).to.equal("unreachable");
    expect(exitCodeOf(report)).to.equal(2);
    expect(report.message).to.match(new RegExp(`^cannot reach Alertmanager at ${url}: .*ECONNREFUSED`));
  });

  it("reads the SMTP errors Alertmanager logged for its own group only", () => {
    const group = (id: string) =>
      `aggrGroup="{}/{alertname=\\"DeliveryCheck\\",check_id=~\\".+\\"}:{check_id=\\"${id}\\"}"`;
    const log = [
      `time=2026-12-01T12:00:01Z level=WARN source=retry_stage.go:161 msg="Notify attempt failed, will retry later" component=dispatcher receiver=delivery-check integration=email[0] ${group("mine")} attempts=1 err="establish connection to server: dial tcp 127.0.0.1:2525: connect: connection refused"`,
      `time=2026-12-01T12:00:02Z level=WARN msg="Notify attempt failed, will retry later" ${group("other")} attempts=1 err="*smtp.plainAuth auth: 535 5.7.8 bad credentials"`,
      `time=2026-12-01T12:00:11Z level=ERROR source=dispatch.go:589 msg="Notify for alerts failed" component=dispatcher ${group("mine")} num_alerts=1 err="delivery-check/email[0]: notify retry canceled after 4 attempts: establish connection to server: dial tcp 127.0.0.1:2525: connect: connection refused"`,
      `time=2026-12-01T12:00:12Z level=INFO msg="Completed loading of configuration file" ${group("mine")}`,
    ].join("\n");
    expect(notifyErrors(log, "mine")).to.deep.equal([
      "establish connection to server: dial tcp 127.0.0.1:2525: connect: connection refused",
      "delivery-check/email[0]: notify retry canceled after 4 attempts: establish connection to server: dial tcp 127.0.0.1:2525: connect: connection refused",
    ]);
  });

  describe("Mailpit's API", () => {
    it("finds messages by a search term, with every recipient", async () => {
      const mailpit = await serveJson({
        total: 3,
        messages_count: 1,
        messages: [
          {
            ID: "a1",
            Subject: "[FIRING:1] DeliveryCheck (info): Delivery check",
            To: [{ Name: "", Address: "oncall@example.com" }],
            Cc: [{ Name: "Lead", Address: "lead@example.org" }],
            Bcc: null,
          },
        ],
      });
      try {
        const found = await mailpitInbox(`${mailpit.url}/`).messagesWith("3f2a-77");
        expect(found).to.deep.equal([
          {
            subject: "[FIRING:1] DeliveryCheck (info): Delivery check",
            recipients: ["oncall@example.com", "lead@example.org"],
          },
        ]);
        expect(mailpit.paths).to.deep.equal(["/api/v1/search?query=3f2a-77&limit=10"]);
      } finally {
        mailpit.server.close();
      }
    });

    it("says so when the URL answers, but not as Mailpit", async () => {
      const other = await serveJson({ status: "success" });
      try {
        await mailpitInbox(other.url)
          .messagesWith("x")
          .then(
            () => expect.fail("expected the search to be refused"),
            (error: Error) => expect(error.message).to.include(`is ${other.url} Mailpit?`),
          );
      } finally {
        other.server.close();
      }
    });
  });
});
