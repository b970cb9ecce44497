import { expect } from "chai";
import { parse } from "yaml";
import { stackInputs } from "../../infra/stack-inputs";
import { renderedPaths } from "../runtime/layout";
import { renderCompose } from "./compose";
import type { ServicePlan } from "./plan";

const alertmanagers = (input: object) =>
  stackInputs(input, "watchtower", "test").plan.services.filter((service) =>
    service.key.startsWith("alertmanager"),
  );
const flags = (service: ServicePlan | undefined, name: string) =>
  (service?.command ?? [])
    .filter((arg) => arg.startsWith(`--${name}=`))
    .map((arg) => arg.slice(name.length + 3));

describe("the deployment plan's Alertmanager cluster", () => {
  it("runs two replicas by default, each gossiping with the other on the private network, never published", () => {
    const [first, second] = alertmanagers({});
    expect([first?.key, second?.key]).to.deep.equal(["alertmanager", "alertmanager-1"]);
    expect(flags(first, "cluster.listen-address")).to.deep.equal(["0.0.0.0:9094"]);
    expect(flags(first, "cluster.peer")).to.deep.equal(["alertmanager-1:9094"]);
    expect(flags(second, "cluster.peer")).to.deep.equal(["alertmanager:9094"]);
    expect(flags(second, "cluster.peer-timeout")).to.deep.equal(["15s"]);
    expect(first?.ports.map((port) => port.container)).to.deep.equal([9093]);
    expect(second?.ports.map((port) => [port.container, port.host])).to.deep.equal([[9093, 9094]]);
    expect(second?.volumes.map((volume) => volume.volume)).to.deep.equal(["alertmanager-1-data"]);
    // Replica 0 keeps a single Alertmanager's volume, and each replica starts after the one before it.
    expect(first?.volumes.map((volume) => volume.volume)).to.deep.equal(["alertmanager-data"]);
    expect(second?.after).to.include("alertmanager");
  });

  it("gossips with nothing, and waits for nobody, with one replica", () => {
    const [only, ...none] = alertmanagers({ alertmanager: { replicas: 1 } });
    expect(none).to.deep.equal([]);
    expect(flags(only, "cluster.listen-address")).to.deep.equal([""]);
    expect(flags(only, "cluster.peer")).to.deep.equal([]);
  });

  it("has every Prometheus replica send to, and scrape, every Alertmanager replica by its own address", () => {
    const { files } = stackInputs({ alertmanager: { replicas: 3 } }, "watchtower", "test");
    const config = parse(files[renderedPaths.prometheusConfig(0)] ?? "") as {
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const all = ["alertmanager:9093", "alertmanager-1:9093", "alertmanager-2:9093"];
    expect(
      config.alerting.alertmanagers.flatMap((am) => am.static_configs.flatMap((c) => c.targets)),
    ).to.deep.equal(all);
    expect(
      config.scrape_configs
        .find((job) => job.job_name === "alertmanager")
        ?.static_configs.flatMap((c) => c.targets),
    ).to.deep.equal(all);
  });

  it("gives the delivery check the first replica, and time for it to wait for the others", () => {
    const { plan } = stackInputs({ alertmanager: { replicas: 3, peerTimeout: "10s" } }, "watchtower", "test");
    expect(plan.deliveryCheck).to.deep.include({
      alertmanagerUrl: "http://127.0.0.1:9093",
      clusterWaitMs: 20_000,
    });
    expect(plan.access.alertmanagerUrls).to.deep.equal([
      "http://127.0.0.1:9093",
      "http://127.0.0.1:9094",
      "http://127.0.0.1:9095",
    ]);
  });

  it("starts each Compose replica once the one before it is healthy", () => {
    const { plan } = stackInputs({}, "watchtower", "test");
    const compose = parse(
      renderCompose({
        plan,
        repositoryRoot: "..",
        secrets: {
          grafanaAdminPassword: { environment: "G" },
          smtpPassword: { environment: "S" },
          hostExporterPassword: { environment: "H" },
        },
      }),
    ) as {
      services: Record<string, { depends_on?: Record<string, { condition: string }>; ports?: unknown[] }>;
    };
    expect(compose.services["alertmanager-1"]?.depends_on?.alertmanager).to.deep.equal({
      condition: "service_healthy",
    });
  });

  it("refuses more than five replicas, and a second replica's port taken by another service, naming the keys", () => {
    expect(() => stackInputs({ alertmanager: { replicas: 6 } }, "watchtower", "test")).to.throw(
      /alertmanager\.replicas/,
    );
    expect(() =>
      stackInputs(
        { alertmanager: { replicas: 2 }, ports: { alertmanager: 3999, grafana: 4000 } },
        "watchtower",
        "test",
      ),
    ).to.throw(/ports\.grafana: 4000 is already used by ports\.alertmanager \+ 1 \(Alertmanager replica 1\)/);
  });
});
