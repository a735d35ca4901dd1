/**
 * A fresh queue/topic/stream/subscription per broker, with the broker's own client to produce
 * to it and to ask what is still unacknowledged: what the consumer conformance suite, the
 * end-to-end consumer test and `deno task bench --consumers` all consume from.
 */
import { Buffer } from "node:buffer";
import { connect } from "amqplib";
import type { ChannelModel } from "amqplib";
import { Kafka, logLevel } from "kafkajs";
import { Redis } from "ioredis";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { PubSub, v1 } from "@google-cloud/pubsub";
import type { ConsumerUnderTest, Produced } from "../conformance/consumer_suite.ts";
import { uniqueName } from "./unique_name.ts";

const uniq = () => uniqueName("er-src");
const dec = new TextDecoder();

/** Runs `fn` on `items` with at most `n` at once. */
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

// ---- RabbitMQ -------------------------------------------------------------------------------

export async function withAmqp<T>(url: string, fn: (conn: ChannelModel) => Promise<T>): Promise<T> {
  const conn = await connect(url);
  try {
    return await fn(conn);
  } finally {
    await conn.close().catch(() => {});
  }
}

/** Publishes persistent messages (message id = `id`, header x-seq) and waits for confirms. */
export async function amqpPublish(url: string, exchange: string, key: string, msgs: Produced[]) {
  await withAmqp(url, async (conn) => {
    const ch = await conn.createConfirmChannel();
    for (const m of msgs) {
      ch.publish(exchange, key, Buffer.from(m.body), {
        persistent: true,
        messageId: m.id,
        contentType: "application/json",
        headers: { "x-seq": m.seq },
      });
    }
    await ch.waitForConfirms();
  });
}

/** A durable queue; unacked = its ready messages (with no consumer, unacked ones are ready). */
export async function rabbitmqTarget(url: string, prefetch = 50): Promise<ConsumerUnderTest> {
  const queue = uniq();
  await withAmqp(url, async (conn) => {
    await (await conn.createChannel()).assertQueue(queue, { durable: true });
  });
  return {
    config: { url, queue, prefetch, timeout_ms: 3_000 },
    produce: (msgs) => amqpPublish(url, "", queue, msgs),
    unacked: () =>
      withAmqp(url, async (c) => (await (await c.createChannel()).checkQueue(queue)).messageCount),
    cleanup: () =>
      withAmqp(url, async (c) => void await (await c.createChannel()).deleteQueue(queue))
        .catch(() => {}),
  };
}

// ---- Kafka ----------------------------------------------------------------------------------

export const kafkaClient = (brokers: string[]) =>
  new Kafka({ clientId: "er-src-test", brokers, logLevel: logLevel.NOTHING });

