import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { parse } from "yaml";
import { requireBinaries } from "../../test-support/binaries";
import { makeTempDir } from "../../test-support/cleanup";
import { runTool } from "../../test-support/promtool";
import { loadSettings } from "../validate";
import { renderBlackboxConfig } from "./config";

const { settings } = loadSettings({
  probes: [
    { name: "site", http: { url: "https://example.com/", bodyMatches: "Example (Domain)?" } },
    {
      name: "api",
      http: { url: "http://api.internal:8080/healthz", expectedStatus: [200, 204], timeout: "2s" },
    },
    { name: "db", tcp: { address: "db.internal:5432", timeout: "3s" } },
  ],
});

describe("renderBlackboxConfig", () => {
  it("makes one module per probe, named after it, with its own status, timeout and body match", () => {
    const { modules } = parse(renderBlackboxConfig(settings)) as { modules: Record<string, unknown> };
    const ip = { preferred_ip_protocol: "ip4", ip_protocol_fallback: true };
    expect(modules).to.deep.equal({
      site: {
        prober: "http",
        timeout: "5s",
        http: {
          method: "GET",
          valid_status_codes: [200],
          fail_if_body_not_matches_regexp: ["Example (Domain)?"],
          ...ip,
        },
      },
      api: { prober: "http", timeout: "2s", http: { method: "GET", valid_status_codes: [200, 204], ...ip } },
      db: { prober: "tcp", timeout: "3s", tcp: ip },
    });
  });

  it("is accepted by the pinned blackbox exporter (--config.check), and a broken module is not", async function () {
    // The check compiles every module: an unknown key or a regular expression RE2 refuses fails it.
    this.timeout(30_000);
    const { blackbox_exporter: binary } = requireBinaries(this, "blackbox_exporter");
    const dir = makeTempDir("blackbox-config-");
    try {
      const check = (text: string) => {
        writeFileSync(join(dir.path, "blackbox.yml"), text);
        return runTool(binary, ["--config.file=blackbox.yml", "--config.check"], dir.path);
      };
      const good = await check(renderBlackboxConfig(settings));
      expect(good.exitCode, good.output).to.equal(0);
      const breakages: [string, string][] = [
        ["method: GET", "methd: GET"],
        ["Example (Domain)?", "Example (?<!Domain)"],
      ];
      for (const [from, to] of breakages) {
        const broken = await check(renderBlackboxConfig(settings).replace(from, to));
        expect(broken.exitCode, `${to}: ${broken.output}`).not.to.equal(0);
      }
    } finally {
      dir.remove();
    }
  });
});
