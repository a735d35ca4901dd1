/**
 * The save-time half of the address guard: addresses a config names literally (an IP in any
 * spelling, or a `localhost` name) are refused when the config is saved, with the field named,
 * instead of failing every delivery later. Names that need DNS are left to the delivery-time
 * guard (`Outbound`), which checks the address actually dialled.
 *
 * Which strings are addresses is decided by shape, not by destination type, so the same walk
 * serves destinations, pipeline stages and trigger configs:
 * - any string that is a URL with an authority (`scheme://[user@]host[:port]`);
 * - the value of a key that names hosts (`host`, `hostname`, `address`, `endpoint`, `server`,
 *   `brokers`, `emulator_host`, `*_host`, `*_hosts`, `*_address`, `*_servers`...), a string or
 *   a list of strings, each `host` or `host:port`; a sibling `port` gives the port.
 * Template placeholders (`{{...}}`) in the host part are skipped: only the delivery can know.
 */
import { parseIp } from "./ip.ts";
import { type AddressPolicy, normalizeHost } from "./policy.ts";
import { classifyAddress } from "./ranges.ts";

export type ConfigPath = (string | number)[];

export interface AddressProblem {
  /** Where the address sits, from the root of the value checked. */
  path: ConfigPath;
  host: string;
  reason: string;
}

const HOST_KEY =
  /^(host|hosts|hostname|address|addresses|endpoint|server|servers|brokers|bootstrap_servers|emulator_host|[a-z0-9]+_(host|hosts|hostname|address|addresses|server|servers|endpoint))$/i;

/** Default ports of the schemes whose URLs configs carry; others need an explicit port. */
const DEFAULT_PORTS: Record<string, number> = {
  http: 80,
  https: 443,
  ws: 80,
  wss: 443,
  amqp: 5672,
  amqps: 5671,
  redis: 6379,
  rediss: 6379,
  imap: 143,
  imaps: 993,
  postgres: 5432,
  postgresql: 5432,
  mqtt: 1883,
  mqtts: 8883,
};

const SPECIAL = new Set(["http:", "https:", "ws:", "wss:", "ftp:"]);

/**
 * `host[:port]` of a URL with an authority, else null. http(s) URLs are read by the WHATWG
 * parser, as fetch will read them (`http:/127.1`, `http:\\0x7f.1` are URLs to 127.0.0.1); other
 * schemes by their `scheme://[user@]host[:port]` shape.
 */
function urlHost(text: string): { host: string; port?: number } | null {
  const scheme = text.match(/^([a-z][a-z0-9+.-]*):/i)?.[1].toLowerCase();
  if (!scheme) return null;
  if (SPECIAL.has(`${scheme}:`)) {
    try {
      const u = new URL(text);
      return { host: u.hostname, port: u.port ? Number(u.port) : DEFAULT_PORTS[scheme] };
    } catch {
      return null;
    }
  }
  const m = text.match(/^[a-z][a-z0-9+.-]*:\/\/(?:[^/?#@]*@)?(\[[^\]]*\]|[^/?#:]*)(?::(\d*))?/i);
  if (!m) return null;
  const port = m[2] ? Number(m[2]) : DEFAULT_PORTS[scheme];
  return { host: decodeHost(m[1]), port };
}

/** Percent-decoded host text, as a resolver would see it. */
function decodeHost(h: string): string {
  try {
    return decodeURIComponent(h);
  } catch {
    return h;
  }
}

/** `host`, `host:port`, `[v6]`, `[v6]:port`; an unbracketed IPv6 literal is a host. */
function hostPort(text: string): { host: string; port?: number } {
  const t = text.trim();
  const bracket = t.match(/^\[([^\]]*)\](?::(\d+))?$/);
  if (bracket) return { host: bracket[1], port: bracket[2] ? Number(bracket[2]) : undefined };
  const colon = t.lastIndexOf(":");
  if (colon > 0 && t.indexOf(":") === colon && /^\d+$/.test(t.slice(colon + 1))) {
    return { host: t.slice(0, colon), port: Number(t.slice(colon + 1)) };
  }
  return { host: t };
}

/**
 * Why `host` is refused from its text alone (no DNS), or null: an IP literal in a forbidden
 * range (unless the policy allows it), or a `localhost` name.
 */
export function literalHostProblem(
  host: string,
  policy: AddressPolicy,
  port?: number,
): string | null {
  if (host.includes("{{")) return null;
  const h = normalizeHost(host);
  if (h === "" || policy.hostAllowed(h, port)) return null;
  if (parseIp(h)) return policy.check(h, [h], port);
  if (h === "localhost" || h.endsWith(".localhost")) {
    // RFC 6761: these names are loopback whatever DNS says.
    const hit = classifyAddress("127.0.0.1")!;
    return `${h} is ${hit.label} (a localhost name)`;
  }
  return null;
}

/**
 * Every literal address in `value` the policy refuses, with its path. `value` is any
 * free-form config (destination, stage, trigger); see the module comment for what counts as an
 * address.
 */
export function literalAddressProblems(
  value: unknown,
  policy: AddressPolicy,
  root: ConfigPath = [],
): AddressProblem[] {
  const out: AddressProblem[] = [];
  const check = (text: string, path: ConfigPath, asHost: boolean, siblingPort?: number) => {
    const target = urlHost(text) ?? (asHost ? hostPort(text) : null);
    if (!target) return;
    const port = target.port ?? siblingPort;
    const reason = literalHostProblem(target.host, policy, port);
    if (reason) out.push({ path, host: normalizeHost(target.host), reason });
  };
  const walk = (v: unknown, path: ConfigPath, hostKey: boolean, siblingPort?: number) => {
    if (typeof v === "string") check(v, path, hostKey, siblingPort);
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i], hostKey, siblingPort));
    else if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      const port = typeof o.port === "number" ? o.port : undefined;
      for (const [k, x] of Object.entries(o)) walk(x, [...path, k], HOST_KEY.test(k), port);
    }
  };
  walk(value, root, false);
  return out;
}

/** `config.url: refusing to connect to 127.0.0.1: 127.0.0.1 is loopback (127.0.0.0/8)` */
export function describeAddressProblems(problems: readonly AddressProblem[]): string {
  return problems.map((p) =>
    `${p.path.join(".") || "(value)"}: refusing to connect to ${p.host}: ${p.reason}`
  ).join("; ");
}
