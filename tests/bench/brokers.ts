/**
 * Broker throughput, side by side in one run on this machine, for each broker whose peer
 * settings exist (tests/peers/peers.env):
 *   raw     the broker's own client library publishing the same 1 KiB body with the settings the
 *           adapter uses (RabbitMQ confirm channel + persistent + mandatory; Kafka idempotent
 *           producer, acks=all, one request in flight; Redis pipelined XADD; SQS
 *           SendMessageBatch and SNS PublishBatch of 10 with 4 requests in flight; Pub/Sub
 *           publishMessage with the adapter's batching), in batches of the dispatcher's claim
 *           size (500), for `seconds`: messages/s to broker-confirmed.
 *   router  the real router process with one destination of that type and one route, driven
 *           by wrk for `seconds`, then drained: delivered deliveries per second from the first
 *           request until every accepted event is delivered (timed by the rows in the router's
 *           SQLite file: events.received_at, the deliveries' settle time); then "backlog": the same deliveries set
 *           back to pending at once and timed until delivered again (dispatcher + adapter
 *           alone, no ingest competing), with the time the dispatcher spent inside publish()
 *           (its publish_batch_seconds histogram) against the rest (claim, settle, loop).
 *   floor   the ceiling of any durable webhook -> broker path here: the journal floor
 *           (tests/bench/journal_floor_server.ts: Deno.serve + fdatasync'd append, nothing
 *           else) in this process, each accepted body then published by the raw client, in
 *           batches of up to its batch size. No routing, store, lease or settle. Driven by the
 *           same wrk run as the router's, timed the same way (first request -> last confirm).
 * Prints a table; returns the numbers for run.ts's JSON (`deno task bench --brokers`), or writes
 * bench/results/brokers-<time>.json when run on its own:
 *   deno run -A tests/bench/brokers.ts [--seconds=5] [--connections=64] [--brokers=redis,kafka]
 *     [--dispatch-concurrency=N] [--drain-timeout=45]
 */
import { Buffer } from "node:buffer";
import amqp from "amqplib";
import { Kafka, logLevel, Partitioners } from "kafkajs";
import { Redis } from "ioredis";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  PublishBatchCommand,
  SNSClient,
} from "@aws-sdk/client-sns";
import { PubSub } from "@google-cloud/pubsub";
import { peer } from "../helpers/peers.ts";
import { apiClient, bootstrapAdmin, freePort, startRouter } from "../helpers/router_process.ts";
import { startJournalFloor } from "./journal_floor_server.ts";

/** The dispatcher's claim size (core/delivery/dispatcher.ts `batchSize`): one raw batch. */
const RAW_BATCH = 500;
const ALL = ["rabbitmq", "kafka", "redis", "sqs", "sns", "pubsub"] as const;
type BrokerName = typeof ALL[number];

/** Exactly 1 KiB of JSON, the webhook body and the raw message body alike. */
export const BODY_1K = (() => {
  const head = '{"action":"opened","repository":{"full_name":"acme/widgets","id":1296269},"pad":"';
  const s = head + "x".repeat(1024 - head.length - 2) + '"}';
  if (s.length !== 1024) throw new Error(`body is ${s.length} bytes`);
  return s;
})();
const BODY_BUF = Buffer.from(BODY_1K);

export interface RawResult {
  messages: number;
  seconds: number;
  msgs_per_s: number;
  batch: number;
  in_flight: number;
}

export interface RouterResult {
  wrk_rps: number;
  wrk_requests: number;
  non2xx: number;
  socket_errors: number;
  accepted: number;
  delivered: number;
  dead: number;
  /** First request -> the last accepted event (sampled every 200 ms). */
  ingest_s: number;
  accepted_per_s: number;
  /** First request -> every accepted event delivered (or the drain timeout). */
  total_s: number;
  delivered_per_s: number;
  /** From the router's /metrics during the e2e run: batches, mean size, time inside publish(). */
  publish_batches: number;
  mean_batch: number;
  publish_s: number;
  timed_out: boolean;
  /**
   * Dispatch alone: every delivered delivery of the e2e run set back to pending at once (the
   * same UPDATE a DLQ bulk retry makes), timed until all are delivered again.
   */
  backlog?: BacklogResult;
}