export async function withKafkaAdmin<T>(
  brokers: string[],
  fn: (a: ReturnType<Kafka["admin"]>) => Promise<T>,
): Promise<T> {
  const admin = kafkaClient(brokers).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Messages keyed `k<seq % 7>`, headers x-seq and x-id, acks from all replicas. */
export async function kafkaProduce(brokers: string[], topic: string, msgs: Produced[]) {
  const producer = kafkaClient(brokers).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (const part of chunks(msgs, 1_000)) {
      await producer.send({
        topic,
        acks: -1,
        messages: part.map((m) => ({
          key: `k${m.seq % 7}`,
          value: Buffer.from(m.body),
          headers: { ...m.headers, "x-id": m.id },
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Messages of `topics` the group has not committed past (its lag). */
export async function kafkaGroupLag(brokers: string[], groupId: string, topics: string[]) {
  return await withKafkaAdmin(brokers, async (admin) => {
    let lag = 0;
    const committed = await admin.fetchOffsets({ groupId, topics });
    for (const topic of topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      const mine = committed.find((t) => t.topic === topic)?.partitions ?? [];
      for (const p of ends) {
        const c = Number(mine.find((x) => x.partition === p.partition)?.offset ?? -1);
        lag += Number(p.high) - (c < 0 ? Number(p.low) : c);
      }
    }
    return lag;
  });
}

/** A fresh topic and group (from the beginning); unacked = the group's lag. */
export async function kafkaTarget(brokers: string[], partitions = 3): Promise<ConsumerUnderTest> {
  const topic = uniq(), group = `${topic}-g`;
  await withKafkaAdmin(
    brokers,
    (a) => a.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true }),
  );
  return {
    config: {
      brokers,
      topic,
      group_id: group,
      from_beginning: true,
      session_timeout_ms: 6_000,
      timeout_ms: 5_000,
    },
    produce: (msgs) => kafkaProduce(brokers, topic, msgs),
    unacked: () => kafkaGroupLag(brokers, group, [topic]),
    cleanup: () =>
      withKafkaAdmin(brokers, (a) => a.deleteTopics({ topics: [topic], timeout: 5_000 }))
        .catch(() => {}),
  };
}

// ---- Redis Streams --------------------------------------------------------------------------

export async function withRedis<T>(url: string, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await r.connect();
  try {
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/** Entries with fields body, x-seq and x-id, pipelined. */
export async function redisAdd(url: string, stream: string, msgs: Produced[]) {
  await withRedis(url, async (r) => {
    for (const part of chunks(msgs, 1_000)) {
      const p = r.pipeline();
      for (const m of part) {
        p.xadd(stream, "*", "body", Buffer.from(m.body), "x-seq", String(m.seq), "x-id", m.id);
      }
      await p.exec();
    }
  });
}

/** Pending (delivered, not acked) plus lag (not yet delivered) of `group`. */
export async function redisUnacked(url: string, stream: string, group: string): Promise<number> {
  return await withRedis(url, async (r) => {
    const rows = await r.call("XINFO", "GROUPS", stream) as unknown[][];
    for (const row of rows) {
      const info: Record<string, unknown> = {};
      for (let i = 0; i + 1 < row.length; i += 2) info[String(row[i])] = row[i + 1];
      if (info.name === group) return Number(info.pending) + Number(info.lag ?? 0);
    }
    return await r.xlen(stream); // no group yet: everything is waiting
  });
}

/** A fresh stream and group (start_id "0"); unacked = pending + lag. */
export function redisTarget(url: string, extra: Record<string, unknown> = {}): ConsumerUnderTest {
  const stream = uniq(), group = `${stream}-g`;
  return {
    config: { url, stream, group, start_id: "0", block_ms: 500, timeout_ms: 2_000, ...extra },
    produce: (msgs) => redisAdd(url, stream, msgs),
    unacked: () => redisUnacked(url, stream, group),
    cleanup: () => withRedis(url, async (r) => void await r.del(stream)).catch(() => {}),
  };
}

// ---- SQS ------------------------------------------------------------------------------------

export interface AwsPeer {
  endpoint: string;
  region: string;
  access_key_id: string;
  secret_access_key: string;
}

export function sqsAdmin(a: AwsPeer): SQSClient {
  return new SQSClient({
    endpoint: a.endpoint,
    region: a.region,
    credentials: { accessKeyId: a.access_key_id, secretAccessKey: a.secret_access_key },
  });
}

/** SendMessageBatch of 10 (8 requests at once); attributes x-seq (Number) and x-id. */
export async function sqsSend(sqs: SQSClient, url: string, msgs: Produced[], fifo = false) {
  await pool(chunks(msgs, 10), 8, async (part) => {
    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: part.map((m) => ({
          Id: `e${m.seq}`,
          MessageBody: dec.decode(m.body),
          MessageAttributes: {
            "x-seq": { DataType: "Number", StringValue: String(m.seq) },
            "x-id": { DataType: "String", StringValue: m.id },
          },
          ...(fifo ? { MessageGroupId: `g${m.seq % 2}`, MessageDeduplicationId: m.id } : {}),
        })),
      }),
    );
    if (out.Failed?.length) {
      throw new Error(`SendMessageBatch failed: ${JSON.stringify(out.Failed)}`);
    }
  });
}

export interface SqsTarget extends ConsumerUnderTest {
  /** Creates the queue again under the same name (after an in-memory server restarted). */
  recreate(): Promise<void>;
}

/** A fresh queue (FIFO when `name` ends in .fifo); unacked = visible + in flight + delayed. */
export async function sqsTarget(a: AwsPeer, name = uniq()): Promise<SqsTarget> {
  const sqs = sqsAdmin(a);
  const fifo = name.endsWith(".fifo");
  const create = () =>
    sqs.send(
      new CreateQueueCommand({ QueueName: name, Attributes: fifo ? { FifoQueue: "true" } : {} }),
    );
  const url = (await create()).QueueUrl!;
  return {
    // A short visibility timeout: messages a stopped receive left hidden come back soon.
    config: {
      queue_url: url,
      ...a,
      wait_seconds: 1,
      visibility_timeout: 5,
      receivers: 2,
      timeout_ms: 3_000,
    },
    produce: (msgs) => sqsSend(sqs, url, msgs, fifo),
    async unacked() {
      const out = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
          ],
        }),
      );
      const attrs = out.Attributes ?? {};
      return Number(attrs.ApproximateNumberOfMessages) +
        Number(attrs.ApproximateNumberOfMessagesNotVisible) +
        Number(attrs.ApproximateNumberOfMessagesDelayed);
    },
    async recreate() {
      const again = (await create()).QueueUrl;
      if (again !== url) throw new Error(`queue URL changed after the restart: ${again}`);
    },
    async cleanup() {
      await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => {});
      sqs.destroy();
    },
  };
}

