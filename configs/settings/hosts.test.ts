import { expect } from "chai";
import { settingsProblems } from "../../test-support/settings";
import { builtInAlerts } from "../prometheus/built-in-alerts";
import { loadSettings } from "../validate";

const db = { name: "db-1", address: { nodeExporter: "10.0.0.5:9100" } };

describe("hosts settings", () => {
  it("default to none", () => {
    expect(loadSettings({}).settings.hosts).to.deep.equal([]);
  });

  it("accept a machine by its node exporter's address, with cAdvisor's or without", () => {
    const hosts = [db, { name: "web-1", address: { nodeExporter: "web-1:9100", cadvisor: "web-1:8080" } }];
    expect(loadSettings({ hosts }).settings.hosts).to.deep.equal(hosts);
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