export interface BacklogResult {
  deliveries: number;
  /** From the requeue to the first publish (the dispatcher's idle sleep), not in `seconds`. */
  wake_ms: number;
  seconds: number;
  per_s: number;
  publish_batches: number;
  mean_batch: number;
  /** Seconds inside publish() (the dispatcher's publish_batch_seconds histogram). */
  publish_s: number;
  /** Deliveries per second of time inside publish(): the adapter alone, inside the router. */
  in_publish_per_s: number | null;
  /**
   * publish_s / seconds: publishes in flight on average. With one dispatch loop, 1 - this is
   * the share of the time spent claiming and settling (store work); with N loops (the router's
   * DISPATCH_CONCURRENCY) it tops out at N when publishing is the only limit.
   */
  publish_busy: number;
  timed_out: boolean;
}

/** The journal floor with the raw client publishing what it accepted (see the header). */
export interface FloorResult {
  wrk_rps: number;
  accepted: number;
  delivered: number;
  /** First request -> the last accepted body confirmed by the broker. */
  total_s: number;
  delivered_per_s: number;
  timed_out: boolean;
}

export interface BrokerResult {
  broker: BrokerName;
  /** The router's DISPATCH_CONCURRENCY as given, or "default". */
  dispatch_concurrency: string;
  raw?: RawResult;
  router?: RouterResult;
  /** router.delivered_per_s / raw.msgs_per_s */
  ratio?: number;
  /** router.backlog.per_s / raw.msgs_per_s (the dispatch path alone, no ingest) */
  backlog_ratio?: number;
  floor?: FloorResult;
  /** floor.delivered_per_s / raw.msgs_per_s: what the goal's ratio can reach here at most */
  floor_ratio?: number;
  error?: string;
}

interface Target {
  /** Destination config for the router. */
  config: Record<string, unknown>;
  /** Empties the target between phases where its size slows the broker (moto's SQS). */
  reset?(): Promise<void>;
  cleanup(): Promise<void>;
}

interface RawClient {
  /** Publishes `n` messages and resolves once the broker confirmed all of them. */
  send(n: number): Promise<void>;
  /** Requests in flight at once (the adapter's concurrency). */
  inFlight: number;
  /** Messages per call of `send`. */
  batch: number;
  close(): Promise<void>;
}

interface BrokerCase {
  needs: string[];
  /** A fresh target (queue/topic/stream) named by `tag`. */
  target(tag: string): Promise<Target>;
  raw(target: Target): Promise<RawClient>;
}

const uid = () => crypto.randomUUID();
const msgHeaders = () => ({
  "content-type": "application/json",
  "x-event-id": `evt_${uid()}`,
  "x-delivery-id": `dlv_${uid()}`,
  "x-attempt": "1",
});

function awsClientConfig(endpoint: string) {
  return {
    endpoint,
    region: peer("AWS_REGION") ?? "us-east-1",
    credentials: {
      accessKeyId: peer("AWS_ACCESS_KEY_ID") ?? "test",
      secretAccessKey: peer("AWS_SECRET_ACCESS_KEY") ?? "test",
    },
    // The adapter's settings (adapters/brokers/sqs/aws.ts clientOptions): one attempt per call.
    maxAttempts: 1,
  };
}

function awsDestination(endpoint: string) {
  return {
    endpoint,
    region: peer("AWS_REGION") ?? "us-east-1",
    access_key_id: peer("AWS_ACCESS_KEY_ID") ?? "test",
    secret_access_key: peer("AWS_SECRET_ACCESS_KEY") ?? "test",
  };
}

/** SQS/SNS message attributes as the adapter sets them (delivery_id, event_id, content-type). */
function awsAttrs() {
  const h = msgHeaders();
  return {
    delivery_id: { DataType: "String", StringValue: h["x-delivery-id"] },
    event_id: { DataType: "String", StringValue: h["x-event-id"] },
    "content-type": { DataType: "String", StringValue: h["content-type"] },
  };
}

