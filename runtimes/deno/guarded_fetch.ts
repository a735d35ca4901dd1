/**
 * Outbound HTTP guarded against private addresses (DESIGN.md, "Tenancy and security").
 *
 * Every hop of a request (the first URL and each redirect, followed by hand, at most 5) is
 * resolved here: an IP literal is checked as is, a name through Deno.resolveDns (A and AAAA).
 * If ANY address is forbidden by the policy the hop is refused with ForbiddenAddressError.
 *
 * Pinning (no DNS rebinding between check and connect). The connection must go to an address
 * that was checked, not to whatever a second lookup returns. Deno 2.9 has no resolver hook
 * in fetch, and rewriting the URL to the IP breaks TLS (the certificate is checked against
 * the IP, and SNI is lost), so both schemes keep the original URL and swap the transport:
 * - http: a Deno.HttpClient with `proxy: { transport: "tcp", hostname: <ip>, port }` sends
 *   the request over a TCP connection to the checked IP; the Host header stays the URL's.
 * - https: the "tcp" transport does not speak TLS (measured: plaintext reaches the TLS port),
 *   so a tiny in-process SOCKS5 relay on 127.0.0.1 is used instead. The pinned client talks
 *   `socks5h` to it with a per-pin username and a per-process random password; the relay
 *   connects only to that pin's checked IP and port, and only when the requested host and
 *   port are the pin's. Deno then runs TLS end to end through the relay with SNI and
 *   certificate checks against the real host name.
 * Pinned clients are cached per (scheme, host, port, ip) so keep-alive connections are
 * reused, and closed after `idleClientMs` without use. Pinned requests bypass HTTP(S)_PROXY:
 * the guard must see the real destination. Hosts allowed by name on the URL's port
 * (allow_hosts `host:port`, or allowPrivate for the whole node) are fetched plainly, without
 * resolution or pinning.
 * Only the first usable address is tried (IPv4 preferred); there is no happy-eyeballs.
 */
import { type AddressPolicy, formatIp, normalizeHost } from "../../core/net/private_address.ts";
import { checkedAddresses, resolveHost, type Resolver } from "./resolve.ts";

export { ForbiddenAddressError } from "../../core/net/private_address.ts";
export { checkedAddresses, resolveHost, type Resolver } from "./resolve.ts";

export interface GuardedFetchOptions {
  /** Redirects followed (each re-checked) before giving up; default 5. */
  maxRedirects?: number;
  /** Name resolution; default resolveHost (Deno.resolveDns A + AAAA). */
  resolve?: Resolver;
  /** Extra root certificates (PEM) for pinned https clients. */
  caCerts?: string[];
  /** How long an unused pinned client is kept for connection reuse; default 30000. */
  idleClientMs?: number;
}

/** A fetch that refuses forbidden addresses. */
export interface GuardedFetch {
  (input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** Closes cached clients and the relay (tests; a node keeps it for its lifetime). */
  close(): Promise<void>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const enc = new TextEncoder();

/** As fetch does: the standard methods in any case become upper case, others stay as given. */
const STANDARD_METHODS = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]);
function normalizeMethod(m: string): string {
  const up = m.toUpperCase();
  return STANDARD_METHODS.has(up) ? up : m;
}

