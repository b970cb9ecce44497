import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { repositoryRoot } from "../../infra/repository";
import { loadtestPlan } from "../loadtest/plan";
import { alertNames } from "../settings/alert-specs";
import { loadSettings } from "../validate";
import {
  alertFiringTiming,
  alertTimingTableMarkdown,
  firingEmailTiming,
  resolvedEmailTiming,
} from "./alert-timing";

const settings = loadSettings({
  scrape: { interval: "5s", timeout: "4s", evaluationInterval: "10s" },
  alertmanager: { groupWait: "20s", groupInterval: "3m" },
}).settings;

describe("the timing model", () => {
  it("names every term of the latest firing e-mail, and gives for + group wait as the earliest", () => {
    const timing = firingEmailTiming(settings, { for: "30s", window: "2m" });
    expect(timing.terms.map((term) => [term.name, term.ms])).to.deep.equal([
      ["window", 120_000],
      ["scrape", 5_000],
      ["scrape in flight", 5_000],
      ["evaluation", 10_000],
      ["for", 30_000],
      ["evaluation rounding `for`", 10_000],
      ["group wait", 20_000],
    ]);
    expect(timing.latestMs).to.equal(200_000);
    expect(timing.earliestMs).to.equal(50_000);
  });

  it("drops the scrapes and the window when counted from samples that already show the change", () => {
    const timing = firingEmailTiming(settings, { for: "30s", window: "2m" }, "stored samples");
    expect(timing.terms.map((term) => term.name)).to.deep.equal([
      "evaluation",
      "for",
      "evaluation rounding `for`",
      "group wait",
    ]);
    expect(resolvedEmailTiming(settings, { for: "30s" }, "stored samples").latestMs).to.equal(
      10_000 + 180_000,
    );
  });

  it("is what the load test holds its spike and cool-down for", () => {
    const plan = loadtestPlan(settings);
    const { highRequestVolume } = settings.alerts;
    expect(plan.alertFiresWithinMs).to.equal(alertFiringTiming(settings, highRequestVolume).latestMs);
    expect(plan.phases.spike.durationMs).to.equal(firingEmailTiming(settings, highRequestVolume).latestMs);
    expect(plan.phases.cooldown.durationMs).to.equal(
      resolvedEmailTiming(settings, highRequestVolume).latestMs,
    );
  });

  it("is the alerts page's table for the default settings", () => {
    const table = alertTimingTableMarkdown(loadSettings({}).settings);
    // With two Alertmanager replicas, one down adds one peer timeout (15 s) to the latest firing e-mail.
    expect(table).to.include(
      `| ${alertNames.instanceDown} | 25 s to 45 s | at most 1 min | at most 1 min 15 s |`,
    );
    expect(table).not.to.include(alertNames.watchdog);
    expect(readFileSync(join(repositoryRoot, "docs", "alerts.md"), "utf8")).to.include(table);
  });
});