const CASES: Record<BrokerName, BrokerCase> = {
  rabbitmq: {
    needs: ["RABBITMQ_URL"],
    target(tag) {
      const url = peer("RABBITMQ_URL")!;
      return Promise.resolve({
        config: {
          url,
          queue: tag,
          declare: { queue_type: "classic", durable: true },
        },
        async cleanup() {
          const conn = await amqp.connect(url);
          const ch = await conn.createChannel();
          await ch.deleteQueue(tag).catch(() => {});
          await conn.close().catch(() => {});
        },
      });
    },
    async raw(t) {
      const queue = t.config.queue as string;
      const conn = await amqp.connect(t.config.url as string);
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue(queue, { durable: true });
      return {
        inFlight: 1,
        batch: RAW_BATCH,
        async send(n) {
          for (let i = 0; i < n; i++) {
            const headers = msgHeaders();
            const ok = ch.publish("", queue, BODY_BUF, {
              persistent: true,
              mandatory: true,
              messageId: headers["x-delivery-id"],
              correlationId: headers["x-event-id"],
              contentType: "application/json",
              timestamp: Math.floor(Date.now() / 1000),
              appId: "event-router-bench",
              headers,
            });
            if (!ok) await new Promise((r) => ch.once("drain", r));
          }
          await ch.waitForConfirms();
        },
        async close() {
          await conn.close().catch(() => {});
        },
      };
    },
  },
  kafka: {
    needs: ["KAFKA_BROKERS"],
    async target(tag) {
      const brokers = peer("KAFKA_BROKERS")!.split(",");
      const admin = new Kafka({ clientId: "bench-admin", brokers, logLevel: logLevel.NOTHING })
        .admin();
      await admin.connect();
      await admin.createTopics({
        topics: [{ topic: tag, numPartitions: 1 }],
        waitForLeaders: true,
      });
      return {
        config: { brokers, topic: tag },
        async cleanup() {
          await admin.deleteTopics({ topics: [tag], timeout: 5_000 }).catch(() => {});
          await admin.disconnect().catch(() => {});
        },
      };
    },
    async raw(t) {
      const kafka = new Kafka({
        clientId: "bench-raw",
        brokers: t.config.brokers as string[],
        logLevel: logLevel.NOTHING,
      });
      // adapters/brokers/kafka/publisher.ts #open: idempotent, one request in flight, acks -1.
      const producer = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      return {
        inFlight: 1,
        batch: RAW_BATCH,
        async send(n) {
          await producer.send({
            topic: t.config.topic as string,
            acks: -1,
            messages: Array.from({ length: n }, () => ({
              key: null,
              value: BODY_BUF,
              headers: msgHeaders(),
            })),
          });
        },
        async close() {
          await producer.disconnect().catch(() => {});
        },
      };
    },
  },
  redis: {
    needs: ["REDIS_URL"],
    target(tag) {
      const url = peer("REDIS_URL")!;
      return Promise.resolve({
        config: { url, stream: tag },
        async cleanup() {
          const c = new Redis(url, { lazyConnect: true });
          await c.connect();
          await c.del(tag, `${tag}-raw`);
          c.disconnect();
        },
      });
    },
    async raw(t) {
      const c = new Redis(t.config.url as string, { lazyConnect: true, maxRetriesPerRequest: 0 });
      await c.connect();
      const stream = `${t.config.stream}-raw`;
      return {
        inFlight: 1,
        batch: RAW_BATCH,
        async send(n) {
          const p = c.pipeline();
          for (let i = 0; i < n; i++) {
            const h = msgHeaders();
            p.xadd(
              stream,
              "*",
              "id",
              h["x-delivery-id"],
              "event_id",
              h["x-event-id"],
              "body",
              BODY_BUF,
              "headers",
              JSON.stringify({ "content-type": h["content-type"] }),
              "attempt",
              "1",
            );
          }
          const replies = await p.exec();
          const bad = replies?.find(([e]) => e);
          if (!replies || bad) throw new Error(`redis XADD failed: ${bad?.[0] ?? "discarded"}`);
        },
        close() {
          c.disconnect();
          return Promise.resolve();
        },
      };
    },
  },
  sqs: {
    needs: ["SQS_ENDPOINT"],
    async target(tag) {
      const endpoint = peer("SQS_ENDPOINT")!;
      const sqs = new SQSClient(awsClientConfig(endpoint));
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: tag }));
      return {
        config: { queue_url: QueueUrl, ...awsDestination(endpoint) },
        // moto's SendMessageBatch slows down as its queue grows (132 msg/s on an empty queue,
        // 33 msg/s after ~1000 messages here): every phase starts from an empty queue.
        // (PurgeQueue is allowed once a minute; deleting and re-creating the name is not limited.)
        async reset() {
          await sqs.send(new DeleteQueueCommand({ QueueUrl }));
          await sqs.send(new CreateQueueCommand({ QueueName: tag }));
        },
        async cleanup() {
          await sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => {});
          sqs.destroy();
        },
      };
    },
    raw(t) {
      const sqs = new SQSClient(awsClientConfig(t.config.endpoint as string));
      return Promise.resolve({
        inFlight: 4, // sqs config `concurrency` default
        batch: 10,
        async send(n) {
          const r = await sqs.send(
            new SendMessageBatchCommand({
              QueueUrl: t.config.queue_url as string,
              Entries: Array.from({ length: n }, (_, i) => ({
                Id: `m${i}`,
                MessageBody: BODY_1K,
                MessageAttributes: awsAttrs(),
              })),
            }),
          );
          if (r.Failed?.length) throw new Error(`sqs: ${r.Failed.length} entries failed`);
        },
        close() {
          sqs.destroy();
          return Promise.resolve();
        },
      });
    },
  },
  sns: {
    needs: ["SNS_ENDPOINT"],
    async target(tag) {
      const endpoint = peer("SNS_ENDPOINT")!;
      const sns = new SNSClient(awsClientConfig(endpoint));
      const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: tag }));
      return {
        config: { topic_arn: TopicArn, ...awsDestination(endpoint) },
        async cleanup() {
          await sns.send(new DeleteTopicCommand({ TopicArn })).catch(() => {});
          sns.destroy();
        },
      };
    },
    raw(t) {
      const sns = new SNSClient(awsClientConfig(t.config.endpoint as string));
      return Promise.resolve({
        inFlight: 4, // sns config `concurrency` default
        batch: 10,
        async send(n) {
          const r = await sns.send(
            new PublishBatchCommand({
              TopicArn: t.config.topic_arn as string,
              PublishBatchRequestEntries: Array.from({ length: n }, (_, i) => ({
                Id: `m${i}`,
                Message: BODY_1K,
                MessageAttributes: awsAttrs(),
              })),
            }),
          );
          if (r.Failed?.length) throw new Error(`sns: ${r.Failed.length} entries failed`);
        },
        close() {
          sns.destroy();
          return Promise.resolve();
        },
      });
    },
  },
  pubsub: {
    needs: ["PUBSUB_EMULATOR_HOST", "PUBSUB_PROJECT_ID"],
    async target(tag) {
      const emulator = peer("PUBSUB_EMULATOR_HOST")!;
      const project = peer("PUBSUB_PROJECT_ID")!;
      const admin = pubsubClient(project, emulator);
      const [topic] = await admin.createTopic(tag);
      return {
        config: { project_id: project, topic: tag, emulator_host: emulator },
        async cleanup() {
          await topic.delete().catch(() => {});
          await admin.close().catch(() => {});
        },
      };
    },
    raw(t) {
      const client = pubsubClient(t.config.project_id as string, t.config.emulator_host as string);
      // adapters/brokers/pubsub/publisher.ts connect(): the same batching, one attempt per call.
      const topic = client.topic(t.config.topic as string, {
        batching: { maxMessages: 1000, maxBytes: 9 * 1024 * 1024, maxMilliseconds: 5 },
        gaxOpts: { timeout: 10_000, retry: null },
      });
      return Promise.resolve({
        inFlight: 1,
        batch: RAW_BATCH,
        async send(n) {
          const all = Array.from({ length: n }, () => {
            const h = msgHeaders();
            return topic.publishMessage({
              data: BODY_BUF,
              attributes: {
                delivery_id: h["x-delivery-id"],
                event_id: h["x-event-id"],
                "content-type": h["content-type"],
              },
            });
          });
          topic.flush().catch(() => {});
          await Promise.all(all);
        },
        async close() {
          await client.close().catch(() => {});
        },
      });
    },
  },
};