/** Creates the guarded fetch for one policy (one per node, or per tenant class). */
export function createGuardedFetch(
  policy: AddressPolicy,
  opts: GuardedFetchOptions = {},
): GuardedFetch {
  const maxRedirects = opts.maxRedirects ?? 5;
  const resolve = opts.resolve ?? resolveHost;
  const pins = new PinnedClients(opts.caCerts ?? [], opts.idleClientMs ?? 30_000);

  async function hop(url: URL, init: RequestInit): Promise<Response> {
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(`refusing ${url.protocol} URL ${url.href}: only http and https`);
    }
    const host = normalizeHost(url.hostname);
    const port = Number(url.port) || (url.protocol === "https:" ? 443 : 80);
    if (policy.hostAllowed(host, port)) return await fetch(url, init);
    const [ip] = await checkedAddresses(policy, host, port, resolve, init.signal ?? undefined);
    return await pins.fetch(url, host, port, ip, init);
  }

  /** The request's parts, read without building a Request where the caller gave them plainly
   * (a URL, a Headers or a record, a byte or string body): the publishers' hot path, where a
   * Request and its copies of the headers and body cost more than the rest of a delivery. */
  async function parts(input: RequestInfo | URL, init?: RequestInit) {
    const b = init?.body;
    const plainBody = b == null || typeof b === "string" || b instanceof Uint8Array;
    if (!(input instanceof Request) && plainBody) {
      const url = input instanceof URL ? input : new URL(input);
      return {
        url,
        mode: init?.redirect ?? "follow",
        method: normalizeMethod(init?.method ?? "GET"),
        headers: init?.headers instanceof Headers ? init.headers : new Headers(init?.headers),
        body: (typeof b === "string" ? enc.encode(b) : b ?? null) as
          | Uint8Array<ArrayBuffer>
          | null,
        signal: init?.signal ?? undefined,
      };
    }
    const req = new Request(input, init);
    return {
      url: new URL(req.url),
      mode: req.redirect,
      method: req.method,
      headers: new Headers(req.headers),
      body: req.body ? new Uint8Array(await req.arrayBuffer()) : null,
      signal: req.signal,
    };
  }

  const guarded = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const p = await parts(input, init);
    const { mode, signal } = p;
    let { method, body, url, headers } = p;
    const first = url.href;
    if ((method === "GET" || method === "HEAD") && body !== null) {
      throw new TypeError(`a ${method} request cannot have a body`);
    }
    for (let n = 0;; n++) {
      const res = await hop(url, { method, headers, body, signal, redirect: "manual" });
      const location = res.headers.get("location");
      if (!REDIRECTS.has(res.status) || mode === "manual" || location === null) return res;
      await res.body?.cancel();
      if (mode === "error") {
        throw new TypeError(`redirect from ${url.href} refused (redirect: error)`);
      }
      if (n >= maxRedirects) {
        throw new TypeError(`too many redirects fetching ${first} (max ${maxRedirects})`);
      }
      const next = new URL(location, url);
      headers = new Headers(headers); // the caller's own Headers stay as they were
      // As the fetch standard: 303, and 301/302 after POST, become a GET without a body.
      if ((res.status === 303 && method !== "HEAD") || (res.status <= 302 && method === "POST")) {
        method = "GET";
        body = null;
        for (
          const h of ["content-type", "content-length", "content-encoding", "content-language"]
        ) {
          headers.delete(h);
        }
      }
      if (next.origin !== url.origin) {
        for (const h of ["authorization", "cookie", "proxy-authorization"]) headers.delete(h);
      }
      url = next;
    }
  };

  return Object.assign(guarded, { close: () => pins.close() });
}

interface CachedClient {
  client: Deno.HttpClient;
  pinId: string | null;
  lastUsed: number;
  active: number;
}

/** Deno.HttpClients bound to one checked address each, reused while in use. */
class PinnedClients {
  #clients = new Map<string, CachedClient>();
  #relay: SocksRelay | null = null;
  constructor(readonly caCerts: string[], readonly idleMs: number) {}

  async fetch(url: URL, host: string, port: number, ip: string, init: RequestInit) {
    this.#sweep();
    const key = `${url.protocol}//${host}:${port}@${ip}`;
    let c = this.#clients.get(key);
    if (!c) {
      c = this.#create(url.protocol === "https:", host, port, ip);
      this.#clients.set(key, c);
    }
    c.active++;
    c.lastUsed = Date.now();
    try {
      // Closing a client after the headers arrived does not cut the body (measured).
      return await fetch(url, { ...init, client: c.client } as RequestInit);
    } finally {
      c.active--;
      c.lastUsed = Date.now();
    }
  }

  #create(https: boolean, host: string, port: number, ip: string): CachedClient {
    if (!https) {
      // Deno builds a URI from `hostname`, so an IPv6 address needs its brackets.
      const hostname = ip.includes(":") ? `[${ip}]` : ip;
      const proxy = { transport: "tcp" as const, hostname, port };
      return { client: Deno.createHttpClient({ proxy }), pinId: null, lastUsed: 0, active: 0 };
    }
    this.#relay ??= new SocksRelay();
    const pinId = this.#relay.pin({ host, port, ip });
    const client = Deno.createHttpClient({
      proxy: {
        url: `socks5h://127.0.0.1:${this.#relay.port}`,
        basicAuth: { username: pinId, password: this.#relay.secret },
      },
      caCerts: this.caCerts,
    });
    return { client, pinId, lastUsed: 0, active: 0 };
  }

  #drop(key: string, c: CachedClient) {
    this.#clients.delete(key);
    c.client.close();
    if (c.pinId) this.#relay?.unpin(c.pinId);
  }

  #sweep() {
    const cutoff = Date.now() - this.idleMs;
    for (const [key, c] of this.#clients) {
      if (c.active === 0 && c.lastUsed < cutoff) this.#drop(key, c);
    }
  }

  async close() {
    for (const [key, c] of this.#clients) this.#drop(key, c);
    await this.#relay?.close();
    this.#relay = null;
  }
}

