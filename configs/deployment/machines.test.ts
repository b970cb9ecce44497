import { expect } from "chai";
import { parse } from "yaml";
import { stackInputs } from "../../infra/stack-inputs";
import { renderedPaths } from "../runtime/layout";
import { renderCompose, renderMachineCompose } from "./compose";
import { containerPaths, type ServicePlan } from "./plan";

const exporterTls = { certFile: "certs/db-1.pem", keyFile: "certs/db-1-key.pem", caFile: "certs/ca.pem" };
const hosts = [
  { name: "db-1", docker: { engine: "ssh://deploy@db-1.internal", exporterTls } },
  {
    name: "web-1",
    docker: {
      engine: "ssh://web-1.internal",
      exporterTls,
      cadvisor: { bindAddress: "10.0.0.6", port: 8081 },
    },
  },
];
const composeInputs = (plan: ReturnType<typeof stackInputs>["plan"]) => ({
  plan,
  repositoryRoot: "..",
  secrets: {
    grafanaAdminPassword: { environment: "WATCHTOWER_GRAFANA_ADMIN_PASSWORD" },
    smtpPassword: { environment: "WATCHTOWER_SMTP_PASSWORD" },
    hostExporterPassword: { file: `./${renderedPaths.hostExporterPassword}` },
  },
});

function onMachine(services: readonly ServicePlan[], machine: string): ServicePlan[] {
  return services.filter((service) => service.machine === machine);
}

describe("the deployment plan for hosts of the docker kind", () => {
  const { plan } = stackInputs({ hosts }, "watchtower", "test");

  it("plans each machine's engine and its exporters, and nothing else there", () => {
    expect(plan.machines.map((machine) => [machine.name, machine.engine])).to.deep.equal([
      ["db-1", "ssh://deploy@db-1.internal"],
      ["web-1", "ssh://web-1.internal"],
    ]);
    expect(onMachine(plan.services, "db-1").map((service) => service.key)).to.deep.equal([
      "db-1-node-exporter",
    ]);
    expect(onMachine(plan.services, "web-1").map((service) => service.key)).to.deep.equal([
      "web-1-node-exporter",
      "web-1-cadvisor",
    ]);
    const own = plan.services.filter((service) => service.machine === undefined);
    for (const service of own) {
      expect(
        service.after.filter((key) => key.startsWith("db-1-") || key.startsWith("web-1-")),
        service.key,
      ).to.deep.equal([]);
    }
  });

  it("publishes cAdvisor only on the private address, node exporter on every interface behind its web config", () => {
    const [nodeExporter, cadvisor] = onMachine(plan.services, "web-1");
    expect(nodeExporter?.ports).to.deep.equal([{ container: 9100, host: 9100, hostIp: "0.0.0.0" }]);
    expect(nodeExporter?.healthcheck).to.equal(undefined);
    expect(nodeExporter?.secrets.map(({ target, derived }) => [target, derived?.source])).to.deep.equal([
      [containerPaths.nodeExporterWebConfig, renderedPaths.machineExporters("web-1").webConfig],
    ]);
    expect(nodeExporter?.copies?.map(({ target, path, secret }) => [target, path, secret])).to.deep.equal([
      [containerPaths.nodeExporterTlsCert, exporterTls.certFile, false],
      [containerPaths.nodeExporterTlsKey, exporterTls.keyFile, true],
    ]);
    expect(cadvisor?.ports).to.deep.equal([{ container: 8080, host: 8081, hostIp: "10.0.0.6" }]);
  });

  it("hands every replica each machine's CA and the password, and no replica when no machine is of the docker kind", () => {
    for (const replica of plan.services.filter((service) => service.group !== undefined)) {
      expect(replica.copies?.map(({ source }) => source)).to.deep.equal([
        renderedPaths.hostExporterCa("db-1"),
        renderedPaths.hostExporterCa("web-1"),
      ]);
      expect(replica.secrets.map(({ secret }) => secret)).to.deep.equal(["hostExporterPassword"]);
    }
    expect(plan.secrets.hostExporterPassword).to.deep.equal({ kind: "generated", length: 32 });
    const plain = stackInputs({}, "watchtower", "test").plan;
    expect(plain.machines).to.deep.equal([]);
    expect(plain.secrets.hostExporterPassword).to.equal(undefined);
    expect(plain.services.flatMap((service) => service.copies ?? [])).to.deep.equal([]);
  });

  it("leaves the machines' exporters out of the stack's Compose file, and gives each machine a file of its own", () => {
    const inputs = composeInputs(plan);
    const stack = parse(renderCompose(inputs)) as { services: Record<string, Record<string, unknown>> };
    expect(
      Object.keys(stack.services).filter((key) => key.includes("db-1") || key.includes("web-1")),
    ).to.deep.equal([]);
    const folder = renderedPaths.machineExporters("web-1").dir;
    const machine = parse(renderMachineCompose(inputs, "web-1", folder)) as {
      name: string;
      services: Record<
        string,
        { networks?: unknown; volumes: { source: string; target: string }[]; read_only?: boolean }
      >;
    };
    expect(machine.name).to.equal("watchtower-test-exporters");
    expect(Object.keys(machine.services)).to.deep.equal(["node-exporter", "cadvisor"]);
    const nodeExporter = machine.services["node-exporter"];
    expect(nodeExporter?.networks).to.equal(undefined);
    expect(nodeExporter?.read_only).to.equal(true);
    expect(nodeExporter?.volumes.map(({ source, target }) => [source, target])).to.deep.equal([
      ["./tls/cert.pem", containerPaths.nodeExporterTlsCert],
      ["./tls/key.pem", containerPaths.nodeExporterTlsKey],
      ["./web-config.yml", containerPaths.nodeExporterWebConfig],
      ["/", "/host"],
    ]);
    expect(() => renderMachineCompose(inputs, "legacy", folder)).to.throw(
      "the plan runs nothing on the machine legacy",
    );
  });
});
