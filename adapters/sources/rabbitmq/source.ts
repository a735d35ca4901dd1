/**
 * RabbitMQ consumer (amqplib): one connection and channel per trigger, `basic.consume` with
 * manual acks and `prefetch` unacknowledged messages at most.
 *
 * - What arrived while the previous commit ran is committed as one batch, then acknowledged
 *   with one `basic.ack` (multiple) for the batch's last delivery tag, only after the commit.
 *   A crash or a lost connection before that leaves the messages unacknowledged: the broker
 *   requeues them and the next delivery is caught as a duplicate by its message id.
 * - Event: the body's bytes; headers = the message's headers, `content-type`,
 *   `content-encoding`, and `x-rabbitmq-*`: message-id, correlation-id, type, app-id, user-id,
 *   reply-to, priority, timestamp, exchange, routing-key, queue, redelivered (quorum queues add
 *   their `x-delivery-count` header). dedupKey = the message id when the producer set one
 *   (without it a redelivery cannot be told from a new message).
 * - While the store refuses events nothing is acknowledged and the prefetch window stays full,
 *   so the broker sends nothing more (backpressure).
 * - Status: `lag` = the queue's ready messages (checked every 2 s), `consumers` on the queue.
 */
import type { Channel, ChannelModel, Message } from "amqplib";
import type { Source, SourceContext, SourceEvent, SourceFactory } from "../../../core/ports.ts";
import { bounded } from "../../brokers/errors.ts";
import {
  classifyRabbitmq,
  declareTopology,
  openRabbitmq,
} from "../../brokers/rabbitmq/connection.ts";
import { commitBatch } from "../consumer/commit.ts";
import { addHeaders, bytesOf, headerText } from "../consumer/headers.ts";
import { MessageBuffer } from "../consumer/message_buffer.ts";
import { supervise } from "../consumer/supervise.ts";
import {
  parseRabbitmqSourceConfig,
  type RabbitmqSourceConfig,
  rabbitmqSourceSchema,
} from "./config.ts";

const LAG_EVERY_MS = 2_000;

export function rabbitmqEvent(m: Message, queue: string): SourceEvent {
  const p = m.properties;
  const headers: Record<string, string> = {};
  addHeaders(headers, p.headers as Record<string, unknown> | undefined);
  const set = (k: string, v: unknown) => {
    const t = headerText(v);
    if (t !== undefined && t !== "") headers[k] = t;
  };
  set("content-type", p.contentType);
  set("content-encoding", p.contentEncoding);
  set("x-rabbitmq-message-id", p.messageId);
  set("x-rabbitmq-correlation-id", p.correlationId);
  set("x-rabbitmq-type", p.type);
  set("x-rabbitmq-app-id", p.appId);
  set("x-rabbitmq-user-id", p.userId);
  set("x-rabbitmq-reply-to", p.replyTo);
  set("x-rabbitmq-priority", p.priority);
  set("x-rabbitmq-timestamp", p.timestamp);
  set("x-rabbitmq-exchange", m.fields.exchange);
  set("x-rabbitmq-routing-key", m.fields.routingKey);
  set("x-rabbitmq-queue", queue);
  headers["x-rabbitmq-redelivered"] = String(m.fields.redelivered);
  const id = headerText(p.messageId);
  return { body: bytesOf(m.content), headers, dedupKey: id ? `msg:${id}` : null };
}

export class RabbitmqSource implements Source {
  constructor(readonly config: RabbitmqSourceConfig, readonly ctx: SourceContext) {}

  start(signal: AbortSignal): Promise<void> {
    return supervise(
      this.ctx,
      signal,
      { broker: "rabbitmq", permanent: classifyRabbitmq },
      (s, up) => this.#session(s, up),
    );
  }

  async #session(signal: AbortSignal, up: (s?: Record<string, unknown>) => void): Promise<void> {
    const c = this.config;
    const timeout = c.timeout_ms;
    const conn: ChannelModel = await openRabbitmq(c.url, {
      timeoutMs: timeout,
      outbound: this.ctx.outbound,
      log: this.ctx.log,
    });
    const buffer = new MessageBuffer<Message>();
    conn.on("close", (e?: Error) => {
      buffer.fail(e ?? new Error("rabbitmq: connection closed"));
    });
    let lagTimer: ReturnType<typeof setInterval> | undefined;
    try {
      const ch: Channel = await bounded(
        conn.createChannel(),
        timeout,
        undefined,
        "rabbitmq open channel",
      );
      // The broker closes a channel with a reason (404 queue deleted, 406 ack timeout): keep
      // the error itself so its code classifies it.
      ch.on("error", (e: Error) => buffer.fail(e));
      ch.on("close", () => buffer.fail(new Error("rabbitmq: channel closed")));
      const d = c.declare;
      if (d) {
        await declareTopology(ch, {
          exchange: d.exchange,
          exchangeType: d.exchange_type,
          queue: c.queue,
          durable: d.durable,
          queueType: d.queue_type,
          routingKey: d.routing_key ?? c.queue,
        }, timeout);
      }
      await bounded(ch.prefetch(c.prefetch), timeout, undefined, "rabbitmq basic.qos");
      await bounded(
        ch.consume(c.queue, (m) => {
          if (m) buffer.push(m);
          else buffer.fail(new Error(`rabbitmq: the broker cancelled the consumer of ${c.queue}`));
        }, { noAck: false }),
        timeout,
        undefined,
        `rabbitmq consume from ${c.queue}`,
      );
      const probe = async () => {
        const q = await ch.checkQueue(c.queue);
        this.ctx.report({ lag: q.messageCount, consumers: q.consumerCount });
      };
      await bounded(probe(), timeout, undefined, `rabbitmq check queue ${c.queue}`);
      up({ queue: c.queue });
      lagTimer = setInterval(() => probe().catch(() => {}), LAG_EVERY_MS);

      while (!signal.aborted) {
        const batch = await buffer.take(c.prefetch, signal);
        if (batch.length === 0) break;
        const r = await commitBatch(this.ctx, batch.map((m) => rabbitmqEvent(m, c.queue)), signal);
        if (!r) break; // stopping before the commit: the broker requeues them
        // One ack for the batch: every delivery tag up to the last one was in it.
        ch.ack(batch[batch.length - 1], true);
      }
    } finally {
      clearInterval(lagTimer);
      await bounded(conn.close(), timeout, undefined, "rabbitmq close").catch(() => {});
    }
  }
}

export const rabbitmqSourceFactory: SourceFactory<RabbitmqSourceConfig> = {
  type: "rabbitmq",
  schema: rabbitmqSourceSchema,
  parseConfig: parseRabbitmqSourceConfig,
  create: (config, ctx) => new RabbitmqSource(config, ctx),
};
