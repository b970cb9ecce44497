import { expect } from "chai";
import { parse } from "yaml";
import { settingsProblems } from "../../test-support/settings";
import { renderPrometheusConfig } from "../prometheus/config";
import { dockerEndpoints } from "../runtime/docker-endpoints";
import { renderedPaths } from "../runtime/layout";
import { loadSettings } from "../validate";
import { machineExporters } from "./hosts";

const exporterTls = { certFile: "certs/db-1.pem", keyFile: "certs/db-1-key.pem", caFile: "certs/ca.pem" };
const db = { name: "db-1", docker: { engine: "ssh://deploy@db-1.internal", exporterTls } };

describe("hosts settings, the docker kind", () => {
  it("accept a machine by its Docker engine, node exporter on 9100 and no cAdvisor by default", () => {
    const [host] = loadSettings({ hosts: [db] }).settings.hosts;
    if (host === undefined) throw new Error("no host loaded");
    expect(host.docker).to.deep.equal({ ...db.docker, nodeExporterPort: 9100 });
    expect(machineExporters(host)).to.deep.equal({ nodeExporter: "db-1.internal:9100" });
  });

  it("scrape at scrapeAddress when given, and cAdvisor only at its private address", () => {
    const [host] = loadSettings({
      hosts: [
        {
          ...db,
          docker: {
            ...db.docker,
            scrapeAddress: "fd00::5",
            nodeExporterPort: 9200,
            cadvisor: { bindAddress: "10.0.0.5" },
          },
        },
      ],
    }).settings.hosts;
    if (host === undefined) throw new Error("no host loaded");
    expect(machineExporters(host)).to.deep.equal({
      nodeExporter: "[fd00::5]:9200",
      cadvisor: "10.0.0.5:8080",
    });
  });

  it("name the key of an entry with both kinds or neither, a bad engine, missing TLS or a public cAdvisor", () => {
    const bothOrNeither = /^hosts\[0\]: must have exactly one of address or docker/;
    const both = settingsProblems({ hosts: [{ ...db, address: { nodeExporter: "db-1:9100" } }] });
    expect(both).to.have.lengthOf(1);
    expect(both[0]).to.match(bothOrNeither);
    expect(settingsProblems({ hosts: [{ name: "db-1" }] })[0]).to.match(bothOrNeither);
    expect(
      settingsProblems({ hosts: [{ ...db, docker: { ...db.docker, engine: "db-1:2375" } }] }),
    ).to.deep.equal([
      'hosts[0].docker.engine: must be a Docker engine\'s address, such as ssh://deploy@db-1.internal or tcp://db-1.internal:2376 (got "db-1:2375")',
    ]);
    expect(
      settingsProblems({ hosts: [{ ...db, docker: { ...db.docker, engine: "tcp://db-1.internal:2376" } }] }),
    ).to.deep.equal([
      "hosts[0].docker.tls: is required; with a tcp:// engine (caFile, certFile, keyFile): Docker's API without TLS is root on the machine for anyone who reaches it",
    ]);
    const { keyFile: _, ...withoutKey } = exporterTls;
    expect(
      settingsProblems({ hosts: [{ ...db, docker: { ...db.docker, exporterTls: withoutKey } }] })[0],
    ).to.match(/^hosts\[0\]\.docker\.exporterTls\.keyFile: is required/);
    expect(
      settingsProblems({
        hosts: [{ ...db, docker: { ...db.docker, cadvisor: { bindAddress: "db-1.internal" } } }],
      })[0],
    ).to.match(/^hosts\[0\]\.docker\.cadvisor\.bindAddress: must be an IP address of the machine/);
    expect(
      settingsProblems({ hosts: [{ ...db, docker: { ...db.docker, scrapeAddress: "db 1" } }] })[0],
    ).to.match(/^hosts\[0\]\.docker\.scrapeAddress: does not give a host node exporter can be scraped at/);
  });

  it("scrape the machine's node exporter over TLS with the replicas' password, as job node with its host label", () => {
    const { settings } = loadSettings({
      hosts: [db, { name: "web-1", address: { nodeExporter: "web-1:9100" } }],
    });
    const config = parse(
      renderPrometheusConfig(settings, dockerEndpoints(settings, "watchtower-test"), 0),
    ) as {
      scrape_configs: { job_name: string; [key: string]: unknown }[];
    };
    const byName = (name: string) => config.scrape_configs.find((job) => job.job_name === name);
    expect(byName("node")?.static_configs).to.deep.equal([
      { targets: ["node-exporter:9100"], labels: { host: "local" } },
      { targets: ["web-1:9100"], labels: { host: "web-1" } },
    ]);
    expect(byName("node@db-1")).to.deep.equal({
      job_name: "node@db-1",
      scheme: "https",
      basic_auth: { username: "prometheus", password_file: "secrets/host_exporter_password" },
      tls_config: { ca_file: "hosts/db-1/ca.pem" },
      static_configs: [{ targets: ["db-1.internal:9100"], labels: { host: "db-1" } }],
      relabel_configs: [{ target_label: "job", replacement: "node" }],
    });
    // The paths the config names, relative to itself, are where the layout puts the files.
    expect(`prometheus/${"secrets/host_exporter_password"}`).to.equal(renderedPaths.hostExporterPassword);
    expect(`prometheus/${"hosts/db-1/ca.pem"}`).to.equal(renderedPaths.hostExporterCa("db-1"));
  });
});
