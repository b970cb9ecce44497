/**
 * The machines of `hosts[].docker` under Pulumi's mocks: each gets a Docker provider of its own, every resource
 * of its exporters is declared under it and through it, and the files it is handed are what the plan names,
 * credentials only as secrets.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import bcrypt from "bcryptjs";
import { expect } from "chai";
import { parse } from "yaml";
import { containerPaths } from "../configs/deployment/plan";
import { makeTempDir, type TempDir } from "../test-support/cleanup";
import {
  byType,
  collectStrings,
  mockGeneratedPassword,
  mockProject,
  mockStack,
  type RecordedResource,
  resource,
  runStack,
  type StackRun,
  uploadedFiles,
} from "../test-support/pulumi-mocks";

const providerType = "pulumi:providers:docker";
const machineType = "watchtower:index:WatchedMachine";
const containerType = "docker:index/container:Container";

/** The resource names up the parent chain, from the resource to the root. */
function ancestors(run: StackRun, declared: RecordedResource): string[] {
  const chain: string[] = [];
  let parent = declared.parent;
  while (parent !== undefined && run.resources.has(parent)) {
    chain.push(parent);
    parent = resource(run, parent).parent;
  }
  return chain;
}

describe("the Pulumi program with hosts of the docker kind, under mocks", function () {
  this.timeout(60_000);
  let dir: TempDir;
  const file = (name: string, content: string) => {
    fs.writeFileSync(path.join(dir.path, name), content);
    return path.join(dir.path, name);
  };
  let hosts: unknown[];

  before(() => {
    dir = makeTempDir("machines-");
    const exporterTls = {
      certFile: file("db-cert.pem", "db-1 certificate"),
      keyFile: file("db-key.pem", "db-1 private key"),
      caFile: file("ca.pem", "the exporters' CA"),
    };
    hosts = [
      { name: "db-1", docker: { engine: "ssh://deploy@db-1.internal", exporterTls } },
      {
        name: "web-1",
        docker: {
          engine: "tcp://web-1.internal:2376",
          tls: {
            caFile: file("docker-ca.pem", "web-1 engine CA"),
            certFile: file("docker-cert.pem", "web-1 client certificate"),
            keyFile: file("docker-key.pem", "web-1 client key"),
          },
          exporterTls,
          cadvisor: { bindAddress: "10.0.0.6" },
        },
      },
      { name: "legacy", address: { nodeExporter: "legacy.internal:9100" } },
    ];
  });
  after(() => dir.remove());

  it("gives each machine its own Docker provider, with the engine's TLS key only as a secret", async () => {
    const run = await runStack({ hosts });
    const providers = byType(run, providerType);
    expect(providers.map((provider) => [provider.name, provider.inputs.host])).to.deep.equal([
      ["monitoring-host-db-1-docker", "ssh://deploy@db-1.internal"],
      ["monitoring-host-web-1-docker", "tcp://web-1.internal:2376"],
    ]);
    expect(byType(run, machineType).map((machine) => machine.name)).to.deep.equal([
      "monitoring-host-db-1",
      "monitoring-host-web-1",
    ]);
    const web = resource(run, "monitoring-host-web-1-docker");
    expect(web.inputs.caMaterial).to.equal("web-1 engine CA");
    expect(web.inputs.certMaterial).to.equal("web-1 client certificate");
    expect(collectStrings(web.inputs).plain).not.to.include("web-1 client key");
    expect(collectStrings(web.inputs).secret).to.include("web-1 client key");
  });

  it("declares each machine's exporters under it and through its provider, the stack's own through the default", async () => {
    const run = await runStack({ hosts });
    const onMachine = (machine: string) =>
      [...run.resources.values()].filter((declared) =>
        ancestors(run, declared).includes(`monitoring-host-${machine}`),
      );
    const customOf = (machine: string) =>
      onMachine(machine).filter((declared) => declared.type.startsWith("docker:"));
    expect(
      customOf("db-1")
        .map((declared) => declared.type)
        .sort(),
    ).to.deep.equal([containerType, "docker:index/remoteImage:RemoteImage"]);
    expect(customOf("web-1").filter((declared) => declared.type === containerType)).to.have.length(2);
    for (const machine of ["db-1", "web-1"]) {
      const provider = resource(run, `monitoring-host-${machine}-docker`);
      for (const declared of customOf(machine)) {
        expect(declared.provider, declared.name).to.match(
          new RegExp(`::${provider.name}::${provider.name}-id$`),
        );
      }
    }
    const own = resource(run, "monitoring-node-exporter-container");
    expect(own.provider ?? "").not.to.include("monitoring-host-");
  });

  it("runs node exporter there behind TLS and the replicas' password, published on every interface", async () => {
    const run = await runStack({ hosts });
    const [container] = byType(run, containerType).filter((declared) =>
      ancestors(run, declared).includes("monitoring-host-db-1"),
    );
    if (container === undefined) throw new Error("no container on db-1");
    expect(container.inputs.networksAdvanced).to.equal(undefined);
    expect(container.inputs.ports).to.deep.equal([
      { internal: 9100, external: 9100, ip: "0.0.0.0", protocol: "tcp" },
    ]);
    expect(container.inputs.command).to.include(`--web.config.file=${containerPaths.nodeExporterWebConfig}`);
    const files = uploadedFiles(container);
    expect(files[containerPaths.nodeExporterTlsCert]).to.equal("db-1 certificate");
    expect(files[containerPaths.nodeExporterTlsKey]).to.equal("db-1 private key");
    const webConfig = parse(files[containerPaths.nodeExporterWebConfig] ?? "") as {
      tls_server_config: { cert_file: string; key_file: string };
      basic_auth_users: Record<string, string>;
    };
    expect(webConfig.tls_server_config).to.deep.equal({
      cert_file: containerPaths.nodeExporterTlsCert,
      key_file: containerPaths.nodeExporterTlsKey,
    });
    // The password is the one the stack generates, which every replica is handed.
    const password = mockGeneratedPassword("monitoring-prometheus-host-exporter-password");
    expect(bcrypt.compareSync(password, webConfig.basic_auth_users.prometheus ?? "")).to.equal(true);
    const replica = uploadedFiles(resource(run, "monitoring-prometheus-0"));
    expect(replica["/etc/prometheus/secrets/host_exporter_password"]).to.equal(password);
    expect(replica["/etc/prometheus/hosts/db-1/ca.pem"]).to.equal("the exporters' CA");
    for (const declared of run.resources.values()) {
      const { plain } = collectStrings(declared.inputs);
      expect(
        plain.filter((text) => text.includes("private key") || text.includes(password)),
        declared.name,
      ).to.deep.equal([]);
    }
  });

  it("stops before any resource, naming every setting whose file cannot be read", async () => {
    const registered: string[] = [];
    const missing = path.join(dir.path, "missing.pem");
    const [db] = hosts as { name: string; docker: { exporterTls: object } }[];
    const broken = [
      { ...db, docker: { ...db?.docker, exporterTls: { ...db?.docker.exporterTls, keyFile: missing } } },
    ];
    const failure = await runStack({ hosts: broken }, [], registered).catch((error: unknown) => error);
    expect(pulumi.RunError.isInstance(failure)).to.equal(true);
    expect((failure as Error).message).to.include(
      `hosts[0].docker.exporterTls.keyFile: cannot read ${missing}`,
    );
    expect(
      registered.filter((entry) => entry !== `pulumi:pulumi:Stack ${mockProject}-${mockStack}`),
    ).to.deep.equal([]);
  });
});
