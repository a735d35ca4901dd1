/**
 * A thin TCP front for Deno.serve, which has no header timeout and no header size limit of
 * its own (measured on Deno 2.9: a client that sends half a request head keeps its socket
 * for good, 1,000 of them hold 1,000 sockets; a 100 KB head is a plain 400). The front owns
 * the public port and relays each connection to the real server on a private Unix socket, byte
 * for byte but for one header line it adds (below), reading only what it must to guard the
 * request heads:
 *
 * - a head must be complete within `headTimeoutMs` (from the connection's start, or from the
 *   first byte of a later request on a kept-alive connection): else 408 and the connection
 *   closes, so slow senders cannot hold sockets;
 * - a head over `maxHeadBytes` is answered 431 and the connection closes;
 * - a connection with no byte in either direction for `idleTimeoutMs` closes;
 * - framing the front cannot follow safely (a Content-Length that is not one number, or given
 *   twice differently, a Transfer-Encoding other than chunked last, both together) is a 400.
 * Bodies are relayed as they come (Content-Length counted, chunked parsed just enough to find
 * the end). An Upgrade, CONNECT or an HTTP/2 preface switches the connection to a plain relay.
 * Responses are relayed untouched.
 *
 * The real server listens on a Unix socket in a private folder (a relay over a Unix socket
 * measured a third more requests per second than over loopback TCP), so the client's address
 * cannot travel as the upstream connection's own address: the front writes it into each
 * request head as the first header after the request line (`peerHeader`). Hyper keeps a
 * header's values in the order they came, so the server takes the first value, whatever a
 * client sent under the same name, and never stores the header with an event. A connection to
 * the socket that did not come through the front has no such header and is refused.
 */
export interface FrontOptions {
  hostname: string;
  port: number;
  /** The real server's Unix socket. */
  upstreamPath: string;
  /** The header the client's address is written into, first in every request head. */
  peerHeader: string;
  headTimeoutMs: number;
  maxHeadBytes: number;
  idleTimeoutMs: number;
  onError?(e: unknown): void;
}

export interface Front {
  addr: Deno.NetAddr;
  /** Connections open now (tests and metrics). */
  open(): number;
  /** Stops accepting; open connections go on (they end when the server closes them). */
  stop(): Promise<void>;
  /** Stops accepting and closes every connection. */
  close(): Promise<void>;
}

/** The header the front writes the client's address into (never stored with an event). */
export const PEER_HEADER = "x-event-router-peer";

/** The client address the front wrote into `headers` (the first value), or null. */
export function frontPeer(headers: Headers): string | null {
  const v = headers.get(PEER_HEADER);
  if (v === null) return null;
  const comma = v.indexOf(",");
  return (comma < 0 ? v : v.slice(0, comma)).trim() || null;
}

const enc = new TextEncoder();
const latin1 = new TextDecoder("latin1");

