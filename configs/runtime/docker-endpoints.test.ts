import { expect } from "chai";
import { otherServices } from "../../test-support/settings";
import { jobs, replicaName } from "../names";
import { loadSettings } from "../validate";
import {
  containerPorts,
  dockerAliases,
  dockerEndpoints,
  prometheusHostPort,
  publishedUrl,
  stackPrefix,
} from "./docker-endpoints";

const prefix = stackPrefix("watchtower", "test");

describe("dockerEndpoints", () => {
  it("addresses every service by its container alias and in-container port", () => {
    const { settings } = loadSettings({ prometheus: { replicas: 3 } });
    const endpoints = dockerEndpoints(settings, prefix);
    expect(endpoints.app).to.equal(`${jobs.app}:${containerPorts.app}`);
    expect(endpoints.prometheus).to.deep.equal(
      [0, 1, 2].map((i) => `${replicaName(i)}:${containerPorts.prometheus}`),
    );
    expect(endpoints.alertmanagers).to.deep.equal([
      `${jobs.alertmanager}:${containerPorts.alertmanager}`,
      `${jobs.alertmanager}-1:${containerPorts.alertmanager}`,
    ]);
    expect(endpoints.alertmanagerCluster).to.deep.equal([
      `${jobs.alertmanager}:${containerPorts.alertmanagerCluster}`,
      `${jobs.alertmanager}-1:${containerPorts.alertmanagerCluster}`,
    ]);
    expect(endpoints.inboxSmtp).to.equal(`${dockerAliases.mailpit}:${containerPorts.mailpitSmtp}`);
  });

  it("names the stack's long-running containers as the plan runs them, prefixed by project and stack", () => {
    expect(dockerEndpoints(loadSettings({}).settings, prefix).containers).to.deep.equal(
      [
        "app",
        "mailpit",
        "node-exporter",
        "cadvisor",
        "alertmanager",
        "alertmanager-1",
        "prometheus-0",
        "prometheus-1",
        "grafana",
      ].map((key) => `watchtower-test-${key}`),
    );
    expect(dockerEndpoints(loadSettings(otherServices).settings, "w-s").containers).to.deep.equal([
      "w-s-billing",
      "w-s-node-exporter",
      "w-s-blackbox-exporter",
      "w-s-alertmanager",
      "w-s-alertmanager-1",
      "w-s-prometheus-0",
      "w-s-grafana",
    ]);
  });

  it("links to the published ports on the bind address", () => {
    const { settings } = loadSettings({ ports: { prometheus: 19090, grafana: 13000, alertmanager: 19093 } });
    expect(dockerEndpoints(settings, prefix).links).to.deep.equal({
      grafana: "http://127.0.0.1:13000",
      prometheus: ["http://127.0.0.1:19090", "http://127.0.0.1:19091"],
      alertmanagers: ["http://127.0.0.1:19093", "http://127.0.0.1:19094"],
    });
  });

  it("publishes replica i on ports.prometheus + i", () => {
    const { settings } = loadSettings({ ports: { prometheus: 29090 }, prometheus: { replicas: 3 } });
    expect([0, 1, 2].map((replica) => prometheusHostPort(settings, replica))).to.deep.equal([
      29090, 29091, 29092,
    ]);
  });

  it("does not depend on host ports for anything but links", () => {
    const base = dockerEndpoints(loadSettings({}).settings, prefix);
    const moved = dockerEndpoints(
      loadSettings({ ports: { app: 15002, prometheus: 19090 } }).settings,
      prefix,
    );
    expect({ ...moved, links: base.links }).to.deep.equal(base);
  });

  for (const [bindAddress, url] of [
    ["0.0.0.0", "http://localhost:3000"],
    ["::", "http://localhost:3000"],
    ["192.168.1.20", "http://192.168.1.20:3000"],
    ["::1", "http://[::1]:3000"],
  ] as const) {
    it(`opens ports bound to ${bindAddress} at ${url}`, () => {
      const { settings } = loadSettings({ network: { bindAddress } });
      expect(publishedUrl(settings, settings.ports.grafana)).to.equal(url);
    });
  }
});
