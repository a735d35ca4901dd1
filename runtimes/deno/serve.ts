/**
 * The node's HTTP listener: Deno.serve behind the thin TCP front (http_front.ts) that adds the
 * head timeout, the head size limit (431) and the idle timeout Deno.serve lacks, or Deno.serve
 * alone when HEADER_TIMEOUT_MS=0 (behind a proxy that guards heads already).
 */
import type { Logger } from "../../core/ports.ts";
import { frontPeer, PEER_HEADER } from "./http_front.ts";

export interface ServeConfig {
  host: string;
  port: number;
  headerTimeoutMs: number;
  maxHeaderBytes: number;
  idleTimeoutMs: number;
}

export interface Listening {
  /** The address the node listens on, as it is (`0.0.0.0:8080`). */
  address: string;
  /** Where this machine reaches it (`http://127.0.0.1:8080` for 0.0.0.0). */
  url: string;
  shutdown(): Promise<void>;
  finished: Promise<void>;
}

/** The client's address, and a header the node itself added that is not the client's. */
export interface Peer {
  remoteAddr: string;
  hiddenHeader?: string;
}

type Handler = (req: Request, peer: Peer) => Response | Promise<Response>;

function describe(hostname: string, port: number) {
  const address = `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
  const host = hostname === "0.0.0.0" ? "127.0.0.1" : hostname === "::" ? "[::1]" : hostname;
  return { address, url: `http://${host}:${port}` };
}

/**
 * The front's socket folders. Each node holds an exclusive flock on `owner.lock` in its own for
 * as long as it runs (the kernel drops it when the process dies, SIGKILL included), so a start
 * removes the folders that a killed node could not remove itself. (A liveness check by process
 * id would need /proc, which Deno grants only with --allow-all.)
 */
const SOCKET_DIR_PREFIX = "event-router-front-";
const OWNER_LOCK = "owner.lock";

async function removeStaleSocketDirs(tmp: string) {
  const uid = Deno.uid();
  try {
    for await (const e of Deno.readDir(tmp)) {
      if (!e.isDirectory || !e.name.startsWith(SOCKET_DIR_PREFIX)) continue;
      const path = `${tmp}/${e.name}`;
      const st = await Deno.stat(path).catch(() => null);
      if (!st || (uid !== null && st.uid !== uid)) continue;
      const lock = await Deno.open(`${path}/${OWNER_LOCK}`, { read: true, write: true })
        .catch(() => null);
      // A folder made in the last minute may be between its creation and its lock.
      const old = Date.now() - (st.mtime?.getTime() ?? 0) > 60_000;
      if (!lock) {
        if (old) await Deno.remove(path, { recursive: true }).catch(() => {});
        continue;
      }
      try {
        if (old && await lock.tryLock(true)) {
          await Deno.remove(path, { recursive: true }).catch(() => {});
        }
      } finally {
        lock.close();
      }
    }
  } catch { /* an unreadable temp folder: nothing to tidy */ }
}

/** A private folder for the socket, locked by this process for its lifetime. */
async function socketDir(): Promise<{ dir: string; release(): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: SOCKET_DIR_PREFIX }); // mode 0700, in TMPDIR
  const lock = await Deno.open(`${dir}/${OWNER_LOCK}`, { read: true, write: true, create: true });
  await lock.lock(true);
  await removeStaleSocketDirs(dir.slice(0, dir.lastIndexOf("/")) || "/");
  return {
    dir,
    async release() {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      lock.close();
    },
  };
}

export async function serveHttp(
  cfg: ServeConfig,
  handler: Handler,
  log: Logger,
): Promise<Listening> {
  if (cfg.headerTimeoutMs === 0) {
    let ready!: (a: Deno.NetAddr) => void;
    const listening = new Promise<Deno.NetAddr>((r) => (ready = r));
    const server = Deno.serve(
      { port: cfg.port, hostname: cfg.host, onListen: ready },
      (req, info) => handler(req, { remoteAddr: (info.remoteAddr as Deno.NetAddr).hostname }),
    );
    const a = await listening;
    return {
      ...describe(a.hostname, a.port),
      shutdown: () => server.shutdown(),
      finished: server.finished,
    };
  }
  // The real server listens on a Unix socket in a folder only this user can open; the front,
  // on its own thread, relays to it and writes which client each request comes from into it.
  const { dir, release } = await socketDir();
  const socket = `${dir}/http.sock`;
  let ready!: () => void;
  const listening = new Promise<void>((r) => (ready = r));
  const server = Deno.serve({ path: socket, transport: "unix", onListen: () => ready() }, (req) => {
    const remoteAddr = frontPeer(req.headers);
    if (remoteAddr === null) {
      return Response.json(
        { error: { code: "misdirected", message: "connect to the node's own port" } },
        { status: 421 },
      );
    }
    // Deno.serve on a Unix socket gives `http+unix://host/path` URLs; the client asked for
    // http://host/path (origins, redirects and signed URLs such as Twilio's depend on it).
    // Shadowing the getter costs nothing per request; a new Request would copy the headers.
    if (req.url.startsWith("http+unix:")) {
      Object.defineProperty(req, "url", { value: `http:${req.url.slice(10)}` });
    }
    return handler(req, { remoteAddr, hiddenHeader: PEER_HEADER });
  });
  await listening;
  const worker = new Worker(new URL("./http_front_worker.ts", import.meta.url), {
    type: "module",
  });
  const replies: ((m: unknown) => void)[] = [];
  worker.onmessage = (e) => {
    if (e.data?.log) return log.debug("http front: connection error", { error: e.data.log });
    replies.shift()?.(e.data);
  };
  const ask = (m: unknown) =>
    new Promise<unknown>((resolve) => {
      replies.push(resolve);
      worker.postMessage(m);
    });
  const started = await ask({
    start: {
      hostname: cfg.host,
      port: cfg.port,
      upstreamPath: socket,
      peerHeader: PEER_HEADER,
      headTimeoutMs: cfg.headerTimeoutMs,
      maxHeadBytes: cfg.maxHeaderBytes,
      idleTimeoutMs: cfg.idleTimeoutMs,
    },
  }) as { listening?: { hostname: string; port: number }; error?: string; name?: string };
  if (!started.listening) {
    worker.terminate();
    await server.shutdown();
    await release();
    // The worker's error class (AddrInUse, PermissionDenied...) is kept for the caller.
    const Kind = (Deno.errors as unknown as Record<string, ErrorConstructor>)[started.name ?? ""] ??
      Error;
    throw new Kind(`cannot listen on ${cfg.host}:${cfg.port}: ${started.error}`);
  }
  return {
    ...describe(started.listening.hostname, started.listening.port),
    async shutdown() {
      // Stop taking connections; requests in flight finish through the relay (the server
      // closes each connection when its request is done), then whatever is left is closed.
      await ask("stop");
      await server.shutdown();
      await ask("close");
      worker.terminate();
      await release();
    },
    finished: server.finished,
  };
}
