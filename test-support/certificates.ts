/** TLS material for tests, made by the openssl CLI: nothing is fetched, nothing outlives the test's folder. */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { loopback } from "./ports";

/**
 * A key and a self-signed certificate for 127.0.0.1 that expires in `days` days, written into `dir`. Being
 * self-signed, the certificate is also the CA that verifies it.
 */
export function makeCertificate(dir: string, days: number): { key: string; cert: string } {
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
      `subjectAltName=IP:${loopback}`,
    ],
    { stdio: "pipe" },
  );
  return { key, cert };
}