interface Pin {
  host: string;
  port: number;
  ip: string;
}

/**
 * A minimal SOCKS5 server (RFC 1928 CONNECT, RFC 1929 username/password) on 127.0.0.1 that
 * connects each authenticated client to its pin's checked address and nothing else.
 */
class SocksRelay {
  readonly secret = crypto.randomUUID() + crypto.randomUUID();
  readonly port: number;
  #listener: Deno.TcpListener;
  #pins = new Map<string, Pin>();
  #conns = new Set<Deno.Conn>();
  #accepting: Promise<void>;

  constructor() {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = this.#listener.addr.port;
    this.#accepting = this.#accept();
  }

  pin(p: Pin): string {
    const id = crypto.randomUUID();
    this.#pins.set(id, p);
    return id;
  }

  unpin(id: string) {
    this.#pins.delete(id);
  }

  async #accept() {
    try {
      for await (const conn of this.#listener) {
        this.#conns.add(conn);
        this.#serve(conn).catch(() => {}).finally(() => {
          this.#conns.delete(conn);
          safeClose(conn);
        });
      }
    } catch {
      // listener closed
    }
  }

  async #serve(conn: Deno.Conn) {
    const rd = new ExactReader(conn);
    const timer = setTimeout(() => safeClose(conn), 10_000); // handshake deadline
    let upstream: Deno.Conn;
    try {
      const [ver, nMethods] = await rd.read(2);
      const methods = await rd.read(nMethods);
      if (ver !== 5 || !methods.includes(2)) return void await conn.write(Uint8Array.of(5, 0xff));
      await conn.write(Uint8Array.of(5, 2));
      const [, uLen] = await rd.read(2);
      const user = dec.decode(await rd.read(uLen));
      const [pLen] = await rd.read(1);
      const pass = dec.decode(await rd.read(pLen));
      const pin = pass === this.secret ? this.#pins.get(user) : undefined;
      if (!pin) return void await conn.write(Uint8Array.of(1, 1));
      await conn.write(Uint8Array.of(1, 0));
      const [, cmd, , atyp] = await rd.read(4);
      let host: string;
      if (atyp === 1) host = formatIp(await rd.read(4));
      else if (atyp === 4) host = formatIp(await rd.read(16));
      else if (atyp === 3) host = dec.decode(await rd.read((await rd.read(1))[0]));
      else return void await conn.write(reply(8));
      const pb = await rd.read(2);
      const port = (pb[0] << 8) | pb[1];
      if (cmd !== 1) return void await conn.write(reply(7));
      if (normalizeHost(host) !== pin.host || port !== pin.port) {
        return void await conn.write(reply(2)); // not allowed by ruleset
      }
      try {
        upstream = await Deno.connect({ hostname: pin.ip, port: pin.port });
      } catch {
        return void await conn.write(reply(5));
      }
      await conn.write(reply(0));
    } finally {
      clearTimeout(timer);
    }
    this.#conns.add(upstream);
    try {
      if (rd.rest.length) await upstream.write(rd.rest);
      await Promise.allSettled([
        conn.readable.pipeTo(upstream.writable),
        upstream.readable.pipeTo(conn.writable),
      ]);
    } finally {
      this.#conns.delete(upstream);
      safeClose(upstream);
    }
  }

  async close() {
    safeClose(this.#listener);
    for (const c of this.#conns) safeClose(c);
    this.#conns.clear();
    this.#pins.clear();
    await this.#accepting;
  }
}

const dec = new TextDecoder();

/** A SOCKS reply with an empty IPv4 bound address. */
function reply(code: number): Uint8Array {
  return Uint8Array.of(5, code, 0, 1, 0, 0, 0, 0, 0, 0);
}

function safeClose(c: { close(): void }) {
  try {
    c.close();
  } catch {
    // already closed
  }
}

/** Reads exact byte counts from a connection, keeping what arrived beyond them. */
class ExactReader {
  rest = new Uint8Array(0);
  constructor(readonly conn: Deno.Conn) {}

  async read(n: number): Promise<Uint8Array> {
    while (this.rest.length < n) {
      const chunk = new Uint8Array(1024);
      const got = await this.conn.read(chunk);
      if (got === null) throw new Error("relay: connection closed during handshake");
      const merged = new Uint8Array(this.rest.length + got);
      merged.set(this.rest);
      merged.set(chunk.subarray(0, got), this.rest.length);
      this.rest = merged;
    }
    const out = this.rest.slice(0, n);
    this.rest = this.rest.slice(n);
    return out;
  }
}
