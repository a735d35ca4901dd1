/**
 * Kafka publisher (kafkajs): one idempotent producer per destination (acks -1, one request in
 * flight), a whole batch in one `producer.send`.
 *
 * - Message: value = body; key = Outgoing.key, else the config's `key` template; headers =
 *   config headers + Outgoing.headers + `x-delivery-id`, `x-event-id`, `x-attempt`.
 * - kafkajs's own retries are kept short; every connect and send is bounded by `timeout_ms` and
 *   the caller's AbortSignal. After a retriable failure the producer is dropped and a new one
 *   connects on the next publish, after a backoff pause.
 * - Failures (see ../errors.ts): authorisation/authentication, a missing topic with auto
 *   creation off, an invalid topic, a message or batch too large -> permanent; connection
 *   errors, timeouts, leader changes and the rest -> retriable. When a batch fails permanently
 *   its messages are sent one by one, so only the bad ones fail.
 * - kafkajs logs go to our Logger at warn, and only kafkajs's warnings and errors.
 */
import { Buffer } from "node:buffer";
import type { Kafka } from "kafkajs";
import type { CompressionTypes, Message, Producer } from "kafkajs";
import type {
  Outgoing,
  Publisher,
  PublisherContext,
  PublisherFactory,
  PublishResult,
} from "../../../core/ports.ts";
import { bounded, failure, PublishError, Reconnector } from "../errors.ts";
import { type KafkaConfig, kafkaConfigSchema, parseKafkaConfig } from "./config.ts";
import { compileKey, type KeyFn } from "./key.ts";
import { checkSeeds, classifyKafka, createKafka, describe, kafkaLibrary } from "./client.ts";

export { classifyKafka };

export class KafkaPublisher implements Publisher {
  /** Made at the first connect: kafkajs loads only when a Kafka destination is used. */
  #kafka: Kafka | null = null;
  #producer: Producer | null = null;
  #opening: Promise<Producer> | null = null;
  #reconnect = new Reconnector("kafka");
  #key: KeyFn | null;

  constructor(readonly config: KafkaConfig, readonly ctx: PublisherContext) {
    this.#key = config.key ? compileKey(config.key) : null;
  }

  healthy(): boolean {
    return this.#producer !== null;
  }

  async connect(signal: AbortSignal): Promise<void> {
    await this.#ready(signal);
  }

  async close(): Promise<void> {
    const p = this.#producer;
    this.#producer = null;
    this.#opening = null;
    this.#reconnect.succeeded();
    if (p) {
      await bounded(p.disconnect(), this.config.timeout_ms, undefined, "kafka close").catch(
        () => {},
      );
    }
  }

  async publish(batch: readonly Outgoing[], signal: AbortSignal): Promise<PublishResult[]> {
    if (batch.length === 0) return [];
    if (signal.aborted) return batch.map(() => failure("kafka: publish aborted", false));
    let producer: Producer;
    try {
      producer = await this.#ready(signal);
    } catch (e) {
      const r = e instanceof PublishError
        ? failure(e.message, e.permanent, e.retryAfterMs)
        : failure(describe(e), classifyKafka(e));
      return batch.map(() => r);
    }
    const messages = batch.map((m) => this.#message(m));
    try {
      await this.#send(producer, messages, signal);
      return batch.map(() => ({ ok: true }));
    } catch (e) {
      const permanent = classifyKafka(e);
      if (!permanent) {
        // Unknown fate (timeout, abort, connection loss): start over with a new producer;
        // an abort is the caller's doing, so it earns no backoff pause.
        this.#drop(producer, describe(e), !signal.aborted);
        return batch.map(() => failure(describe(e), false));
      }
      if (batch.length === 1) return [failure(describe(e), true)];
      // Find the bad ones: one by one (duplicates are possible, consumers dedupe on the id).
      const out: PublishResult[] = [];
      for (const m of messages) {
        try {
          await this.#send(producer, [m], signal);
          out.push({ ok: true });
        } catch (e1) {
          const p1 = classifyKafka(e1);
          out.push(failure(describe(e1), p1));
          if (!p1) this.#drop(producer, describe(e1), !signal.aborted);
        }
      }
      return out;
    }
  }

  #send(producer: Producer, messages: Message[], signal: AbortSignal) {
    return bounded(
      producer.send({
        topic: this.config.topic,
        messages,
        acks: this.config.acks,
        timeout: this.config.timeout_ms,
        compression: (this.config.compression === "gzip" ? 1 : 0) as CompressionTypes,
      }),
      this.config.timeout_ms,
      signal,
      `kafka send to ${this.config.topic}`,
    );
  }

  #message(m: Outgoing): Message {
    const headers: Record<string, string> = {
      ...this.config.headers,
      ...m.headers,
      "x-delivery-id": m.id,
      "x-event-id": m.eventId,
      "x-attempt": String(m.attempt),
    };
    return {
      key: m.key ?? this.#key?.(m) ?? null,
      value: Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength),
      headers,
    };
  }

  /** Forgets a producer after a failure; the next publish makes a new one (after backoff). */
  #drop(producer: Producer, why: string, pause = true) {
    if (this.#producer === producer) this.#producer = null;
    this.#reconnect.dropped(why, pause);
    producer.disconnect().catch(() => {});
  }

  #ready(signal: AbortSignal): Promise<Producer> {
    if (this.#producer) return Promise.resolve(this.#producer);
    this.#opening ??= this.#open().finally(() => (this.#opening = null));
    return bounded(this.#opening, this.config.timeout_ms + 1_000, signal, "kafka connect");
  }

  async #open(): Promise<Producer> {
    this.#reconnect.check();
    const client = { log: this.ctx.log, outbound: this.ctx };
    await checkSeeds(this.config, client);
    this.#kafka ??= await createKafka(this.config, client);
    const { Partitioners } = await kafkaLibrary();
    const producer = this.#kafka.producer({
      idempotent: this.config.idempotent,
      maxInFlightRequests: this.config.idempotent ? 1 : 5,
      allowAutoTopicCreation: this.config.allow_auto_topic_creation,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
    try {
      await bounded(producer.connect(), this.config.timeout_ms, undefined, "kafka connect");
      this.#producer = producer;
      this.#reconnect.succeeded();
      return producer;
    } catch (e) {
      producer.disconnect().catch(() => {});
      const msg = describe(e);
      const permanent = classifyKafka(e);
      throw this.#reconnect.failed(msg, permanent);
    }
  }
}

export const kafkaPublisherFactory: PublisherFactory<KafkaConfig> = {
  type: "kafka",
  schema: kafkaConfigSchema,
  parseConfig: parseKafkaConfig,
  create: (config, ctx) => new KafkaPublisher(config, ctx),
};
