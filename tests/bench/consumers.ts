/**
 * Consumer throughput, side by side in one run on this machine, for each broker whose peer
 * settings exist (tests/peers/peers.env). Two identical backlogs of `messages` 1 KiB messages
 * are produced first (tests/helpers/consumer_targets.ts), then:
 *   raw     the broker's own client drains the first one with the settings the trigger uses
 *           (RabbitMQ prefetch 100 with an ack per message; a kafkajs group consumer; Redis
 *           XREADGROUP COUNT 500 + XACK; SQS 4 long polls of 10 + DeleteMessageBatch; Pub/Sub
 *           2 Pulls of 500 + Acknowledge) and does nothing with the messages: messages/s from
 *           the first message received to the last acknowledged;
 *   router  the real router process (`main.ts serve`, SQLite with DATABASE_SYNC=full) drains
 *           the second through a trigger into a route: events/s from the first event committed
 *           to the last (timed by the rows in the router's SQLite file), and the time from
 *           creating the trigger to its first event.
 * Prints a table; returns the numbers for run.ts's JSON (`deno task bench --consumers`), or
 * writes bench/results/consumers-<time>.json when run on its own:
 *   deno run -A tests/bench/consumers.ts [--consumers=redis,kafka] [--messages=20000]
 */
import { Buffer } from "node:buffer";
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import { PubSub, v1 } from "@google-cloud/pubsub";
import { peer } from "../helpers/peers.ts";
import { apiClient, bootstrapAdmin, startRouter } from "../helpers/router_process.ts";
import type { ConsumerUnderTest, Produced } from "../conformance/consumer_suite.ts";
import {
  kafkaClient,
  kafkaTarget,
  pubsubTarget,
  rabbitmqTarget,
  redisTarget,
  sqsAdmin,
  sqsTarget,
  withAmqp,
  withRedis,
} from "../helpers/consumer_targets.ts";
import { BODY_1K } from "./brokers.ts";

const ALL = ["rabbitmq", "kafka", "redis", "sqs", "pubsub"] as const;
type Broker = typeof ALL[number];

/** moto and pstest answer slower than the real brokers; smaller backlogs keep runs short. */
const DEFAULT_MESSAGES: Record<Broker, number> = {
  rabbitmq: 20_000,
  kafka: 20_000,
  redis: 20_000,
  sqs: 500,
  pubsub: 10_000,
};

export interface ConsumerBenchResult {
  broker: Broker;
  messages: number;
  raw?: { seconds: number; msgs_per_s: number };
  router?: { seconds: number; msgs_per_s: number; first_event_ms: number; timed_out: boolean };
  /** router.msgs_per_s / raw.msgs_per_s */
  ratio?: number;
  error?: string;
}

const round = (v: number, d = 0) => Math.round(v * 10 ** d) / 10 ** d;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const enc = new TextEncoder();

function backlog(n: number): Produced[] {
  const body = enc.encode(BODY_1K);
  return Array.from({ length: n }, (_, seq) => ({
    seq,
    id: `bench-${seq}-${crypto.randomUUID().slice(0, 8)}`,
    body,
    headers: { "x-seq": String(seq), "content-type": "application/json" },
  }));
}

/** A raw drain: resolves with [first receive, last ack] in performance.now() ms. */
type RawDrain = (t: ConsumerUnderTest, n: number) => Promise<[number, number]>;

interface BrokerCase {
  needs: string[];
  target(): Promise<ConsumerUnderTest>;
  /** The trigger config for the router run: the target's, with the trigger's defaults. */
  config(t: ConsumerUnderTest): Record<string, unknown>;
  raw: RawDrain;
}

const aws = () => ({
  endpoint: peer("SQS_ENDPOINT")!,
  region: peer("AWS_REGION") ?? "us-east-1",
  access_key_id: peer("AWS_ACCESS_KEY_ID") ?? "test",
  secret_access_key: peer("AWS_SECRET_ACCESS_KEY") ?? "test",
});

/** Keeps only the connection fields of a test target's config: the trigger's defaults apply. */
const pick = (c: Record<string, unknown>, keys: string[]) =>
  Object.fromEntries(keys.filter((k) => k in c).map((k) => [k, c[k]]));

