import bcrypt from "bcryptjs";
import { expect } from "chai";
import { parse } from "yaml";
import { exporterPasswordCost, exporterPasswordHash, renderExporterWebConfig } from "./web-config";

describe("the exporters' web config", () => {
  const password = "Zq4wPx7T2mR9kL1vB8nC5jH3gF6dS0aE";

  it("holds a bcrypt hash of the password at the chosen cost, which verifies it and nothing else", () => {
    const hash = exporterPasswordHash("db-1", password);
    expect(bcrypt.getRounds(hash)).to.equal(exporterPasswordCost);
    expect(bcrypt.compareSync(password, hash)).to.equal(true);
    expect(bcrypt.compareSync(`${password}x`, hash)).to.equal(false);
  });

  it("renders the same file for the same machine and password, another for another machine", () => {
    expect(exporterPasswordHash("db-1", password)).to.equal(exporterPasswordHash("db-1", password));
    expect(exporterPasswordHash("db-2", password)).not.to.equal(exporterPasswordHash("db-1", password));
  });

  it("names the TLS files and the replicas' user", () => {
    const config = parse(
      renderExporterWebConfig({ certFile: "/tls/cert.pem", keyFile: "/tls/key.pem" }, "$2b$10$hash"),
    );
    expect(config).to.deep.equal({
      tls_server_config: { cert_file: "/tls/cert.pem", key_file: "/tls/key.pem" },
      basic_auth_users: { prometheus: "$2b$10$hash" },
    });
  });
});
