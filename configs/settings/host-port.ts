/** `host:port` as the Go programs of the stack read it. */
import { z } from "zod";

/** One DNS label: letters, digits and inner hyphens. */
const hostLabel = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** A host name (optionally fully qualified, with a trailing dot), or an IPv4 address. */
function isHostName(host: string): boolean {
  if (/^[\d.]+$/.test(host)) return z.ipv4().safeParse(host).success;
  const labels = host.replace(/\.$/, "").split(".");
  return host.length <= 253 && labels.every((label) => hostLabel.test(label));
}

/**
 * What is wrong with a `host:port` as Go's net.SplitHostPort reads it (Alertmanager's smarthost, a Prometheus
 * target): a host name, an IPv4 address or a bracketed IPv6 address, then a port from 1 to 65535. Undefined
 * when it is right; `examples` are shown in the message.
 */
export function hostPortProblem(text: string, examples: string): string | undefined {
  const example = `such as ${examples}`;
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d+)$/.exec(text);
  if (!match) return `must be host:port, ${example} (an IPv6 address in brackets)`;
  const [, ipv6, host, portText] = match;
  if (ipv6 !== undefined && !z.ipv6().safeParse(ipv6).success) {
    return `"[${ipv6}]" is not an IPv6 address; must be host:port, ${example}`;
  }
  if (host !== undefined && !isHostName(host)) {
    return `"${host}" is not a host name or IPv4 address; must be host:port, ${example}`;
  }
  const portNumber = Number(portText);
  if (portNumber < 1 || portNumber > 65535)
    return `port ${portText} is out of range; it must be from 1 to 65535`;
  return undefined;
}
