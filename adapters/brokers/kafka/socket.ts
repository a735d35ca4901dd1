/**
 * kafkajs socket factory that runs the private-address guard (PublisherContext.checkHost) on
 * every broker it connects to, including brokers learnt from cluster metadata, not only the
 * configured seeds. Plaintext sockets connect only after the check passes. TLS sockets use
 * kafkajs's usual path (the seeds are still checked by the publisher before connecting).
 */
import net from "node:net";
import tls from "node:tls";
import type { ISocketFactory } from "kafkajs";

const KEEP_ALIVE_MS = 60_000;

export function guardedSocketFactory(check: (host: string) => Promise<void>): ISocketFactory {
  return ({ host, port, ssl, onConnect }) => {
    if (ssl) {
      const socket = tls.connect(
        { host, port, ...(!net.isIP(host) ? { servername: host } : {}), ...ssl },
        onConnect,
      );
      socket.setKeepAlive(true, KEEP_ALIVE_MS);
      return socket;
    }
    const socket = new net.Socket();
    socket.setKeepAlive(true, KEEP_ALIVE_MS);
    check(host).then(
      () => {
        if (!socket.destroyed) socket.connect({ host, port }, onConnect);
      },
      (e) => socket.destroy(e instanceof Error ? e : new Error(String(e))),
    );
    return socket;
  };
}