function pubsubClient(projectId: string, emulator: string) {
  return new PubSub({
    projectId,
    apiEndpoint: emulator,
    emulatorMode: true,
    universeDomain: "googleapis.com",
  });
}

/** Publishes for `seconds` with `inFlight` workers; counts only broker-confirmed messages. */
async function rawRun(client: RawClient, seconds: number): Promise<RawResult> {
  await client.send(Math.min(10, client.batch)); // connect and warm up, not counted
  let messages = 0;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: client.inFlight }, async () => {
    while (performance.now() < deadline) {
      await client.send(client.batch);
      messages += client.batch;
    }
  }));
  const took = (performance.now() - t0) / 1000;
  return {
    messages,
    seconds: round(took, 2),
    msgs_per_s: Math.round(messages / took),
    batch: client.batch,
    in_flight: client.inFlight,
  };
}

interface WrkOut {
  rps: number;
  requests: number;
  non2xx: number;
  errors: number;
}

/**
 * wrk for `seconds`, each of its 2 threads stopping after `maxRequests / 2` responses (the
 * connections still in flight then may add a few more requests).
 */
async function wrk(
  url: string,
  seconds: number,
  connections: number,
  maxRequests: number,
): Promise<WrkOut> {
  const lua = await Deno.makeTempFile({ suffix: ".lua" });
  const perThread = Math.max(1, Math.ceil(maxRequests / 2));
  await Deno.writeTextFile(
    lua,
    `wrk.method = "POST"\nwrk.body = ${JSON.stringify(BODY_1K)}\n` +
      `wrk.headers["content-type"] = "application/json"\n` +
      `local n = 0\nfunction response()\n  n = n + 1\n` +
      `  if n >= ${perThread} then wrk.thread:stop() end\nend\n`,
  );
  try {
    const out = await new Deno.Command("wrk", {
      args: ["-t2", `-c${Math.min(connections, perThread)}`, `-d${seconds}s`, "-s", lua, url],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (!out.success) throw new Error(`wrk failed: ${new TextDecoder().decode(out.stderr)}`);
    const num = (re: RegExp) => Number(text.match(re)?.[1] ?? 0);
    const errs = text.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
    return {
      rps: num(/Requests\/sec:\s+([\d.]+)/),
      requests: num(/(\d+) requests in/),
      non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
      errors: errs ? errs.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    };
  } finally {
    await Deno.remove(lua).catch(() => {});
  }
}

/** Sums a Prometheus sample over label sets that contain `labels`. */
function metric(text: string, name: string, labels = ""): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = line.match(/^([a-z_]+)(\{[^}]*\})?\s+([-\d.e+]+)/i);
    if (m && m[1] === name && (m[2] ?? "").includes(labels)) sum += Number(m[3]);
  }
  return sum;
}

