/**
 * Name resolution for the address guard: A and AAAA records through Deno.resolveDns, IP
 * literals (every spelling) and `localhost` names answered without DNS, and the check of every
 * address against the policy.
 */
import {
  type AddressPolicy,
  ForbiddenAddressError,
  formatIp,
  normalizeHost,
  parseIp,
} from "../../core/net/private_address.ts";

/** Resolves a host name to IP addresses. */
export type Resolver = (host: string, signal?: AbortSignal) => Promise<string[]>;

/** A host string as the URL parser sees it: lower-case, IDN to ASCII, `127.1` to `127.0.0.1`. */
export function canonicalHost(host: string): string {
  const h = host.trim();
  const bracketed = h.includes(":") && !h.startsWith("[") ? `[${h}]` : h;
  try {
    const parsed = new URL(`http://${bracketed}/`);
    if (parsed.port || parsed.username || parsed.pathname !== "/") throw new Error("not a host");
    return normalizeHost(parsed.hostname);
  } catch {
    throw new ForbiddenAddressError(host, "it is not a valid host name");
  }
}

/** A and AAAA records of `host`; IP literals and `localhost` answer without DNS. */
export async function resolveHost(host: string, signal?: AbortSignal): Promise<string[]> {
  const h = normalizeHost(host);
  const ip = parseIp(h);
  if (ip) return [formatIp(ip)];
  if (h === "localhost" || h.endsWith(".localhost")) return ["127.0.0.1", "::1"];
  const [a, aaaa] = await Promise.allSettled([
    Deno.resolveDns(h, "A", { signal }),
    Deno.resolveDns(h, "AAAA", { signal }),
  ]);
  const out = [
    ...(a.status === "fulfilled" ? a.value : []),
    ...(aaaa.status === "fulfilled" ? aaaa.value : []),
  ];
  if (out.length === 0) {
    const why = a.status === "rejected" ? String(a.reason?.message ?? a.reason) : "no records";
    throw new Error(`cannot resolve host ${h}: ${why}`);
  }
  return out;
}

/**
 * Resolves and checks `host` for a connection to `port` under `policy`. Returns the checked
 * addresses, IPv4 first (empty when the host is allowed by name and was not resolved); a
 * client must connect to one of them. Throws ForbiddenAddressError naming the host and the
 * refused address.
 */
export async function checkedAddresses(
  policy: AddressPolicy,
  host: string,
  port: number | undefined,
  resolve: Resolver = resolveHost,
  signal?: AbortSignal,
): Promise<string[]> {
  const h = canonicalHost(host);
  if (policy.hostAllowed(h, port)) return [];
  const literal = parseIp(h);
  // RFC 6761: localhost names are loopback whatever a resolver (or a test's) would say.
  const local = h === "localhost" || h.endsWith(".localhost");
  const addrs = literal
    ? [formatIp(literal)]
    : local
    ? ["127.0.0.1", "::1"]
    : await resolve(h, signal);
  const reason = policy.check(h, addrs, port);
  if (reason) throw new ForbiddenAddressError(h, reason);
  return [...addrs.filter((a) => !a.includes(":")), ...addrs.filter((a) => a.includes(":"))];
}
