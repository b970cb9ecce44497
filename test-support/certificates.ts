/** TLS material for tests, made by the openssl CLI: nothing is fetched, nothing outlives the test's folder. */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { loopback } from "./ports";

/**
 * A key and a self-signed certificate that expires in `days` days, written into `dir`, for 127.0.0.1 and any
 * other `names` (`DNS:host.docker.internal`). Being self-signed, the certificate is also the CA that verifies it.
 */
export function makeCertificate(
  dir: string,
  days: number,
  names: readonly string[] = [],
): { key: string; cert: string } {
  const key = join(dir, "key.pem");
  const cert = join(dir, "cert.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      String(days),
      "-subj",
      `/CN=${loopback}`,
      "-addext",
      `subjectAltName=${[`IP:${loopback}`, ...names].join(",")}`,
    ],
    { stdio: "pipe" },
  );
  return { key, cert };
}