/** The dispatcher's publish_batch_seconds histogram for `type`, from GET /metrics. */
async function publishHistogram(url: string, type: string) {
  const text = await (await fetch(`${url}/metrics`)).text();
  return {
    batches: metric(text, "event_router_publish_batch_seconds_count", `type="${type}"`),
    seconds: metric(text, "event_router_publish_batch_seconds_sum", `type="${type}"`),
  };
}

/**
 * Reads the router's SQLite file directly (WAL: a reader neither blocks the router nor costs
 * it a query on the thread its dispatcher uses, as polling GET /api/stats would). Timing comes
 * from the rows themselves: events.received_at and the deliveries' settle time (updated_at).
 */
async function openDb(dir: string) {
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(`${dir}/event-router.db`);
  db.exec("PRAGMA busy_timeout = 10000");
  const one = (sql: string, ...p: (string | number)[]) =>
    db.prepare(sql).get(...p) as Record<string, number | null>;
  return {
    /** Deliveries not yet settled for good, and events not yet planned. */
    open: () =>
      Number(one(`SELECT count(*) AS n FROM deliveries WHERE status = 'pending'`).n) +
      Number(one(`SELECT count(*) AS n FROM events WHERE status = 'accepted'`).n),
    totals(since: number) {
      const e = one(
        `SELECT count(*) AS n, max(received_at) AS last FROM events WHERE received_at >= ?`,
        since,
      );
      const d = one(
        `SELECT sum(status = 'delivered') AS delivered, sum(status = 'dead') AS dead,
           max(updated_at) AS last FROM deliveries WHERE created_at >= ?`,
        since,
      );
      return {
        received: Number(e.n),
        lastReceived: Number(e.last ?? since),
        delivered: Number(d.delivered ?? 0),
        dead: Number(d.dead ?? 0),
        lastSettled: Number(d.last ?? since),
      };
    },
    /** Every delivered delivery of `destination` back to pending (what retryDead does). */
    requeue(destination: string, now: number) {
      return Number(
        db.prepare(
          `UPDATE deliveries SET status = 'pending', next_at = ?, attempts = 0, updated_at = ?,
           lease_owner = NULL, lease_until = NULL
           WHERE destination_id = ? AND status = 'delivered'`,
        ).run(now, now, destination).changes,
      );
    },
    /** First publish start (attempt time minus its duration) and last settle since `since`. */
    attemptWindow(destination: string, since: number) {
      const r = one(
        `SELECT min(a.at - coalesce(a.duration_ms, 0)) AS first, max(a.at) AS last
         FROM attempts a JOIN deliveries d ON d.id = a.delivery_id
         WHERE d.destination_id = ? AND a.at >= ?`,
        destination,
        since,
      );
      return { first: Number(r.first ?? since), last: Number(r.last ?? since) };
    },
    close: () => db.close(),
  };
}