const CASES: Record<Broker, BrokerCase> = {
  rabbitmq: {
    needs: ["RABBITMQ_URL"],
    target: () => rabbitmqTarget(peer("RABBITMQ_URL")!, 100),
    config: (t) => pick(t.config, ["url", "queue"]),
    raw: (t, n) =>
      withAmqp(String(t.config.url), async (conn) => {
        const ch = await conn.createChannel();
        await ch.prefetch(100);
        let got = 0, first = 0;
        return await new Promise<[number, number]>((resolve, reject) => {
          ch.consume(String(t.config.queue), (m) => {
            if (!m) return;
            if (got++ === 0) first = performance.now();
            ch.ack(m);
            if (got === n) resolve([first, performance.now()]);
          }).catch(reject);
        });
      }),
  },
  kafka: {
    needs: ["KAFKA_BROKERS"],
    target: () => kafkaTarget(peer("KAFKA_BROKERS")!.split(","), 3),
    config: (t) => pick(t.config, ["brokers", "topic", "group_id", "from_beginning"]),
    async raw(t, n) {
      const consumer = kafkaClient(t.config.brokers as string[]).consumer({
        groupId: `${t.config.group_id}-raw`,
        maxWaitTimeInMs: 1_000,
      });
      await consumer.connect();
      await consumer.subscribe({ topic: String(t.config.topic), fromBeginning: true });
      let got = 0, first = 0;
      const done = new Promise<[number, number]>((resolve) => {
        consumer.run({
          eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
            if (got === 0) first = performance.now();
            got += batch.messages.length;
            resolveOffset(batch.lastOffset());
            await heartbeat();
            if (got >= n) resolve([first, performance.now()]);
          },
        });
      });
      try {
        return await done;
      } finally {
        await consumer.disconnect();
      }
    },
  },
  redis: {
    needs: ["REDIS_URL"],
    target: () => Promise.resolve(redisTarget(peer("REDIS_URL")!)),
    config: (t) => pick(t.config, ["url", "stream", "group", "start_id"]),
    raw: (t, n) =>
      withRedis(String(t.config.url), async (r) => {
        const stream = String(t.config.stream), group = `${t.config.group}-raw`;
        await r.call("XGROUP", "CREATE", stream, group, "0", "MKSTREAM");
        let got = 0, first = 0;
        while (got < n) {
          const reply = await r.callBuffer("XREADGROUP", [
            "GROUP",
            group,
            "raw",
            "COUNT",
            500,
            "BLOCK",
            2_000,
            "STREAMS",
            stream,
            ">",
          ]) as unknown[] | null;
          if (!reply?.length) continue;
          const pair = (Array.isArray(reply[0]) ? reply[0] : reply) as unknown[];
          const entries = pair[1] as [Buffer, Buffer[]][];
          if (got === 0) first = performance.now();
          await r.call("XACK", stream, group, ...entries.map(([id]) => id.toString()));
          got += entries.length;
        }
        return [first, performance.now()];
      }),
  },
  sqs: {
    needs: ["SQS_ENDPOINT"],
    target: () => sqsTarget(aws()),
    config: (t) => ({
      ...pick(t.config, ["queue_url", "endpoint", "region", "access_key_id", "secret_access_key"]),
      wait_seconds: 1,
    }),
    async raw(t, n) {
      const sqs = sqsAdmin(aws());
      const url = String(t.config.queue_url);
      let got = 0, first = 0;
      const receiver = async () => {
        while (got < n) {
          const out = await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: url,
              MaxNumberOfMessages: 10,
              WaitTimeSeconds: 1,
              MessageAttributeNames: ["All"],
            }),
          );
          const msgs: Message[] = out.Messages ?? [];
          if (!msgs.length) continue;
          if (first === 0) first = performance.now();
          await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: url,
              Entries: msgs.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle })),
            }),
          );
          got += msgs.length;
        }
      };
      try {
        await Promise.all(Array.from({ length: 4 }, receiver));
        return [first, performance.now()];
      } finally {
        sqs.destroy();
      }
    },
  },
  pubsub: {
    needs: ["PUBSUB_EMULATOR_HOST", "PUBSUB_PROJECT_ID"],
    target: () => pubsubTarget(peer("PUBSUB_EMULATOR_HOST")!, peer("PUBSUB_PROJECT_ID")!),
    config: (t) => pick(t.config, ["project_id", "subscription", "emulator_host"]),
    async raw(t, n) {
      // After construction the PubSub options carry the emulator's address and insecure creds.
      const admin = new PubSub({
        projectId: String(t.config.project_id),
        apiEndpoint: String(t.config.emulator_host),
        emulatorMode: true,
        universeDomain: "googleapis.com",
      });
      const client = new v1.SubscriberClient(
        admin.options as ConstructorParameters<typeof v1.SubscriberClient>[0],
      );
      const subscription = `projects/${t.config.project_id}/subscriptions/${t.config.subscription}`;
      let got = 0, first = 0;
      const puller = async () => {
        while (got < n) {
          const [resp] = await client.pull({ subscription, maxMessages: 500 }, { timeout: 20_000 });
          const msgs = resp.receivedMessages ?? [];
          if (!msgs.length) continue;
          if (first === 0) first = performance.now();
          await client.acknowledge({ subscription, ackIds: msgs.map((m) => m.ackId!) });
          got += msgs.length;
        }
      };
      try {
        await Promise.all([puller(), puller()]);
        return [first, performance.now()];
      } finally {
        await client.close();
        await admin.close();
      }
    },
  },
};

/** Counts the router's events straight from its SQLite file (WAL: no load on the router). */
async function eventRows(dir: string) {
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(`${dir}/event-router.db`);
  db.exec("PRAGMA busy_timeout = 10000");
  return {
    read: () =>
      db.prepare(
        "SELECT count(*) AS n, min(received_at) AS first, max(received_at) AS last FROM events",
      ).get() as { n: number; first: number | null; last: number | null },
    close: () => db.close(),
  };
}

