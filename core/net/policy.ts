/**
 * The address policy: the forbidden-range rules plus what an admin (or the node) allows.
 * `check(host, resolvedIps)` answers null when every address may be reached, else a reason.
 */
import { type Cidr, formatIp, inCidr, parseCidr, parseInetAton, parseIp } from "./ip.ts";
import { classifyAddress } from "./ranges.ts";

export interface AddressPolicyOptions {
  /** Lift the guard entirely (ALLOW_PRIVATE_NETWORKS=true: development and tests). */
  allowPrivate?: boolean;
  /**
   * `host:port` entries allowed whatever the host resolves to, on that port only (one entry per
   * port): `hooks.internal:443`, `*.svc.local:8080` (subdomains, not the apex),
   * `[fd00::5]:5672`. An entry without a port is refused: a name allowed for its HTTPS port
   * must not open its database port too.
   */
  allowHosts?: readonly string[];
  /** Blocks whose addresses are allowed even when they fall in a forbidden range. */
  allowCidrs?: readonly string[];
}

export interface AddressPolicy {
  readonly allowPrivate: boolean;
  /**
   * True when `host` is allowed by name on `port` (or everything is), so no resolution is
   * needed. Without a port only `allowPrivate` can allow a host by name.
   */
  hostAllowed(host: string, port?: number): boolean;
  /** null when `host`, resolving to `resolvedIps`, may be reached; else why not. */
  check(host: string, resolvedIps: readonly string[], port?: number): string | null;
}

/**
 * Lower-cases, drops IPv6 brackets and a trailing dot; IP literals become canonical, the
 * legacy IPv4 forms too (`0x7f.1` and `2130706433` are `127.0.0.1`, as the resolver reads them).
 */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h.endsWith(".")) h = h.slice(0, -1);
  const ip = parseIp(h) ?? (h.includes(":") ? null : parseInetAton(h));
  return ip ? formatIp(ip) : h;
}

/** One allow_hosts entry, parsed: the host (or `.suffix` for a wildcard) and its port. */
export interface AllowedHost {
  host: string;
  wildcard: boolean;
  port: number;
}

/** Parses `host:port` (`[v6]:port`, `*.suffix:port`); throws naming the entry. */
export function parseAllowedHost(entry: string): AllowedHost {
  const text = entry.trim();
  const m = text.match(/^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/);
  if (!m) {
    throw new Error(`invalid allowed host "${entry}": expected host:port, e.g. hooks.internal:443`);
  }
  const port = Number(m[2]);
  if (port < 1 || port > 65535) {
    throw new Error(`invalid allowed host "${entry}": port must be 1-65535`);
  }
  const h = normalizeHost(m[1]);
  const wildcard = h.startsWith("*.");
  const name = wildcard ? h.slice(1) : h;
  if (!/^[a-z0-9._:-]+$/.test(name) || name === "." || name.includes("*")) {
    throw new Error(`invalid allowed host "${entry}": not a host name or IP address`);
  }
  return { host: name, wildcard, port };
}

/** Builds a policy; throws naming the first malformed allowed host or CIDR. */
export function createAddressPolicy(opts: AddressPolicyOptions = {}): AddressPolicy {
  const allowPrivate = opts.allowPrivate === true;
  const hosts = (opts.allowHosts ?? []).map(parseAllowedHost);
  const cidrs: Cidr[] = (opts.allowCidrs ?? []).map((c) => parseCidr(c.trim()));

  const hostAllowed = (host: string, port?: number): boolean => {
    if (allowPrivate) return true;
    if (port === undefined) return false;
    const h = normalizeHost(host);
    return hosts.some((a) =>
      a.port === port &&
      (a.wildcard ? h.endsWith(a.host) && h.length > a.host.length : h === a.host)
    );
  };

  return {
    allowPrivate,
    hostAllowed,
    check(host, resolvedIps, port) {
      if (hostAllowed(host, port)) return null;
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
