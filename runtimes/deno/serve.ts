/**
 * The node's HTTP listener: Deno.serve behind the thin TCP front (http_front.ts) that adds the
 * head timeout, the head size limit (431) and the idle timeout Deno.serve lacks, or Deno.serve
 * alone when HEADER_TIMEOUT_MS=0 (behind a proxy that guards heads already).
 */
import type { Logger } from "../../core/ports.ts";
import { peerTable } from "./peer_table.ts";

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

type Handler = (req: Request, remoteAddr: string) => Response | Promise<Response>;

function describe(hostname: string, port: number) {
  const address = `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
  const host = hostname === "0.0.0.0" ? "127.0.0.1" : hostname === "::" ? "[::1]" : hostname;
  return { address, url: `http://${host}:${port}` };
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
      (req, info) => handler(req, (info.remoteAddr as Deno.NetAddr).hostname),
    );
    const a = await listening;
    return {
      ...describe(a.hostname, a.port),
      shutdown: () => server.shutdown(),
      finished: server.finished,
    };
  }
  // The real server listens on a private loopback port; the front, on its own thread,
  // relays to it and writes which client each of its connections carries into `peers`.
  const peers = peerTable();
  let ready!: (a: Deno.NetAddr) => void;
  const listening = new Promise<Deno.NetAddr>((r) => (ready = r));
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: ready }, (req, info) => {
    const peer = peers.get((info.remoteAddr as Deno.NetAddr).port);
    if (peer === undefined) {
      return Response.json(
        { error: { code: "misdirected", message: "connect to the node's own port" } },
        { status: 421 },
      );
    }
    return handler(req, peer);
  });
  const upstream = await listening;
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
      upstreamPort: upstream.port,
      headTimeoutMs: cfg.headerTimeoutMs,
      maxHeadBytes: cfg.maxHeaderBytes,
      idleTimeoutMs: cfg.idleTimeoutMs,
    },
    peers: peers.buffer,
  }) as { listening?: { hostname: string; port: number }; error?: string; name?: string };
  if (!started.listening) {
    worker.terminate();
    await server.shutdown();
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
    },
    finished: server.finished,
  };
}