async function routerRun(
  type: BrokerName,
  config: Record<string, unknown>,
  seconds: number,
  connections: number,
  maxRequests: number,
  drainTimeoutMs: number,
  dispatchLoops: string | undefined,
  reset?: () => Promise<void>,
): Promise<RouterResult> {
  const router = await startRouter({
    env: { LOG_LEVEL: "error", ...(dispatchLoops ? { DISPATCH_CONCURRENCY: dispatchLoops } : {}) },
  });
  const db = await openDb(router.dir);
  try {
    const token = await bootstrapAdmin(router.url);
    const api = apiClient(router.url, token);
    const dest = await api<{ id: string }>("POST", "/api/destinations", {
      name: `bench-${type}`,
      type,
      config,
    });
    const route = await api<{ endpoint: string }>("POST", "/api/routes", {
      name: `bench-${type}`,
      destinations: [{ destination_id: dest.id }],
    });
    const hook = `${router.url}${route.endpoint}`;
    // Warm up: one event through, so the publisher is connected before the clock starts.
    const w = await fetch(hook, { method: "POST", body: BODY_1K });
    const warm = await w.json().catch(() => ({})) as { id?: string };
    if (w.status !== 202) throw new Error(`warm-up webhook answered ${w.status}`);
    const warmDeadline = Date.now() + 20_000;
    for (;;) {
      const e = await api<{ deliveries: { status: string; last_error: string | null }[] }>(
        "GET",
        `/api/events/${warm.id}`,
      );
      const d = e.deliveries[0];
      if (d?.status === "delivered") break;
      if (d?.status === "dead" || Date.now() > warmDeadline) {
        throw new Error(`the warm-up event was not delivered: ${d?.status}: ${d?.last_error}`);
      }
      await sleep(50);
    }
    const h0 = await publishHistogram(router.url, type);

    // Ends when wrk is done and nothing is open, or at the drain timeout.
    const t0 = Date.now();
    const w1 = await wrk(hook, seconds, connections, maxRequests);
    const deadline = Date.now() + drainTimeoutMs;
    let timedOut = false;
    while (db.open() > 0) {
      if (Date.now() > deadline) {
        timedOut = true;
        break;
      }
      await sleep(100);
    }
    const h1 = await publishHistogram(router.url, type);
    const x = db.totals(t0);
    const total = ((timedOut ? Date.now() : x.lastSettled) - t0) / 1000;
    const ingestS = (x.lastReceived - t0) / 1000;
    const batches = h1.batches - h0.batches;
    const result: RouterResult = {
      wrk_rps: Math.round(w1.rps),
      wrk_requests: w1.requests,
      non2xx: w1.non2xx,
      socket_errors: w1.errors,
      accepted: x.received,
      delivered: x.delivered,
      dead: x.dead,
      ingest_s: round(ingestS, 2),
      accepted_per_s: Math.round(x.received / ingestS),
      total_s: round(total, 2),
      delivered_per_s: Math.round(x.delivered / total),
      publish_batches: batches,
      mean_batch: batches ? round(x.delivered / batches, 1) : 0,
      publish_s: round(h1.seconds - h0.seconds, 2),
      timed_out: timedOut,
    };
    if (!timedOut && x.dead === 0 && x.delivered === x.received) {
      await reset?.();
      result.backlog = await backlogRun(router.url, type, db, dest.id, drainTimeoutMs);
    }
    return result;
  } finally {
    db.close();
    await router.kill("SIGTERM");
    await Deno.remove(router.dir, { recursive: true }).catch(() => {});
  }
}

/**
 * The journal floor in this process, its accepted bodies published by `client` as they become
 * durable: up to `client.batch` per send, `client.inFlight` sends at once (the raw run's
 * shape). Timed like the router's run, from the first request to the last confirm.
 */
