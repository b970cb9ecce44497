import { expect } from "chai";
import { settingsProblems } from "../../test-support/settings";
import { loadSettings } from "../validate";
import { probeTarget } from "./probes";

describe("probes settings", () => {
  it("default to none", () => {
    expect(loadSettings({}).settings.probes).to.deep.equal([]);
  });

  it("apply an http probe's defaults: status 200, a 5s timeout, no body match", () => {
    const { settings } = loadSettings({ probes: [{ name: "site", http: { url: "https://example.com/" } }] });
    expect(settings.probes[0]?.http).to.deep.equal({
      url: "https://example.com/",
      expectedStatus: 200,
      timeout: "5s",
    });
    expect(settings.probes[0]?.alerts).to.deep.equal({});
    expect(probeTarget(settings.probes[0] ?? { name: "", alerts: {} })).to.equal("https://example.com/");
  });

  it("take a tcp probe, a list of statuses, a body match and per-probe alert overrides", () => {
    const { settings } = loadSettings({
      probes: [
        {
          name: "api",
          http: {
            url: "http://api.internal:8080/healthz",
            expectedStatus: [200, 204],
            bodyMatches: "ok|fine",
          },
          alerts: { probeSlow: { maxSeconds: 3 }, probeCertificateExpiring: { enabled: false } },
        },
        { name: "db", tcp: { address: "db.internal:5432", timeout: "2s" } },
      ],
    });
    expect(settings.probes.map(probeTarget)).to.deep.equal([
      "http://api.internal:8080/healthz",
      "db.internal:5432",
    ]);
    expect(settings.probes[0]?.alerts).to.deep.equal({
      probeSlow: { maxSeconds: 3 },
      probeCertificateExpiring: { enabled: false },
    });
  });

  it("refuse bad probes, each message naming its key", () => {
    expect(
      settingsProblems({
        probes: [
          { name: "site", http: { url: "https://example.com/" } },
          { name: "site", tcp: { address: "db.internal:5432" } },
        ],
      }),
    ).to.deep.equal([
      'probes[1].name: "site" is already the name of probes[0]; every probe name must be distinct',
    ]);
    const one = (probe: object) => settingsProblems({ probes: [{ name: "p", ...probe }] });
    expect(one({ http: { url: "ftp://example.com/" } })[0]).to.match(
      /^probes\[0\]\.http\.url: .*http:\/\/ or https:\/\//,
    );
    expect(one({ tcp: { address: "db.internal" } })[0]).to.match(
      /^probes\[0\]\.tcp\.address: .*must be host:port/,
    );
    expect(one({ tcp: { address: "db.internal:70000" } })[0]).to.match(
      /^probes\[0\]\.tcp\.address: port 70000/,
    );
    expect(one({})[0]).to.match(/^probes\[0\]: .*exactly one of http or tcp/);
    expect(one({ http: { url: "https://a.example/" }, tcp: { address: "a:1" } })[0]).to.match(
      /^probes\[0\]: .*exactly one of http or tcp/,
    );
    expect(one({ http: { url: "https://a.example/", timeout: "12s" } })[0]).to.match(
      /^probes\[0\]\.http\.timeout: .*at most 9\.5s/,
    );
    expect(one({ http: { url: "https://a.example/", bodyMatches: "(" } })[0]).to.match(
      /^probes\[0\]\.http\.bodyMatches: is not a regular expression Go accepts: error parsing regexp: missing closing \)/,
    );
    // JavaScript accepts lookaround and backreferences; Go's RE2, which the exporter compiles with, does not.
    expect(one({ http: { url: "https://a.example/", bodyMatches: "ok(?=!)" } })[0]).to.match(
      /^probes\[0\]\.http\.bodyMatches: is not a regular expression Go accepts: .*`\(\?=`/,
    );
    expect(one({ http: { url: "https://a.example/", bodyMatches: "(a)\\1" } })[0]).to.match(
      /^probes\[0\]\.http\.bodyMatches: is not a regular expression Go accepts: .*`\\1`/,
    );
    expect(one({ http: { url: "https://a.example/", bodyMatches: "(?P<status>ok|up)" } })).to.deep.equal([]);
    expect(one({ http: { url: "https://a.example/", expectedStatus: 99 } })[0]).to.match(
      /^probes\[0\]\.http\.expectedStatus/,
    );
    expect(settingsProblems({ probes: [{ name: "has space", tcp: { address: "a:1" } }] })[0]).to.match(
      /^probes\[0\]\.name: /,
    );
    expect(one({ tcp: { address: "a:1" }, alerts: { highLatency: { p95Seconds: 1 } } })[0]).to.match(
      /^probes\[0\]\.alerts/,
    );
    expect(one({ tcp: { address: "a:1" }, alerts: { probeSlow: { maxSeconds: -1 } } })[0]).to.match(
      /^probes\[0\]\.alerts\.probeSlow\.maxSeconds/,
    );
  });
});
