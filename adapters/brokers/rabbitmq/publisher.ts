/**
 * RabbitMQ publisher (amqplib): one connection and one confirm channel per destination,
 * persistent messages, publisher confirms, mandatory returns.
 *
 * - Target: `exchange` + routing key (`routing_key`, else `queue`, else ""), or the default
 *   exchange with `queue`.
 * - Message: body as is; messageId = delivery id; headers = config headers + Outgoing.headers +
 *   `x-event-id`, `x-delivery-id`, `x-attempt`; contentType/contentEncoding from the headers.
 * - Failures (see ../errors.ts for the rule):
 *   unroutable with `mandatory` (basic.return, 312 NO_ROUTE) -> permanent: nothing is bound
 *   to take it, which means a missing queue or binding; retrying cannot help until someone
 *   adds one, and the dead-letter queue keeps the message for that moment.
 *   404 NOT_FOUND (missing exchange/queue), 403 ACCESS_REFUSED (bad login or no permission),
 *   406 PRECONDITION_FAILED (declare clashes with what exists), oversized headers -> permanent.
 *   Connection refused/reset/timeouts, nacks, a channel or connection closed under us ->
 *   retriable. A closed channel is re-opened and a dropped connection re-made on the next
 *   publish, after a backoff pause.
 */
import { Buffer } from "node:buffer";
import type { ChannelModel, ConfirmChannel, Message, Options } from "amqplib";
import type {
  Outgoing,
  Publisher,
  PublisherContext,
  PublisherFactory,
  PublishResult,
} from "../../../core/ports.ts";
import {
  bounded,
  errorMessage,
  failAll,
  failure,
  PublishError,
  Reconnector,
  toResult,
} from "../errors.ts";
import { parseRabbitmqConfig, type RabbitmqConfig, rabbitmqConfigSchema } from "./config.ts";
import { classifyRabbitmq, declareTopology, openRabbitmq } from "./connection.ts";

export { classifyRabbitmq };

export class RabbitmqPublisher implements Publisher {
  #conn: ChannelModel | null = null;
  #ch: ConfirmChannel | null = null;
  #chError: Error | null = null;
  #opening: Promise<ConfirmChannel> | null = null;
  #reconnect = new Reconnector("rabbitmq");
  #target: { exchange: string; routingKey: string };