async function floorRun(
  client: RawClient,
  seconds: number,
  connections: number,
  maxRequests: number,
  drainTimeoutMs: number,
): Promise<FloorResult> {
  const dir = await Deno.makeTempDir({ prefix: "bench-floor-" });
  let queued = 0, accepted = 0, delivered = 0, lastConfirm = 0;
  let idle: (() => void)[] = [];
  const floor = await startJournalFloor({
    port: freePort(),
    dir,
    onAccepted() {
      accepted++;
      queued++;
      for (const wake of idle) wake();
      idle = [];
    },
  });
  let stop = false;
  const publishers = Array.from({ length: client.inFlight }, async () => {
    for (;;) {
      if (queued === 0) {
        if (stop) return;
        await new Promise<void>((r) => idle.push(r));
        continue;
      }
      const n = Math.min(queued, client.batch);
      queued -= n;
      await client.send(n);
      delivered += n;
      lastConfirm = performance.now();
    }
  });
  try {
    await client.send(Math.min(10, client.batch)); // connected before the clock starts
    const t0 = performance.now();
    const w = await wrk(floor.url, seconds, connections, maxRequests);
    const deadline = performance.now() + drainTimeoutMs;
    while (delivered < accepted && performance.now() < deadline) await sleep(20);
    const timedOut = delivered < accepted;
    const total = ((timedOut ? performance.now() : lastConfirm) - t0) / 1000;
    return {
      wrk_rps: Math.round(w.rps),
      accepted,
      delivered,
      total_s: round(total, 2),
      delivered_per_s: Math.round(delivered / total),
      timed_out: timedOut,
    };
  } finally {
    stop = true;
    for (const wake of idle) wake();
    await floor.close();
    await Promise.allSettled(publishers);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Sets every delivered delivery of the destination back to pending at once (the UPDATE
 * `retryDead` makes for dead letters; the router keeps running) and times the dispatcher until
 * all are delivered again: claim -> publish -> settle with a full queue and no ingest
 * competing. The broker receives them a second time (same delivery ids).
 */
async function backlogRun(
  url: string,
  type: string,
  db: Awaited<ReturnType<typeof openDb>>,
  destination: string,
  timeoutMs: number,
): Promise<BacklogResult> {
  const h0 = await publishHistogram(url, type);
  const t0 = Date.now();
  const n = db.requeue(destination, t0);
  // The dispatcher notices within its idle sleep (250 ms); that wait is part of the time.
  const deadline = Date.now() + timeoutMs;
  let timedOut = false;
  while (db.open() > 0) {
    if (Date.now() > deadline) {
      timedOut = true;
      break;
    }
    await sleep(100);
  }
  // Timed from the first publish of the backlog (the dispatcher may sleep up to 250 ms before
  // it looks again; that wait is reported apart) to the last settle.
  const win = db.attemptWindow(destination, t0);
  const took = ((timedOut ? Date.now() : win.last) - win.first) / 1000;
  const h1 = await publishHistogram(url, type);
  const batches = h1.batches - h0.batches;
  const publishS = h1.seconds - h0.seconds;
  return {
    deliveries: n,
    wake_ms: win.first - t0,
    seconds: round(took, 2),
    per_s: Math.round(n / took),
    publish_batches: batches,
    mean_batch: batches ? round(n / batches, 1) : 0,
    publish_s: round(publishS, 2),
    in_publish_per_s: publishS > 0 ? Math.round(n / publishS) : null,
    publish_busy: round(publishS / took, 2),
    timed_out: timedOut,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number, d: number) => Math.round(n * 10 ** d) / 10 ** d;

function argOf(args: string[], name: string): string | undefined {
  return args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
}

/** True when the arguments ask for the broker bench (`--brokers` or `--brokers=a,b`). */
export function wantsBrokers(args: string[]): boolean {
  return args.some((a) => a === "--brokers" || a.startsWith("--brokers="));
}

/**
 * Runs the broker bench for the brokers named by `--brokers=a,b` (all when bare `--brokers`
 * or absent) that have peer settings; `--seconds`, `--connections`, `--drain-timeout` (s),
 * `--dispatch-concurrency` (the router's DISPATCH_CONCURRENCY; its default when absent).
 */
export async function runBrokerBench(args: string[] = Deno.args): Promise<BrokerResult[]> {
  const seconds = Number(argOf(args, "seconds") ?? 5);
  const connections = Number(argOf(args, "connections") ?? 64);
  const drainTimeoutMs = Number(argOf(args, "drain-timeout") ?? 45) * 1000;
  // The router's DISPATCH_CONCURRENCY (dispatch loops); its own default when not given.
  const dispatchLoops = argOf(args, "dispatch-concurrency");
  const picked = argOf(args, "brokers")?.split(",").filter(Boolean) ?? [...ALL];
  const unknown = picked.filter((b) => !(ALL as readonly string[]).includes(b));
  if (unknown.length) throw new Error(`unknown broker(s) ${unknown.join(", ")}`);
  const results: BrokerResult[] = [];
  for (const broker of picked as BrokerName[]) {
    const c = CASES[broker];
    const missing = c.needs.filter((n) => !peer(n));
    if (missing.length) {
      console.log(`${broker}: skipped, peer setting(s) ${missing.join(", ")} unset`);
      results.push({
        broker,
        dispatch_concurrency: dispatchLoops ?? "default",
        error: `peer setting(s) ${missing.join(", ")} unset`,
      });
      continue;
    }
    const tag = `er-bench-${broker}-${Date.now().toString(36)}`;
    const r: BrokerResult = { broker, dispatch_concurrency: dispatchLoops ?? "default" };
    let target: Target | null = null;
    try {
      target = await c.target(tag);
      const client = await c.raw(target);
      try {
        r.raw = await rawRun(client, seconds);
        await target.reset?.();
        r.floor = await floorRun(client, seconds, connections, r.raw.messages, drainTimeoutMs);
        r.floor_ratio = round(r.floor.delivered_per_s / r.raw.msgs_per_s, 3);
      } finally {
        await client.close();
      }
      await target.reset?.();
      // As many webhooks as the raw client published in the same time (at most `seconds` of
      // wrk): a slow broker's router run then drains in about the raw client's time.
      r.router = await routerRun(
        broker,
        target.config,
        seconds,
        connections,
        r.raw.messages,
        drainTimeoutMs,
        dispatchLoops,
        target.reset?.bind(target),
      );
      r.ratio = round(r.router.delivered_per_s / r.raw.msgs_per_s, 3);
      if (r.router.backlog) {
        r.backlog_ratio = round(r.router.backlog.per_s / r.raw.msgs_per_s, 3);
      }
    } catch (e) {
      r.error = String((e as Error)?.message ?? e);
    } finally {
      await target?.cleanup().catch(() => {});
    }
    console.log(line(r));
    results.push(r);
  }
  console.log(table(results));
  return results;
}

function line(r: BrokerResult): string {
  if (r.error) return `${r.broker}: ${r.error}`;
  const x = r.router!;
  const b = x.backlog;
  const f = r.floor;
  return `${r.broker}: raw ${r.raw!.messages} msgs in ${r.raw!.seconds} s | floor: ` +
    (f
      ? `${f.delivered} of ${f.accepted} confirmed in ${f.total_s} s (wrk ${f.wrk_rps} req/s)` +
        (f.timed_out ? " (DRAIN TIMED OUT)" : "")
      : "not run") +
    ` | e2e: ` +
    `${x.accepted} accepted (wrk ${x.wrk_rps} req/s, non-2xx ${x.non2xx}), ${x.delivered} ` +
    `delivered, ${x.dead} dead in ${x.total_s} s${x.timed_out ? " (DRAIN TIMED OUT)" : ""}, ` +
    `ingest ${x.ingest_s} s, ${x.publish_batches} batches (mean ` +
    `${x.mean_batch}) | backlog: ` +
    (b
      ? `${b.deliveries} in ${b.seconds} s${b.timed_out ? " (TIMED OUT)" : ""}, ` +
        `${b.publish_batches} batches (mean ${b.mean_batch}), ${b.publish_s} s inside publish() ` +
        `(${b.publish_busy} publishes in flight on average)`
      : "not run");
}

/** The summary table. */
export function table(results: BrokerResult[]): string {
  const cols = [
    "broker",
    "raw msg/s",
    "floor e2e msg/s",
    "floor ratio",
    "router e2e msg/s",
    "ratio",
    "ingest req/s",
    "backlog msg/s",
    "backlog ratio",
    "mean batch",
    "in-publish msg/s",
    "publish busy",
  ];
  const rows = results.map((r) => {
    if (!r.raw || !r.router) return [r.broker, r.error ?? "-", ...cols.slice(2).map(() => "")];
    const x = r.router, b = x.backlog;
    const pct = (v: number | undefined) => (v === undefined ? "-" : `${(v * 100).toFixed(0)}%`);
    return [
      r.broker,
      String(r.raw.msgs_per_s),
      r.floor ? String(r.floor.delivered_per_s) + (r.floor.timed_out ? "*" : "") : "-",
      pct(r.floor_ratio),
      String(x.delivered_per_s) + (x.timed_out ? "*" : ""),
      pct(r.ratio),
      String(x.accepted_per_s),
      b ? String(b.per_s) + (b.timed_out ? "*" : "") : "-",
      pct(r.backlog_ratio),
      b ? String(b.mean_batch) : "-",
      b?.in_publish_per_s ? String(b.in_publish_per_s) : "-",
      b ? String(b.publish_busy) : "-",
    ];
  });
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  return [fmt(cols), fmt(widths.map((w) => "-".repeat(w))), ...rows.map(fmt)].join("\n");
}

if (import.meta.main) {
  const results = await runBrokerBench(Deno.args);
  const root = new URL("../../", import.meta.url).pathname;
  await Deno.mkdir(`${root}bench/results`, { recursive: true });
  const file = `${root}bench/results/brokers-${Date.now()}.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify(
      { when: new Date().toISOString(), cpus: navigator.hardwareConcurrency, brokers: results },
      null,
      2,
    ),
  );
  console.log(`written ${file}`);
}
