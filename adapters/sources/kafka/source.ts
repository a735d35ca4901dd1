/**
 * Kafka consumer (kafkajs): one consumer in `group_id` per trigger and node; the group spreads
 * the partitions over every node running the trigger, so it runs once across the cluster.
 *
 * - Each fetched batch (one partition) is committed to the store in chunks of `max_batch`;
 *   the chunk's offset is committed to Kafka only after the store commit (no auto-commit). A
 *   crash before that leaves the offset behind: the group's next member re-reads from there,
 *   and the dedup key `<topic>/<partition>/<offset>` catches what was already an event.
 * - Event: the value's bytes; headers = the message's headers, and `x-kafka-topic`,
 *   `x-kafka-partition`, `x-kafka-offset`, `x-kafka-key`, `x-kafka-timestamp`.
 * - While the store refuses events, the batch is held (heartbeats keep the group membership)
 *   and nothing further is fetched for the partition.
 * - kafkajs restarts nothing by itself here (restartOnFailure: false): a crash ends the
 *   session and the shared supervisor reconnects with backoff, so the state shows it.
 * - Status: `lag` = messages behind the high watermark, summed over the partitions seen;
 *   `partitions` = the assignment of this member.
 */
import type { Consumer, EachBatchPayload, KafkaMessage } from "kafkajs";
import type { Source, SourceContext, SourceEvent, SourceFactory } from "../../../core/ports.ts";
import { bounded } from "../../brokers/errors.ts";
import {
  checkSeeds,
  classifyKafka,
  createKafka,
  describe,
  type KafkaClientContext,
} from "../../brokers/kafka/client.ts";
import { commitBatch } from "../consumer/commit.ts";
import { addHeaders, bytesOf } from "../consumer/headers.ts";
import { supervise } from "../consumer/supervise.ts";
import { type KafkaSourceConfig, kafkaSourceSchema, parseKafkaSourceConfig } from "./config.ts";

const utf8 = new TextDecoder();
const PARTITIONS_AT_ONCE = 4;

export function kafkaEvent(topic: string, partition: number, m: KafkaMessage): SourceEvent {
  const headers: Record<string, string> = {};
  addHeaders(headers, m.headers as Record<string, unknown> | undefined);
  headers["x-kafka-topic"] = topic;
  headers["x-kafka-partition"] = String(partition);
  headers["x-kafka-offset"] = m.offset;
  headers["x-kafka-timestamp"] = m.timestamp;
  if (m.key) headers["x-kafka-key"] = utf8.decode(m.key);
  return {
    body: bytesOf(m.value),
    headers,
    dedupKey: `${topic}/${partition}/${m.offset}`,
  };
}

export class KafkaSource implements Source {
  readonly #client: KafkaClientContext;
  readonly #topics: string[];
  /** Messages behind the high watermark, by topic/partition. */
  readonly #lag = new Map<string, number>();

  constructor(readonly config: KafkaSourceConfig, readonly ctx: SourceContext) {
    this.#client = { log: ctx.log, outbound: ctx.outbound };
    this.#topics = config.topics ?? [config.topic!];
  }

  start(signal: AbortSignal): Promise<void> {
    return supervise(
      this.ctx,
      signal,
      { broker: "kafka", permanent: classifyKafka },
      (s, up) => this.#session(s, up),
    );
  }

  async #session(signal: AbortSignal, up: (s?: Record<string, unknown>) => void): Promise<void> {
    const c = this.config;
    await checkSeeds(c, this.#client);
    const consumer = (await createKafka(c, this.#client)).consumer({
      groupId: c.group_id,
      sessionTimeout: c.session_timeout_ms,
      heartbeatInterval: Math.min(3_000, Math.floor(c.session_timeout_ms / 3)),
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 1_000,
      retry: {
        retries: 3,
        initialRetryTime: 200,
        maxRetryTime: 2_000,
        restartOnFailure: () => Promise.resolve(false),
      },
    });
    let crashed!: (e: Error) => void;
    const crash = new Promise<never>((_, reject) => (crashed = reject));
    crash.catch(() => {});
    consumer.on(consumer.events.CRASH, (e) => crashed(new Error(describe(e.payload.error))));
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.#lag.clear();
      up({ group_id: c.group_id, partitions: e.payload.memberAssignment });
    });
    const stopped = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
    try {
      await bounded(consumer.connect(), c.timeout_ms, signal, "kafka connect");
      await bounded(
        consumer.subscribe({ topics: this.#topics, fromBeginning: c.from_beginning }),
        c.timeout_ms,
        signal,
        `kafka subscribe to ${this.#topics.join(", ")}`,
      );
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        // Several partitions' batches commit at once; the node's group commit makes them one
        // transaction, so the store's commit latency is shared (order holds per partition).
        partitionsConsumedConcurrently: PARTITIONS_AT_ONCE,
        eachBatch: (p) => this.#batch(consumer, p, signal),
      });
      await Promise.race([crash, stopped]);
    } catch (e) {
      throw signal.aborted ? e : new Error(describe(e), { cause: e });
    } finally {
      // Waits for a batch in progress; that batch sees the abort and commits nothing more.
      await bounded(consumer.disconnect(), c.timeout_ms, undefined, "kafka disconnect")
        .catch(() => {});
    }
  }

  async #batch(consumer: Consumer, p: EachBatchPayload, signal: AbortSignal): Promise<void> {
    const { batch } = p;
    const { topic, partition } = batch;
    const max = this.config.max_batch;
    for (let i = 0; i < batch.messages.length; i += max) {
      if (signal.aborted || !p.isRunning() || p.isStale()) return;
      const chunk = batch.messages.slice(i, i + max);
      const r = await commitBatch(
        this.ctx,
        chunk.map((m) => kafkaEvent(topic, partition, m)),
        signal,
        { whilePaused: () => p.heartbeat() },
      );
      if (!r) return; // stopping before the commit: the offset stays where it was
      const last = chunk[chunk.length - 1].offset;
      p.resolveOffset(last);
      await consumer.commitOffsets([{ topic, partition, offset: String(BigInt(last) + 1n) }]);
      this.#lag.set(
        `${topic}/${partition}`,
        Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(last) - 1n)),
      );
      let lag = 0;
      for (const v of this.#lag.values()) lag += v;
      this.ctx.report({ lag });
      await p.heartbeat();
    }
  }
}

export const kafkaSourceFactory: SourceFactory<KafkaSourceConfig> = {
  type: "kafka",
  schema: kafkaSourceSchema,
  parseConfig: parseKafkaSourceConfig,
  create: (config, ctx) => new KafkaSource(config, ctx),
};
