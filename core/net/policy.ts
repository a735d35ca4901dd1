/**
 * The address policy: the forbidden-range rules plus what an admin (or the node) allows.
 * `check(host, resolvedIps)` answers null when every address may be reached, else a reason.
 */
import { type Cidr, formatIp, inCidr, parseCidr, parseIp } from "./ip.ts";
import { classifyAddress } from "./ranges.ts";

export interface AddressPolicyOptions {
  /** Lift the guard entirely (ALLOW_PRIVATE_NETWORKS=true: development and tests). */
  allowPrivate?: boolean;
  /** Host names (or IP literals) allowed whatever they resolve to; `*.example.com` matches subdomains. */
  allowHosts?: readonly string[];
  /** Blocks whose addresses are allowed even when they fall in a forbidden range. */
  allowCidrs?: readonly string[];
}

export interface AddressPolicy {
  readonly allowPrivate: boolean;
  /** True when `host` is allowed by name (or everything is), so no resolution is needed. */
  hostAllowed(host: string): boolean;
  /** null when `host`, resolving to `resolvedIps`, may be reached; else why not. */
  check(host: string, resolvedIps: readonly string[]): string | null;
}

/** Lower-cases, drops IPv6 brackets and a trailing dot; IP literals become canonical. */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h.endsWith(".")) h = h.slice(0, -1);
  const ip = parseIp(h);
  return ip ? formatIp(ip) : h;
}

/** Builds a policy; throws naming the first malformed CIDR. */
export function createAddressPolicy(opts: AddressPolicyOptions = {}): AddressPolicy {
  const allowPrivate = opts.allowPrivate === true;
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const entry of opts.allowHosts ?? []) {
    const h = normalizeHost(entry);
    if (h.startsWith("*.")) suffixes.push(h.slice(1));
    else if (h) exact.add(h);
  }
  const cidrs: Cidr[] = (opts.allowCidrs ?? []).map((c) => parseCidr(c.trim()));

  const hostAllowed = (host: string): boolean => {
    if (allowPrivate) return true;
    const h = normalizeHost(host);
    return exact.has(h) || suffixes.some((s) => h.endsWith(s) && h.length > s.length);
  };

  return {
    allowPrivate,
    hostAllowed,
    check(host, resolvedIps) {
      if (hostAllowed(host)) return null;
      if (resolvedIps.length === 0) return "it resolved to no addresses";
      for (const ip of resolvedIps) {
        const parsed = parseIp(ip);
        if (parsed && cidrs.some((b) => inCidr(b, parsed))) continue;
        const hit = classifyAddress(ip);
        if (hit) return `${ip} is ${hit.label} (${hit.cidr})`;
      }
      return null;
    },
  };
}
