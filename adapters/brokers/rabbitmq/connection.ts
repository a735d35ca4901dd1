/**
 * What the RabbitMQ publisher (destination) and consumer (trigger) share: opening a connection
 * through the address guard with heartbeats and a bounded wait, the password hidden in every
 * message, the declare of exchange/queue/binding, and the error classification.
 */
import { connect } from "amqplib";
import type { Channel, ChannelModel } from "amqplib";
import type { Logger, Outbound } from "../../../core/ports.ts";
import { isForbiddenAddressError } from "../../../core/net/forbidden_address_error.ts";
import { bounded, errorMessage, PublishError } from "../errors.ts";

/** Permanent when the broker's reply code or text says the config/target is wrong. */
export function classifyRabbitmq(e: unknown): boolean {
  if (e instanceof PublishError) return e.permanent;
  if (isForbiddenAddressError(e)) return true;
  if (e instanceof RangeError) return true; // headers table too large to encode
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 404 || code === 403 || code === 406 || code === 312) return true;
  const msg = errorMessage(e);
  return /\b(NOT[-_]FOUND|ACCESS[-_]REFUSED|PRECONDITION[-_]FAILED|NO[-_]ROUTE)\b/.test(msg) ||
    /\b(403|404|406)\b \(/.test(msg);
}

/** The URL with the password hidden, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "amqp URL";
  }
}

function withHeartbeat(url: string): string {
  const u = new URL(url);
  if (!u.searchParams.has("heartbeat")) u.searchParams.set("heartbeat", "15");
  return u.toString();
}

export interface OpenOptions {
  timeoutMs: number;
  /** The address guard: the socket dials only addresses it checked. */
  outbound: Pick<Outbound, "refuseLiteral" | "lookup">;
  log: Logger;
}

/**
 * A connection to `url` whose socket dials only addresses the guard checked, with heartbeats
 * (15 s unless the URL says otherwise) so a dead peer is noticed. A refused address is a
 * permanent error; a late connection (after the timeout) is closed.
 */
export async function openRabbitmq(url: string, o: OpenOptions): Promise<ChannelModel> {
  const u = new URL(url);
  const port = Number(u.port) || (u.protocol === "amqps:" ? 5671 : 5672);
  // amqplib hands these to net/tls.connect: the socket dials only checked addresses (an IP
  // literal is dialled without a lookup, so it is decided here).
  const refused = o.outbound.refuseLiteral(u.hostname.replace(/^\[|\]$/g, ""), port);
  if (refused) throw new PublishError(`rabbitmq: ${refused.message}`, true);
  const conn = await bounded(
    connect(withHeartbeat(url), { timeout: o.timeoutMs, lookup: o.outbound.lookup(port) }),
    o.timeoutMs,
    undefined,
    `rabbitmq connect to ${redactUrl(url)}`,
    (late) => void late.close().catch(() => {}),
  );
  conn.on("error", (e: Error) => {
    o.log.warn("rabbitmq connection error", { error: e.message });
  });
  conn.on("blocked", (reason: string) => {
    o.log.warn("rabbitmq connection blocked by the broker", { reason });
  });
  return conn;
}

/** What to declare on connect: an exchange, a queue, and the queue's binding to the exchange. */
export interface Topology {
  exchange?: string;
  exchangeType: "direct" | "topic" | "fanout" | "headers";
  queue?: string;
  durable: boolean;
  queueType: "classic" | "quorum";
  /** Binding key of queue to exchange (both must be set for a binding). */
  routingKey: string;
}

/** Declares the exchange and queue of `t` (when named) and binds them when both are. */
export async function declareTopology(ch: Channel, t: Topology, timeoutMs: number): Promise<void> {
  const { exchange, queue } = t;
  if (exchange) {
    await bounded(
      ch.assertExchange(exchange, t.exchangeType, { durable: t.durable }),
      timeoutMs,
      undefined,
      `rabbitmq declare exchange ${exchange}`,
    );
  }
  if (!queue) return;
  const args: Record<string, unknown> = {};
  if (t.queueType === "quorum") args["x-queue-type"] = "quorum";
  await bounded(
    ch.assertQueue(queue, {
      durable: t.queueType === "quorum" ? true : t.durable,
      arguments: args,
    }),
    timeoutMs,
    undefined,
    `rabbitmq declare queue ${queue}`,
  );
  if (exchange) {
    await bounded(
      ch.bindQueue(queue, exchange, t.routingKey),
      timeoutMs,
      undefined,
      `rabbitmq bind queue ${queue} to ${exchange}`,
    );
  }
}
