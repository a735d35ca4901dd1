/**
 * kafkajs socket factory over the address guard (adapters/net/socket.ts): every broker it
 * connects to, including brokers learnt from cluster metadata and not only the configured
 * seeds, is dialled on an address the Outbound checked for that port, plain or TLS.
 */
import type { ISocketFactory } from "kafkajs";
import type { Outbound } from "../../../core/ports.ts";
import { guardedConnect } from "../../net/socket.ts";

const KEEP_ALIVE_MS = 60_000;

export function guardedSocketFactory(
  outbound: Pick<Outbound, "lookup" | "refuseLiteral">,
): ISocketFactory {
  return ({ host, port, ssl, onConnect }) =>
    guardedConnect(outbound, { host, port, tls: ssl, keepAliveMs: KEEP_ALIVE_MS }, onConnect);
}