function reply(status: number, reason: string, message: string): Uint8Array {
  const code = reason.toLowerCase().replace(/ /g, "_");
  const body = JSON.stringify({ error: { code, message } });
  return enc.encode(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\n` +
      `content-length: ${enc.encode(body).length}\r\nconnection: close\r\n\r\n${body}`,
  );
}

class Refusal extends Error {
  constructor(readonly response: Uint8Array) {
    super("refused");
  }
}

const tooLarge = (max: number) =>
  new Refusal(reply(431, "Request Header Fields Too Large", `request head over ${max} bytes`));
const badRequest = (why: string) => new Refusal(reply(400, "Bad Request", why));

/** Where the head ends (index after the blank line) in `buf`, searching from `from`, or -1. */
function headEnd(buf: Uint8Array, from: number): number {
  let i = buf.indexOf(10, Math.max(0, from));
  while (i >= 0) {
    if (buf[i - 1] === 10 || (buf[i - 1] === 13 && buf[i - 2] === 10)) return i + 1;
    i = buf.indexOf(10, i + 1);
  }
  return -1;
}

/** Where a complete head's request line ends (index after its LF), past leading empty lines. */
function requestLineEnd(head: Uint8Array): number {
  let i = 0;
  while (head[i] === 13 || head[i] === 10) i++;
  return head.indexOf(10, i) + 1;
}

/** One buffer of `parts`, so a request goes upstream in one write. */
function joined(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let off = 0;
  for (const p of parts) (out.set(p, off), off += p.length);
  return out;
}

type Body =
  | { kind: "none" }
  | { kind: "length"; left: number }
  | { kind: "chunked"; end: ChunkedEnd }
  /** Relayed as it comes; `h2` for the HTTP/2 preface, which is no HTTP/1 head to stamp. */
  | { kind: "raw"; h2?: boolean };

const FRAMING = /^(content-length|transfer-encoding|upgrade)[ \t]*:(.*)$/gim;

/** The body that follows a complete head (text as latin1), or a Refusal. */
function framing(head: string): Body {
  const start = head.search(/[^\r\n]/);
  const requestLine = head.slice(start, head.indexOf("\n", start)).trim();
  const [method = "", , version = ""] = requestLine.split(" ");
  if (method === "PRI" && version.startsWith("HTTP/2")) return { kind: "raw", h2: true };
  if (method === "CONNECT") return { kind: "raw" };
  const lengths = new Set<string>();
  let te: string | null = null;
  for (const m of head.matchAll(FRAMING)) {
    const name = m[1].toLowerCase();
    const value = m[2].trim();
    if (name === "upgrade") return { kind: "raw" };
    if (name === "content-length") { for (const v of value.split(",")) lengths.add(v.trim()); }
    else te = te === null ? value : `${te}, ${value}`;
  }
  if (te !== null) {
    if (lengths.size) throw badRequest("both Content-Length and Transfer-Encoding");
    if (te.toLowerCase().split(",").map((s) => s.trim()).at(-1) !== "chunked") {
      throw badRequest(`unsupported Transfer-Encoding ${te}`);
    }
    return { kind: "chunked", end: new ChunkedEnd() };
  }
  if (lengths.size > 1) throw badRequest("conflicting Content-Length");
  if (lengths.size === 0) return { kind: "none" };
  const [v] = lengths;
  if (!/^\d{1,15}$/.test(v)) throw badRequest(`invalid Content-Length ${v}`);
  return Number(v) ? { kind: "length", left: Number(v) } : { kind: "none" };
}

/**
 * Finds where a chunked body ends in the bytes that arrive, without changing them: `feed`
 * answers how many bytes of `data` belong to the body and whether it ended there.
 */
class ChunkedEnd {
  #state: "size" | "data" | "data-crlf" | "trailer" = "size";
  #line = "";
  #left = 0;
  #cr = false;

  feed(data: Uint8Array): { used: number; done: boolean } {
    let i = 0;
    while (i < data.length) {
      if (this.#state === "data") {
        const n = Math.min(this.#left, data.length - i);
        i += n;
        this.#left -= n;
        if (this.#left === 0) {
          this.#state = "data-crlf";
          this.#cr = false;
        }
        continue;
      }
      const b = data[i++];
      if (this.#state === "data-crlf") {
        if (b === 10) this.#state = "size";
        else if (b !== 13 || this.#cr) throw badRequest("malformed chunk end");
        else this.#cr = true;
        continue;
      }
      if (b !== 10) {
        if (this.#line.length > 4096) throw badRequest("chunk line too long");
        if (b !== 13) this.#line += String.fromCharCode(b);
        continue;
      }
      const line = this.#line;
      this.#line = "";
      if (this.#state === "trailer") {
        if (line === "") return { used: i, done: true };
        continue;
      }
      const size = line.split(";")[0].trim();
      if (!/^[0-9a-fA-F]{1,12}$/.test(size)) throw badRequest(`malformed chunk size ${size}`);
      this.#left = parseInt(size, 16);
      this.#state = this.#left === 0 ? "trailer" : "data";
    }
    return { used: i, done: false };
  }
}

/**
 * The request-head state of one connection. Fed every chunk the client sends, it answers what
 * may go upstream now: body bytes as they come, a head only once it is complete and checked
 * (an incomplete head is held back, so the server never sees half of one). A bad head throws
 * a Refusal carrying what may still go upstream before it (`forward`).
 */
class HeadGuard {
  #head: Uint8Array | null = null; // the incomplete head so far (a copy)
  #body: Body = { kind: "none" };
  /** When the current head must be complete; null while no head is pending. */
  deadline: number | null;

  /**
   * `stamp` (a whole header line) goes into every HTTP/1 head right after its request line.
   */
  constructor(
    readonly maxHeadBytes: number,
    readonly timeoutMs: number,
    now: number,
    readonly stamp: Uint8Array | null = null,
  ) {
    this.deadline = now + timeoutMs;
  }

  get raw(): boolean {
    return this.#body.kind === "raw";
  }

  feed(data: Uint8Array, now: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    let from = 0; // start of the run of `data` to forward as it is
    let at = 0;
    const flush = (to: number) => {
      if (to > from) out.push(data.subarray(from, to));
      from = to;
    };
    const refuse = (r: Refusal): never => {
      flush(at);
      throw Object.assign(r, { forward: out });
    };
    while (at < data.length) {
      const b = this.#body;
      if (b.kind === "raw") break;
      if (b.kind === "length") {
        const take = Math.min(b.left, data.length - at);
        b.left -= take;
        at += take;
        if (b.left === 0) this.#body = { kind: "none" };
        continue;
      }
      if (b.kind === "chunked") {
        let r: { used: number; done: boolean };
        try {
          r = b.end.feed(data.subarray(at));
        } catch (e) {
          // This request's head is with the server already: it must not see the rest.
          return refuse(Object.assign(e as Refusal, { midBody: true }));
        }
        at += r.used;
        if (r.done) this.#body = { kind: "none" };
        continue;
      }
      // A head (between requests, its first byte starts the clock).
      this.deadline ??= now + this.timeoutMs;
      const prev = this.#head;
      const rest = data.subarray(at);
      let buf = rest;
      if (prev) {
        buf = new Uint8Array(prev.length + rest.length);
        buf.set(prev);
        buf.set(rest, prev.length);
      }
      const end = headEnd(buf, prev ? prev.length - 3 : 0);
      if ((end < 0 && buf.length > this.maxHeadBytes) || end > this.maxHeadBytes) {
        refuse(tooLarge(this.maxHeadBytes));
      }
      if (end < 0) {
        flush(at);
        this.#head = buf === rest ? rest.slice() : buf; // the read buffer is reused
        from = at = data.length;
        break;
      }
      try {
        this.#body = framing(latin1.decode(buf.subarray(0, end)));
      } catch (e) {
        refuse(e as Refusal);
      }
      this.deadline = null;
      this.#head = null;
      const head = buf.subarray(0, end);
      flush(at); // what came before this head
      const b2 = this.#body;
      if (this.stamp && !(b2.kind === "raw" && b2.h2)) {
        const line = requestLineEnd(head);
        out.push(head.subarray(0, line), this.stamp, head.subarray(line));
      } else out.push(head);
      at += end - (prev?.length ?? 0);
      from = at;
    }
    flush(data.length);
    return out;
  }
}

export function startFront(opts: FrontOptions): Front {
  const listener = Deno.listen({ hostname: opts.hostname, port: opts.port });
  const conns = new Set<Deno.Conn>();
  let closing = false;
  const tick = Math.max(50, Math.min(1000, opts.headTimeoutMs / 4));

  const relay = async (client: Deno.TcpConn) => {
    // As Deno.serve does: a response written in two parts must not wait for the client's ACK.
    client.setNoDelay(true);
    const peer = (client.remoteAddr as Deno.NetAddr).hostname;
    const upstream = await Deno.connect({ transport: "unix", path: opts.upstreamPath });
    const stamp = enc.encode(`${opts.peerHeader}: ${peer}\r\n`);
    const guard = new HeadGuard(opts.maxHeadBytes, opts.headTimeoutMs, Date.now(), stamp);
    let lastActivity = Date.now();
    let closed = false;
    const shut = () => {
      if (closed) return;
      closed = true;
      for (const c of [client, upstream]) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    };
    const timer = setInterval(() => {
      const now = Date.now();
      if (guard.deadline !== null && now > guard.deadline) {
        guard.deadline = null;
        client.write(reply(408, "Request Timeout", "the request head took too long"))
          .catch(() => {}).finally(shut);
      } else if (now - lastActivity > opts.idleTimeoutMs) shut();
    }, tick);

    // Responses go back as they come.
    const responses = (async () => {
      const buf = new Uint8Array(64 * 1024);
      try {
        for (;;) {
          const n = await upstream.read(buf);
          if (n === null) break;
          lastActivity = Date.now();
          for (let off = 0; off < n;) off += await client.write(buf.subarray(off, n));
        }
      } catch { /* either side went away */ }
    })();

    const write = async (bytes: Uint8Array) => {
      for (let off = 0; off < bytes.length;) off += await upstream.write(bytes.subarray(off));
    };
    const buf = new Uint8Array(64 * 1024);
    let refusal: Uint8Array | null = null;
    try {
      for (;;) {
        const n = await client.read(buf);
        if (n === null) break;
        const now = Date.now();
        lastActivity = now;
        const data = buf.subarray(0, n);
        if (guard.raw) {
          await write(data);
          continue;
        }
        let parts: Uint8Array[];
        try {
          parts = guard.feed(data, now);
        } catch (e) {
          if (!(e instanceof Refusal)) throw e;
          const r = e as Refusal & { forward?: Uint8Array[]; midBody?: boolean };
          if (r.midBody) upstream.close(); // the server drops the request it was reading
          else if (r.forward?.length) await write(joined(r.forward));
          refusal = r.response;
          break;
        }
        if (parts.length) await write(joined(parts));
      }
    } catch (e) {
      if (!closed) opts.onError?.(e);
    } finally {
      clearInterval(timer);
      // The requests sent so far are answered first (a client that only half-closed still
      // gets them), then the refusal, if any.
      await upstream.closeWrite().catch(() => {});
      await responses;
      if (refusal) await client.write(refusal).catch(() => {});
      shut();
    }
  };

  const accepting = (async () => {
    for await (const c of listener) {
      if (closing) {
        c.close();
        continue;
      }
      conns.add(c);
      relay(c).catch((e) => {
        opts.onError?.(e);
        try {
          c.close();
        } catch { /* closed */ }
      }).finally(() => conns.delete(c));
    }
  })().catch(() => {});

  return {
    addr: listener.addr as Deno.NetAddr,
    open: () => conns.size,
    async stop() {
      closing = true;
      try {
        listener.close();
      } catch { /* closed */ }
      await accepting;
    },
    async close() {
      await this.stop();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
  };
}