// ---- Pub/Sub --------------------------------------------------------------------------------

export interface PubsubTarget extends ConsumerUnderTest {
  /** Creates topic and subscription again (after an in-memory server restarted). */
  recreate(): Promise<void>;
}

/**
 * A fresh topic with one subscription; unacked = what a synchronous pull gets (the consumer is
 * stopped, so nothing is leased), handed straight back afterwards (ack deadline 0).
 */
export async function pubsubTarget(
  host: string,
  project: string,
  ordered = false,
): Promise<PubsubTarget> {
  const admin = new PubSub({
    projectId: project,
    apiEndpoint: host,
    emulatorMode: true,
    universeDomain: "googleapis.com",
  });
  const id = crypto.randomUUID().slice(0, 8);
  const topicName = `er-src-${id}`, subName = `er-src-${id}-sub`;
  const create = async () => {
    const [topic] = await admin.createTopic(topicName);
    await topic.createSubscription(subName, { enableMessageOrdering: ordered });
  };
  await create();
  const topic = admin.topic(topicName, { messageOrdering: ordered });
  const subPath = `projects/${project}/subscriptions/${subName}`;
  const puller = () =>
    new v1.SubscriberClient(admin.options as ConstructorParameters<typeof v1.SubscriberClient>[0]);
  return {
    config: { project_id: project, subscription: subName, emulator_host: host, timeout_ms: 3_000 },
    async produce(msgs) {
      await Promise.all(msgs.map((m) =>
        topic.publishMessage({
          data: Buffer.from(m.body),
          attributes: { ...m.headers, "x-id": m.id },
          orderingKey: ordered ? `k${m.seq % 2}` : undefined,
        })
      ));
    },
    async unacked() {
      const client = puller();
      const seen = new Set<string>();
      const ackIds: string[] = [];
      try {
        for (let empty = 0; empty < 2;) {
          const [resp] = await client.pull(
            { subscription: subPath, maxMessages: 1000, returnImmediately: true },
            { timeout: 5_000 },
          );
          const got = resp.receivedMessages ?? [];
          if (got.length === 0) {
            empty++;
            await new Promise((r) => setTimeout(r, 200));
            continue;
          }
          for (const r of got) seen.add(r.message!.messageId!);
          ackIds.push(...got.map((r) => r.ackId!));
        }
        // Only now, or the next pull would get them again at once.
        if (ackIds.length) {
          await client.modifyAckDeadline({ subscription: subPath, ackIds, ackDeadlineSeconds: 0 });
        }
      } finally {
        await client.close();
      }
      return seen.size;
    },
    async recreate() {
      await create();
      // pstest numbers message ids from m0 again after a restart, where Pub/Sub's are unique:
      // spend the ids the first half had on a scratch topic, or the dedup key (the message
      // id) would rightly call the second half duplicates.
      const [scratch] = await admin.createTopic(`${topicName}-scratch`);
      await Promise.all(
        Array.from({ length: 200 }, () => scratch.publishMessage({ data: Buffer.from("x") })),
      );
      await scratch.delete();
    },
    async cleanup() {
      await admin.subscription(subName).delete().catch(() => {});
      await admin.topic(topicName).delete().catch(() => {});
      await admin.close();
    },
  };
}