  constructor(readonly config: RabbitmqConfig, readonly ctx: PublisherContext) {
    this.#target = {
      exchange: config.exchange ?? "",
      routingKey: config.routing_key ?? (config.exchange ? config.queue ?? "" : config.queue!),
    };
  }

  healthy(): boolean {
    return this.#ch !== null;
  }

  async connect(signal: AbortSignal): Promise<void> {
    await this.#channel(signal);
  }

  async publish(batch: readonly Outgoing[], signal: AbortSignal): Promise<PublishResult[]> {
    if (batch.length === 0) return [];
    let ch: ConfirmChannel;
    try {
      ch = await this.#channel(signal);
    } catch (e) {
      return failAll(batch.length, e, classifyRabbitmq);
    }
    return await this.#send(ch, batch, signal);
  }

  async close(): Promise<void> {
    const conn = this.#conn;
    this.#conn = null;
    this.#ch = null;
    this.#opening = null;
    this.#reconnect.succeeded();
    if (conn) {
      await bounded(conn.close(), this.config.timeout_ms, undefined, "rabbitmq close").catch(
        () => {},
      );
    }
  }

  /** The open confirm channel, opening connection and channel when needed. */
  #channel(signal: AbortSignal): Promise<ConfirmChannel> {
    if (this.#ch) return Promise.resolve(this.#ch);
    // Concurrent callers share one attempt; each still waits only within its own signal.
    this.#opening ??= this.#open().finally(() => (this.#opening = null));
    return bounded(this.#opening, this.config.timeout_ms + 1_000, signal, "rabbitmq open");
  }

  async #open(): Promise<ConfirmChannel> {
    this.#reconnect.check();
    const timeout = this.config.timeout_ms;
    try {
      if (!this.#conn) {
        const conn = await openRabbitmq(this.config.url, {
          timeoutMs: timeout,
          outbound: this.ctx,
          log: this.ctx.log,
        });
        conn.on("close", (e?: Error) => {
          if (this.#conn !== conn) return;
          this.#conn = null;
          this.#ch = null;
          this.#reconnect.dropped(
            e ? `connection closed: ${e.message}` : "connection closed",
            false,
          );
        });
        this.#conn = conn;
      }
      const conn = this.#conn;
      const ch = await bounded(
        conn.createConfirmChannel(),
        timeout,
        undefined,
        "rabbitmq open channel",
        (late) => void late.close().catch(() => {}),
      );
      ch.on("error", (e: Error) => {
        if (this.#ch === ch || this.#ch === null) this.#chError = e;
      });
      ch.on("close", () => {
        if (this.#ch === ch) this.#ch = null;
      });
      this.#chError = null;
      try {
        await this.#declare(ch);
      } catch (e) {
        await ch.close().catch(() => {});
        throw e;
      }
      this.#ch = ch;
      this.#reconnect.succeeded();
      return ch;
    } catch (e) {
      const permanent = classifyRabbitmq(e);
      // A channel that cannot be opened on a live-looking connection (a silently dead
      // socket, until heartbeats notice) means the connection is in doubt: start over.
      if (!permanent && this.#conn) {
        const conn = this.#conn;
        this.#conn = null;
        this.#ch = null;
        conn.close().catch(() => {});
      }
      const msg = e instanceof PublishError ? e.message : `rabbitmq: ${errorMessage(e)}`;
      throw this.#reconnect.failed(msg, permanent);
    }
  }

  async #declare(ch: ConfirmChannel): Promise<void> {
    const d = this.config.declare;
    if (!d) return;
    await declareTopology(ch, {
      exchange: this.config.exchange,
      exchangeType: d.exchange_type,
      queue: this.config.queue,
      durable: d.durable,
      queueType: d.queue_type,
      routingKey: this.#target.routingKey,
    }, this.config.timeout_ms);
  }

  #options(m: Outgoing): Options.Publish {
    const headers: Record<string, string | number> = {
      ...this.config.headers,
      ...m.headers,
      "x-event-id": m.eventId,
      "x-delivery-id": m.id,
      "x-attempt": m.attempt,
    };
    return {
      persistent: true,
      mandatory: this.config.mandatory,
      messageId: m.id,
      correlationId: m.eventId,
      contentType: m.headers["content-type"],
      contentEncoding: m.headers["content-encoding"],
      timestamp: Math.floor(Date.now() / 1000),
      appId: "event-router",
      headers,
    };
  }

  async #send(
    ch: ConfirmChannel,
    batch: readonly Outgoing[],
    signal: AbortSignal,
  ): Promise<PublishResult[]> {
    const { exchange, routingKey } = this.#target;
    const results: (PublishResult | undefined)[] = new Array(batch.length);
    const returned = new Map<number, string>();
    const waiting = new Map<string, number[]>(); // messageId -> indices awaiting a return
    let left = batch.length;
    let allConfirmed!: () => void;
    const done = new Promise<void>((r) => (allConfirmed = r));
    const settle = (i: number, r: PublishResult) => {
      if (results[i]) return;
      results[i] = r;
      if (--left === 0) allConfirmed();
    };

    // RabbitMQ sends basic.return before the basic.ack of the same message.
    const onReturn = (msg: Message) => {
      const q = waiting.get(String(msg.properties.messageId));
      const i = q?.shift();
      if (i === undefined) return;
      const f = msg.fields as unknown as { replyCode?: number; replyText?: string };
      returned.set(
        i,
        `rabbitmq: message returned as unroutable (${f.replyCode ?? 312} ${
          f.replyText ?? "NO_ROUTE"
        }): no queue bound to exchange "${exchange}" with routing key "${routingKey}"`,
      );
    };
    ch.on("return", onReturn);

    const confirmError = (e: unknown): PublishResult => {
      const cause = this.#chError;
      if (cause) return toResult(cause, classifyRabbitmq);
      return failure(`rabbitmq: ${errorMessage(e)}`, false);
    };

    try {
      for (let i = 0; i < batch.length; i++) {
        if (signal.aborted) {
          settle(i, failure("rabbitmq: publish aborted", false));
          continue;
        }
        const m = batch[i];
        if (this.config.mandatory) {
          const q = waiting.get(m.id) ?? [];
          q.push(i);
          waiting.set(m.id, q);
        }
        let writable: boolean;
        try {
          writable = ch.publish(
            exchange,
            routingKey,
            Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength),
            this.#options(m),
            (err: unknown) => {
              if (err) return settle(i, confirmError(err));
              const why = returned.get(i);
              settle(i, why ? failure(why, true) : { ok: true });
            },
          );
        } catch (e) {
          // Thrown synchronously: channel already closed, or a header table too large.
          settle(i, this.#chError ? confirmError(e) : toResult(e, classifyRabbitmq));
          continue;
        }
        if (!writable) await this.#drain(ch, signal);
      }
      try {
        await bounded(done, this.config.timeout_ms, signal, "rabbitmq publisher confirms");
      } catch (e) {
        // Unknown fate: fail the rest retriably and drop the channel so a late ack cannot
        // be mistaken for a later message's.
        const why = failure(errorMessage(e), false);
        for (let i = 0; i < batch.length; i++) settle(i, why);
        if (this.#ch === ch) this.#ch = null;
        ch.close().catch(() => {});
      }
    } finally {
      ch.off("return", onReturn);
    }
    return results as PublishResult[];
  }

  /** Waits for the channel's write buffer to drain (bounded; a close also ends the wait). */
  async #drain(ch: ConfirmChannel, signal: AbortSignal): Promise<void> {
    let cleanup = () => {};
    const drained = new Promise<void>((resolve) => {
      const go = () => resolve();
      ch.once("drain", go);
      ch.once("close", go);
      cleanup = () => {
        ch.off("drain", go);
        ch.off("close", go);
      };
    });
    try {
      await bounded(drained, this.config.timeout_ms, signal, "rabbitmq write buffer drain");
    } catch {
      // The confirm wait that follows reports the outcome.
    } finally {
      cleanup();
    }
  }
}

export const rabbitmqPublisherFactory: PublisherFactory<RabbitmqConfig> = {
  type: "rabbitmq",
  schema: rabbitmqConfigSchema,
  parseConfig: parseRabbitmqConfig,
  create: (config, ctx) => new RabbitmqPublisher(config, ctx),
};
