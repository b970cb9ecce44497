import { expect } from "chai";
import { dockerTestEndpoints } from "../../test-support/promtool";
import { settingsProblems } from "../../test-support/settings";
import { builtInAlerts } from "../prometheus/built-in-alerts";
import { alertRules, expectedContainerRecords } from "../prometheus/rules";
import { loadSettings } from "../validate";

const db = { name: "db-1", address: { nodeExporter: "10.0.0.5:9100" } };

describe("hosts settings", () => {
  it("default to none", () => {
    expect(loadSettings({}).settings.hosts).to.deep.equal([]);
  });

  it("accept a machine by its node exporter's address, with cAdvisor's or without, overriding no alert", () => {
    const hosts = [db, { name: "web-1", address: { nodeExporter: "web-1:9100", cadvisor: "web-1:8080" } }];
    expect(loadSettings({ hosts }).settings.hosts).to.deep.equal(
      hosts.map((host) => ({ ...host, alerts: {} })),
    );
  });

  it("take overrides of the host and container alerts per machine, naming the key of a wrong one", () => {
    const overrides = { hostMemoryLow: { minAvailableRatio: 0.2 }, containerRestarting: { for: "1m" } };
    const { settings } = loadSettings({ host: { alerts: overrides }, hosts: [{ ...db, alerts: overrides }] });
    expect(settings.host.alerts).to.deep.equal(overrides);
    expect(settings.hosts[0]?.alerts).to.deep.equal(overrides);
    expect(
      settingsProblems({
        host: { alerts: { hostCpuSaturated: { maxRatio: 2 } } },
        hosts: [db, { ...db, name: "db-2", alerts: { hostMemoryLow: { minAvailableRatio: "low" } } }],
      }),
    ).to.deep.equal([
      "host.alerts.hostCpuSaturated.maxRatio: Too big: expected number to be <1 (got 2)",
      'hosts[1].alerts.hostMemoryLow.minAvailableRatio: Invalid input: expected number, received string (got "low")',
    ]);
    const [unknownKey] = settingsProblems({
      hosts: [{ ...db, alerts: { hostMemoryLow: { threshold: 0.2 } } }],
    });
    expect(unknownKey).to.match(
      /^hosts\[0\]\.alerts\.hostMemoryLow\.threshold: unknown setting; hosts\[0\]\.alerts\.hostMemoryLow accepts enabled, severity, minAvailableRatio, for$/,
    );
    // Only the alerts on machines: a probe alert or a per-job alert is not a machine's to override.
    expect(settingsProblems({ host: { alerts: { probeFailed: { for: "1m" } } } })[0]).to.match(
      /^host\.alerts\.probeFailed: unknown setting; host\.alerts accepts hostDiskFillingUp, /,
    );
  });

  it("give a machine that overrides an alert a rule of its own, labelled with its host, kept out of the shared rule", () => {
    const rulesOf = (input: object, name: string) =>
      alertRules(loadSettings(input).settings)
        .filter((rule) => rule.name === name)
        .map((rule) => [rule.expr, rule.for, rule.labels]);
    const hosts = [
      { ...db, alerts: { hostMemoryLow: { minAvailableRatio: 0.2, severity: "critical" } } },
      { ...db, name: "web.1", alerts: { hostMemoryLow: { enabled: false } } },
      { ...db, name: "app-1" },
    ];
    const memory = (selector: string) =>
      `node_memory_MemAvailable_bytes{${selector}} / node_memory_MemTotal_bytes{${selector}}`;
    expect(rulesOf({ hosts }, "HostMemoryLow")).to.deep.equal([
      [`${memory('job="node",host!~"db-1|web\\\\.1"')} < 0.1`, "5m", { severity: "warning" }],
      [`${memory('job="node",host="db-1"')} < 0.2`, "5m", { severity: "critical", host: "db-1" }],
    ]);
    // The stack's own host overrides by host.alerts, and a machine enables what is off for the stack.
    expect(
      rulesOf(
        {
          host: { alerts: { hostExporterDown: { enabled: true, for: "5m" } } },
          hosts: [{ ...db, alerts: { hostExporterDown: { enabled: true } } }],
          alerts: { hostExporterDown: { enabled: false } },
        },
        "HostExporterDown",
      ),
    ).to.deep.equal([
      ['up{job="node",host="local"} == 0', "5m", { severity: "warning", host: "local" }],
      ['up{job="node",host!~"local"} == 0', "1m", { severity: "warning" }],
    ]);
    // Without overrides, one rule watches every machine.
    expect(rulesOf({ hosts }, "HostClockSkew")).to.deep.equal([
      ['abs(node_timex_offset_seconds{job="node"}) > 0.05', "10m", { severity: "warning" }],
    ]);
  });

  it("name the key of a malformed address, a bad name, a missing exporter or an unknown key", () => {
    expect(
      settingsProblems({ hosts: [{ name: "db-1", address: { nodeExporter: "10.0.0.5" } }] }),
    ).to.deep.equal([
      'hosts[0].address.nodeExporter: must be host:port, such as db-1.internal:9100 or 10.0.0.5:9100 (an IPv6 address in brackets) (got "10.0.0.5")',
    ]);
    expect(
      settingsProblems({ hosts: [{ ...db, address: { ...db.address, cadvisor: "db:99999" } }] }),
    ).to.deep.equal([
      'hosts[0].address.cadvisor: port 99999 is out of range; it must be from 1 to 65535 (got "db:99999")',
    ]);
    expect(settingsProblems({ hosts: [{ ...db, name: "db 1" }] })).to.deep.equal([
      `hosts[0].name: must be a host name: letters, digits, '.', '-' and '_' (got "db 1")`,
    ]);
    expect(settingsProblems({ hosts: [{ name: "db-1", address: {} }] })[0]).to.match(
      /^hosts\[0\]\.address\.nodeExporter: is required/,
    );
    expect(settingsProblems({ hosts: [{ ...db, exporters: "ssh://db-1" }] })[0]).to.match(
      /^hosts\[0\]\.exporters: unknown setting/,
    );
  });

  it("refuse two machines of one name, the stack's own host's included while it is watched", () => {
    expect(
      settingsProblems({ hosts: [db, { ...db, address: { nodeExporter: "10.0.0.6:9100" } }] }),
    ).to.deep.equal([
      'hosts[1].name: "db-1" is already the name of hosts[0]; every host name must be distinct',
    ]);
    expect(settingsProblems({ hosts: [{ ...db, name: "local" }] })).to.deep.equal([
      `hosts[0].name: "local" is already the name of the stack's own host (host.name); every host name must be distinct`,
    ]);
    expect(settingsProblems({ host: { enabled: false }, hosts: [{ ...db, name: "local" }] })).to.deep.equal(
      [],
    );
  });

  it("keep the host alerts, and the container alerts with a cAdvisor, without the stack's own host", () => {
    const names = (input: object) => builtInAlerts(loadSettings(input).settings).map((alert) => alert.name);
    const own = { host: { enabled: false } };
    expect(names(own)).to.not.include("HostMemoryLow");
    expect(names({ ...own, hosts: [db] }))
      .to.include("HostMemoryLow")
      .and.not.include("ContainerOomKilled");
    expect(
      names({ ...own, hosts: [{ ...db, address: { ...db.address, cadvisor: "10.0.0.5:8080" } }] }),
    ).to.include("ContainerOomKilled");
  });

  it("make ContainerMissing only while cAdvisor runs on the stack's own host, expecting each of its containers", () => {
    const made = (input: object) => {
      const { settings } = loadSettings(input);
      return {
        alerts: builtInAlerts(settings).filter((alert) => alert.name === "ContainerMissing"),
        expected: expectedContainerRecords(settings, dockerTestEndpoints(settings)).map(
          (record) => record.labels,
        ),
      };
    };
    const { alerts, expected } = made({});
    expect(alerts.map((alert) => alert.expr)).to.deep.equal([
      '(watchtower:stack_container_expected{job="cadvisor",host="local"} unless on(host, name) container_start_time_seconds{job="cadvisor",host="local"}) and on(host) (up{job="cadvisor",host="local"} == 1)',
    ]);
    expect(expected.map((labels) => labels.name)).to.deep.equal(
      dockerTestEndpoints(loadSettings({}).settings).containers,
    );
    expect(expected[0]).to.deep.equal({ job: "cadvisor", host: "local", name: "watchtower-test-app" });
    // Other machines run none of the stack's containers: theirs are not its to expect, nor to override.
    const elsewhere = { hosts: [{ ...db, address: { ...db.address, cadvisor: "10.0.0.5:8080" } }] };
    for (const input of [
      { ...elsewhere, host: { containers: false } },
      { ...elsewhere, host: { enabled: false } },
      { alerts: { containerMissing: { enabled: false } } },
    ]) {
      expect(made(input), JSON.stringify(input)).to.deep.equal({ alerts: [], expected: [] });
    }
    expect(settingsProblems({ hosts: [{ ...db, alerts: { containerMissing: { for: "1m" } } }] })[0]).to.match(
      /^hosts\[0\]\.alerts\.containerMissing: unknown setting/,
    );
  });

  it("refuse a ContainerRestarting window that cannot show more than maxRestarts starts, naming both keys", () => {
    expect(
      settingsProblems({ alerts: { containerRestarting: { window: "20s", maxRestarts: 3 } } }),
    ).to.deep.equal([
      "alerts.containerRestarting.window: 20s holds 4 scrapes of cAdvisor, in which at most 3 starts can show; it must hold at least maxRestarts + 2 (5) for the alert to fire",
    ]);
    expect(
      settingsProblems({ alerts: { containerRestarting: { window: "25s", maxRestarts: 3 } } }),
    ).to.deep.equal([]);
    expect(
      settingsProblems({
        alerts: { containerRestarting: { enabled: false, window: "20s", maxRestarts: 3 } },
      }),
    ).to.deep.equal([]);
  });

  it("keep the job names node and cadvisor for the stack while any machine is watched", () => {
    const target = (job: string) => ({ job, addresses: ["10.0.0.9:9100"] });
    const elsewhere = { host: { enabled: false }, hosts: [db] };
    expect(settingsProblems({ ...elsewhere, targets: [target("node")] })[0]).to.match(
      /^targets\[0\]\.job: "node" is a name of the stack itself/,
    );
    expect(settingsProblems({ ...elsewhere, targets: [target("cadvisor")] })).to.deep.equal([]);
  });
});
