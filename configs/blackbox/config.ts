/**
 * `blackbox/blackbox.yml`: the blackbox exporter's modules, one per probe of `probes` and named after it, so
 * that each probe's expected status, timeout and body match apply to it alone. The `probe` scrape job of each
 * replica asks for a probe by its module and its target (configs/prometheus/config.ts).
 */
import type { Probe } from "../settings/probes";
import type { Settings } from "../settings/schema";
import { generatedYaml } from "../yaml";

/**
 * IPv4 first: Docker's networks are IPv4 unless set up otherwise; the exporter falls back to IPv6 when a name
 * has no IPv4 address.
 */
const ipProtocol = { preferred_ip_protocol: "ip4", ip_protocol_fallback: true } as const;

function module(probe: Probe) {
  if (probe.http) {
    const { expectedStatus, timeout, bodyMatches } = probe.http;
    return {
      prober: "http",
      timeout,
      http: {
        method: "GET",
        valid_status_codes: Array.isArray(expectedStatus) ? expectedStatus : [expectedStatus],
        ...(bodyMatches === undefined ? {} : { fail_if_body_not_matches_regexp: [bodyMatches] }),
        ...ipProtocol,
      },
    };
  }
  if (probe.tcp) return { prober: "tcp", timeout: probe.tcp.timeout, tcp: { ...ipProtocol } };
  throw new Error(`probe ${probe.name} has neither http nor tcp`);
}

/** The module a probe runs with: its own, by its name. */
export function probeModule(probe: Pick<Probe, "name">): string {
  return probe.name;
}

export function renderBlackboxConfig(settings: Pick<Settings, "probes">): string {
  return generatedYaml({
    modules: Object.fromEntries(settings.probes.map((probe) => [probeModule(probe), module(probe)])),
  });
}
