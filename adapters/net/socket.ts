/**
 * TCP and TLS sockets dialled through the address guard, for client libraries that accept a
 * socket factory (kafkajs) or node:net options. The socket's `lookup` is the Outbound's, so it
 * connects only to an address that was checked for this port; TLS still verifies the host
 * name the caller gave (SNI and certificate).
 */
import net from "node:net";
import tls from "node:tls";
import type { Outbound } from "../../core/ports.ts";

export interface GuardedSocketOptions {
  host: string;
  port: number;
  /** TLS options (true for the defaults); absent or false for plain TCP. */
  tls?: boolean | tls.ConnectionOptions;
  /** TCP keep-alive delay in ms; 0 or absent leaves keep-alive off. */
  keepAliveMs?: number;
}

/** Opens a guarded socket; `onConnect` runs once connected (TLS: once the handshake is done). */
export function guardedConnect(
  outbound: Pick<Outbound, "lookup" | "refuseLiteral">,
  o: GuardedSocketOptions,
  onConnect?: () => void,
): net.Socket {
  const host = o.host.replace(/^\[|\]$/g, "");
  // node:net dials an IP literal without asking `lookup`: decide those here.
  const refused = outbound.refuseLiteral(host, o.port);
  if (refused) return refusedSocket(refused);
  const lookup = outbound.lookup(o.port) as unknown as net.LookupFunction;
  let socket: net.Socket;
  if (o.tls) {
    const extra = typeof o.tls === "object" ? o.tls : {};
    socket = tls.connect({
      ...(!net.isIP(host) ? { servername: host } : {}),
      ...extra,
      host,
      port: o.port,
      lookup,
    }, onConnect);
  } else {
    socket = net.connect({ host, port: o.port, lookup }, onConnect);
  }
  if (o.keepAliveMs) socket.setKeepAlive(true, o.keepAliveMs);
  return socket;
}

/** A socket that never connects and fails with `error` on the next tick. */
export function refusedSocket(error: Error): net.Socket {
  const socket = new net.Socket();
  queueMicrotask(() => socket.destroy(error));
  return socket;
}
