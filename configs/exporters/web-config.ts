/**
 * The web configuration of node exporter on a machine of `hosts[].docker` (its `--web.config.file`), in the
 * format of the Prometheus exporter toolkit (docs/web-configuration.md of prometheus/exporter-toolkit): TLS with
 * the machine's certificate, and basic auth for the replicas' user, stored as a bcrypt hash.
 */
import { createHash } from "node:crypto";
import bcrypt from "bcryptjs";
import { hostExporterUser } from "../names";
import { generatedYaml } from "../yaml";

/**
 * bcrypt's cost. The toolkit caches a successful comparison, so the cost is paid on the first scrape with a
 * password, not on every one; 10 is the floor of bcrypt's own guidance and of the toolkit's examples.
 */
export const exporterPasswordCost = 10;

/**
 * The bcrypt hash of the replicas' password for one machine. Its salt is derived from the machine's name and
 * the password instead of drawn at random, so the same password renders the same file: a random salt would
 * change the file, and so replace the exporter's container, on every `pulumi up`. Each machine still gets a
 * salt of its own, and the password it protects is generated, 32 letters and digits.
 */
export function exporterPasswordHash(machine: string, password: string): string {
  const seed = createHash("sha256").update(`${machine}\0${password}`).digest();
  const salt = `$2b$${String(exporterPasswordCost).padStart(2, "0")}$${bcrypt.encodeBase64(seed, 16)}`;
  return bcrypt.hashSync(password, salt);
}

export interface ExporterTlsFiles {
  /** Paths inside the exporter's container. */
  readonly certFile: string;
  readonly keyFile: string;
}

export function renderExporterWebConfig(tls: ExporterTlsFiles, passwordHash: string): string {
  return generatedYaml({
    tls_server_config: { cert_file: tls.certFile, key_file: tls.keyFile },
    basic_auth_users: { [hostExporterUser]: passwordHash },
  });
}
