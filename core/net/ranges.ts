/**
 * The forbidden ranges: addresses that outbound connections made for tenants must not reach
 * (private, loopback, link-local, CGNAT, cloud metadata, multicast, reserved, documentation),
 * for IPv4 and IPv6, including IPv4 embedded in IPv6 (mapped, NAT64, 6to4). Runtime-agnostic.
 * The guard fails closed: text that is not an IP address counts as forbidden.
 */
import { type Cidr, formatIp, inCidr, type IpBytes, parseCidr, parseIp, unmapIPv4 } from "./ip.ts";

interface Range {
  block: Cidr;
  cidr: string;
  label: string;
}

const table = (rows: [string, string][]): Range[] =>
  rows.map(([cidr, label]) => ({ block: parseCidr(cidr), cidr, label }));

// First match wins, so the narrow, better-named ranges come before the wide ones.
const V4 = table([
  ["0.0.0.0/8", "unspecified (this network)"],
  ["10.0.0.0/8", "private"],
  ["100.64.0.0/10", "carrier-grade NAT"],
  ["127.0.0.0/8", "loopback"],
  ["169.254.169.254/32", "cloud metadata"],
  ["169.254.0.0/16", "link-local"],
  ["172.16.0.0/12", "private"],
  ["192.0.0.0/24", "IETF protocol assignments"],
  ["192.0.2.0/24", "documentation"],
  ["192.88.99.0/24", "6to4 relay anycast"],
  ["192.168.0.0/16", "private"],
  ["198.18.0.0/15", "benchmarking"],
  ["198.51.100.0/24", "documentation"],
  ["203.0.113.0/24", "documentation"],
  ["224.0.0.0/4", "multicast"],
  ["255.255.255.255/32", "broadcast"],
  ["240.0.0.0/4", "reserved"],
]);

const V6 = table([
  ["::/128", "unspecified"],
  ["::1/128", "loopback"],
  ["::/96", "IPv4-compatible (deprecated)"],
  ["fd00:ec2::254/128", "cloud metadata"],
  ["64:ff9b:1::/48", "local-use NAT64"],
  ["100::/64", "discard-only"],
  ["2001::/32", "Teredo"],
  ["2001:2::/48", "benchmarking"],
  ["2001:10::/28", "ORCHID"],
  ["2001:20::/28", "ORCHIDv2"],
  ["2001:db8::/32", "documentation"],
  ["3fff::/20", "documentation"],
  ["fc00::/7", "unique local"],
  ["fe80::/10", "link-local"],
  ["fec0::/10", "site-local (deprecated)"],
  ["ff00::/8", "multicast"],
]);

const NAT64 = parseCidr("64:ff9b::/96");
const SIX_TO_FOUR = parseCidr("2002::/16");
const GLOBAL_UNICAST = parseCidr("2000::/3");

/** Why an address is forbidden: the range and its name. */
export interface Classification {
  label: string;
  cidr: string;
}

function classifyBytes(ip: IpBytes): Classification | null {
  const a = unmapIPv4(ip);
  if (a.length === 4) {
    const hit = V4.find((r) => inCidr(r.block, a));
    return hit ? { label: hit.label, cidr: hit.cidr } : null;
  }
  const hit = V6.find((r) => inCidr(r.block, a));
  if (hit) return { label: hit.label, cidr: hit.cidr };
  // IPv4 carried inside IPv6 reaches that IPv4 address through a translator or relay.
  const embedded = inCidr(NAT64, a) ? a.slice(12) : inCidr(SIX_TO_FOUR, a) ? a.slice(2, 6) : null;
  if (embedded) {
    const inner = classifyBytes(embedded);
    const via = inCidr(NAT64, a) ? "NAT64" : "6to4";
    return inner
      ? { label: `${via} of ${formatIp(embedded)}, ${inner.label}`, cidr: inner.cidr }
      : null;
  }
  if (!inCidr(GLOBAL_UNICAST, a)) {
    return { label: "reserved (not global unicast)", cidr: "2000::/3" };
  }
  return null;
}

/** The forbidden range `ip` falls in, or null for a public address; non-IP text is forbidden. */
export function classifyAddress(ip: string): Classification | null {
  const parsed = parseIp(ip);
  if (!parsed) return { label: "not an IP address", cidr: "-" };
  return classifyBytes(parsed);
}

/** Whether outbound connections to `ip` are refused by default. Non-IP text counts as forbidden. */
export function isForbiddenAddress(ip: string): boolean {
  return classifyAddress(ip) !== null;
}