async function routerRun(
  type: Broker,
  config: Record<string, unknown>,
  n: number,
  timeoutMs: number,
): Promise<NonNullable<ConsumerBenchResult["router"]>> {
  const node = await startRouter({ env: { LOG_LEVEL: "error", DATABASE_SYNC: "full" } });
  try {
    const api = apiClient(node.url, await bootstrapAdmin(node.url));
    const route = await api("POST", "/api/routes", { name: `bench-${type}` });
    const rows = await eventRows(node.dir);
    try {
      const created = Date.now();
      const trigger = await api("POST", "/api/triggers", {
        name: type,
        type,
        route_id: route.id,
        config,
      });
      const deadline = Date.now() + timeoutMs;
      let r = rows.read();
      while (r.n < n && Date.now() < deadline) {
        await sleep(100);
        r = rows.read();
      }
      const seconds = Math.max(0.001, (Number(r.last) - Number(r.first)) / 1000);
      if (r.n < n) {
        const t = await api("GET", `/api/triggers/${trigger.id}`);
        console.log(`${type}: ${r.n} of ${n} events; trigger status ${JSON.stringify(t.status)}`);
      }
      return {
        seconds: round(seconds, 2),
        msgs_per_s: Math.round(r.n / seconds),
        first_event_ms: Number(r.first ?? created) - created,
        timed_out: r.n < n,
      };
    } finally {
      rows.close();
    }
  } finally {
    await node.kill("SIGTERM");
    await Deno.remove(node.dir, { recursive: true }).catch(() => {});
  }
}

function argOf(args: string[], name: string): string | undefined {
  return args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
}

/** True when the arguments ask for the consumer bench (`--consumers` or `--consumers=a,b`). */
export function wantsConsumers(args: string[]): boolean {
  return args.some((a) => a === "--consumers" || a.startsWith("--consumers="));
}

export async function runConsumerBench(args: string[] = Deno.args): Promise<ConsumerBenchResult[]> {
  const picked = argOf(args, "consumers")?.split(",").filter(Boolean) ?? [...ALL];
  const unknown = picked.filter((b) => !(ALL as readonly string[]).includes(b));
  if (unknown.length) throw new Error(`unknown consumer(s) ${unknown.join(", ")}`);
  const scale = argOf(args, "messages");
  const results: ConsumerBenchResult[] = [];
  for (const broker of picked as Broker[]) {
    const c = CASES[broker];
    const n = scale ? Number(scale) : DEFAULT_MESSAGES[broker];
    const r: ConsumerBenchResult = { broker, messages: n };
    const missing = c.needs.filter((k) => !peer(k));
    if (missing.length) {
      r.error = `peer setting(s) ${missing.join(", ")} unset`;
      console.log(`${broker}: skipped, ${r.error}`);
      results.push(r);
      continue;
    }
    const targets: ConsumerUnderTest[] = [];
    try {
      const forRaw = await c.target(), forRouter = await c.target();
      targets.push(forRaw, forRouter);
      const msgs = backlog(n);
      await forRaw.produce(msgs);
      await forRouter.produce(msgs);
      const [first, last] = await c.raw(forRaw, n);
      const rawS = Math.max(0.001, (last - first) / 1000);
      r.raw = { seconds: round(rawS, 2), msgs_per_s: Math.round(n / rawS) };
      r.router = await routerRun(broker, c.config(forRouter), n, 180_000);
      r.ratio = round(r.router.msgs_per_s / r.raw.msgs_per_s, 3);
    } catch (e) {
      r.error = String((e as Error)?.message ?? e);
    } finally {
      for (const t of targets) await t.cleanup().catch(() => {});
    }
    console.log(
      r.error ? `${broker}: ${r.error}` : `${broker}: ${n} msgs, raw ${r.raw!.msgs_per_s}/s, ` +
        `router ${r.router!.msgs_per_s}/s${r.router!.timed_out ? " (TIMED OUT)" : ""}, ` +
        `first event after ${r.router!.first_event_ms} ms`,
    );
    results.push(r);
  }
  console.log(table(results));
  return results;
}

export function table(results: ConsumerBenchResult[]): string {
  const cols = ["broker", "messages", "raw consume msg/s", "router committed msg/s", "ratio"];
  const rows = results.map((r) =>
    r.raw && r.router
      ? [
        r.broker,
        String(r.messages),
        String(r.raw.msgs_per_s),
        String(r.router.msgs_per_s) + (r.router.timed_out ? "*" : ""),
        `${Math.round((r.ratio ?? 0) * 100)}%`,
      ]
      : [r.broker, String(r.messages), r.error ?? "-", "", ""]
  );
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  return [fmt(cols), fmt(widths.map((w) => "-".repeat(w))), ...rows.map(fmt)].join("\n");
}

if (import.meta.main) {
  const results = await runConsumerBench(Deno.args);
  const root = new URL("../../", import.meta.url).pathname;
  await Deno.mkdir(`${root}bench/results`, { recursive: true });
  const file = `${root}bench/results/consumers-${Date.now()}.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify(
      { when: new Date().toISOString(), cpus: navigator.hardwareConcurrency, consumers: results },
      null,
      2,
    ),
  );
  console.log(`written ${file}`);
}
