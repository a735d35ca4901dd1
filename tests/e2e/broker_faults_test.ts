/**
 * Broker faults through the real router process, read back with each broker's own client:
 *
 * - outages: RabbitMQ, Kafka and Redis (private instances on other ports, so the shared test
 *   servers stay up) are stopped while webhooks keep coming, and started again; every webhook
 *   is answered 202 throughout, and every accepted event id ends up in every broker.
 * - configuration faults: a missing queue, a missing topic (auto-creation off), a closed port
 *   and bad credentials each give a delivery whose attempt log names the problem and a dead
 *   letter (at once when the error is permanent, after the schedule when it is not), while the
 *   router keeps answering /health.
 */
import assert from "node:assert/strict";
import amqp from "amqplib";
import { Kafka, logLevel } from "kafkajs";
import { Redis } from "ioredis";
import { mustPeer, needs } from "../helpers/peers.ts";
import {
  apiClient,
  bootstrapAdmin,
  freePort,
  type RouterProcess,
  startRouter,
} from "../helpers/router_process.ts";
import { uniqueName } from "../helpers/unique_name.ts";

// kafkajs and amqplib keep timers and sockets a moment after close; the assertions are what count.
const loose = { sanitizeOps: false, sanitizeResources: false };
const uniq = () => uniqueName("er-faults");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Private broker instances (tests/peers/lib.sh `PEER_INSTANCE`), on ports no other test uses.

type Broker = "rabbitmq" | "kafka" | "redis";
const INSTANCES: Record<Broker, Record<string, string>> = {
  rabbitmq: { PEER_INSTANCE: "faults-rabbitmq", RABBITMQ_PORT: "5692" },
  kafka: { PEER_INSTANCE: "faults-kafka", KAFKA_PORT: "19192" },
  redis: { PEER_INSTANCE: "faults-redis", REDIS_PORT: "6393" },
};
const PORT = {
  rabbitmq: Number(INSTANCES.rabbitmq.RABBITMQ_PORT),
  kafka: Number(INSTANCES.kafka.KAFKA_PORT),
  redis: Number(INSTANCES.redis.REDIS_PORT),
};

async function server(broker: Broker, action: "start" | "stop") {
  const script = new URL(`../peers/servers/${broker}.sh`, import.meta.url).pathname;
  const out = await new Deno.Command("bash", {
    args: [script, action],
    env: INSTANCES[broker],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`${broker}.sh ${action} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
}

const all = (action: "start" | "stop") =>
  Promise.all((Object.keys(INSTANCES) as Broker[]).map((b) => server(b, action)));

// ---------------------------------------------------------------------------------------------
// Router helpers

async function admin(router: RouterProcess) {
  return apiClient(router.url, await bootstrapAdmin(router.url));
}

type Api = Awaited<ReturnType<typeof admin>>;

interface Attempt {
  n: number;
  outcome: string;
  error: string | null;
}
interface DeliveryView {
  id: string;
  destination_id: string;
  status: string;
  attempts: number;
  last_error: string | null;
  attempt_log: Attempt[];
}

async function send(url: string, i: number): Promise<{ status: number; id?: string }> {
  try {
    const r = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ i, pad: "x".repeat(200) }),
    });
    const body = await r.json().catch(() => ({}));
    return { status: r.status, id: body.id };
  } catch {
    return { status: 0 };
  }
}

async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  ms: number,
  what: () => string,
) {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
    await sleep(200);
  }
}

async function healthy(router: RouterProcess) {
  const r = await fetch(`${router.url}/health`, { signal: AbortSignal.timeout(5_000) });
  await r.body?.cancel();
  return r.status;
}

// ---------------------------------------------------------------------------------------------
// Read-back with each broker's own client: the set of x-event-id / event_id seen.

function rabbitReader(url: string, queue: string) {
  const seen = new Set<string>();
  let conn: amqp.ChannelModel | null = null;
  return {
    seen,
    async start() {
      conn = await amqp.connect(url);
      const ch = await conn.createChannel();
      await ch.consume(queue, (m) => {
        if (m) seen.add(String(m.properties.headers?.["x-event-id"]));
      }, { noAck: true });
    },
    async stop() {
      await conn?.close().catch(() => {});
    },
  };
}

function kafkaReader(brokers: string[], topic: string) {
  const seen = new Set<string>();
  const consumer = new Kafka({ clientId: "faults-reader", brokers, logLevel: logLevel.NOTHING })
    .consumer({ groupId: uniq(), sessionTimeout: 10_000 });
  return {
    seen,
    async start() {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: ({ message }) => {
          const v = message.headers?.["x-event-id"];
          if (v) seen.add(String(Array.isArray(v) ? v[0] : v));
          return Promise.resolve();
        },
      });
    },
    async stop() {
      await consumer.disconnect().catch(() => {});
    },
  };
}

function redisReader(url: string, stream: string) {
  const seen = new Set<string>();
  let running = true;
  let loop: Promise<void> = Promise.resolve();
  return {
    seen,
    start() {
      const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      loop = (async () => {
        await c.connect();
        let from = "-";
        while (running) {
          const rows = await c.xrange(stream, from, "+", "COUNT", 1000);
          for (const [id, fields] of rows) {
            for (let i = 0; i + 1 < fields.length; i += 2) {
              if (fields[i] === "event_id") seen.add(fields[i + 1]);
            }
            from = `(${id}`;
          }
          if (rows.length < 1000) await sleep(200);
        }
        c.disconnect();
      })();
      return Promise.resolve();
    },
    async stop() {
      running = false;
      await loop.catch(() => {});
    },
  };
}

// ---------------------------------------------------------------------------------------------

/** Retries come quickly, and enough of them to outlast a restart (and an open circuit). */
const OUTAGE_RETRY = {
  max_attempts: 50,
  schedule_seconds: [0, 0.5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2],
};

Deno.test({
  name:
    "broker outages: RabbitMQ, Kafka and Redis stop and start mid-run; nothing accepted is lost",
  ignore: needs("RABBITMQ_URL", "KAFKA_BROKERS", "REDIS_URL").ignore,
  ...loose,
  async fn() {
    const t0 = Date.now();
    await all("start");
    const started = Date.now();
    const topic = uniq(), queue = uniq(), stream = uniq();
    const kafkaBrokers = [`127.0.0.1:${PORT.kafka}`];
    const redisUrl = `redis://127.0.0.1:${PORT.redis}`;
    // A Kafka that has just started on a loaded machine can take longer than kafkajs'
    // 5 s default to create its first topic.
    const kafkaAdmin = new Kafka({
      clientId: "faults",
      brokers: kafkaBrokers,
      requestTimeout: 30_000,
    })
      .admin();
    let router: RouterProcess;
    try {
      await kafkaAdmin.connect();
      await kafkaAdmin.createTopics({
        topics: [{ topic, numPartitions: 1 }],
        waitForLeaders: true,
        timeout: 30_000,
      });
      await kafkaAdmin.disconnect();
      router = await startRouter({ env: { PUBLISH_TIMEOUT_MS: "5000" } });
    } catch (e) {
      // A set-up failure must not leave the private brokers running: the next run (and every
      // other session on this machine) would find the port answering and use a broken one.
      await kafkaAdmin.disconnect().catch(() => {});
      await all("stop");
      throw e;
    }
    const readers = [
      ["rabbitmq", rabbitReader(`amqp://guest:guest@127.0.0.1:${PORT.rabbitmq}/`, queue)],
      ["kafka", kafkaReader(kafkaBrokers, topic)],
      ["redis", redisReader(redisUrl, stream)],
    ] as const;
    let stop = false;
    const statuses = { up: new Map<number, number>(), down: new Map<number, number>() };
    try {
      const api = await admin(router);
      const dest = async (type: Broker, config: Record<string, unknown>) =>
        (await api<{ id: string }>("POST", "/api/destinations", {
          name: `outage-${type}`,
          type,
          config,
          retry: OUTAGE_RETRY,
        })).id;
      const ids: Record<Broker, string> = {
        // A password in the URL: sealed at rest, opened again for every (re)connect.
        rabbitmq: await dest("rabbitmq", {
          url: `amqp://guest:guest@127.0.0.1:${PORT.rabbitmq}/`,
          queue,
          declare: { queue_type: "classic", durable: true },
          timeout_ms: 3_000,
        }),
        kafka: await dest("kafka", { brokers: kafkaBrokers, topic, timeout_ms: 3_000 }),
        redis: await dest("redis", { url: redisUrl, stream, timeout_ms: 2_000 }),
      };
      const route = await api<{ endpoint: string }>("POST", "/api/routes", {
        name: "outages",
        destinations: Object.values(ids).map((id) => ({ destination_id: id })),
      });
      const hook = `${router.url}${route.endpoint}`;

      // Steady traffic from 4 senders for the whole run.
      const accepted: string[] = [];
      let phase: "up" | "down" = "up", i = 0;
      const senders = Array.from({ length: 4 }, async () => {
        while (!stop) {
          const r = await send(hook, i++);
          const m = statuses[phase];
          m.set(r.status, (m.get(r.status) ?? 0) + 1);
          if (r.status === 202 && r.id) accepted.push(r.id);
          await sleep(20);
        }
      });

      // Up: the first events reach every broker (the queue is declared, connections open).
      await waitUntil(
        async () => {
          const s = await api<{ per_destination: { delivered: number }[] }>("GET", "/api/stats");
          return s.per_destination.length === 3 && s.per_destination.every((d) => d.delivered > 0);
        },
        30_000,
        () => "first deliveries to all three brokers",
      );
      // Redis runs without persistence; a save point makes its shutdown write the stream out.
      const cfg = new Redis(redisUrl, { lazyConnect: true });
      await cfg.connect();
      await cfg.config("SET", "save", "3600 1");
      cfg.disconnect();

      phase = "down";
      const downAt = Date.now();
      const acceptedBeforeDown = accepted.length;
      await all("stop");
      await sleep(3_000);
      assert.ok(await healthy(router) === 200, "/health answers while the brokers are down");
      await all("start");
      const upAt = Date.now();
      phase = "up";
      await sleep(1_000);
      stop = true;
      await Promise.all(senders);

      const down = Object.fromEntries(statuses.down);
      assert.deepEqual(
        Object.keys(down),
        ["202"],
        `every webhook while the brokers were down got 202: ${JSON.stringify(down)}`,
      );
      assert.deepEqual(Object.keys(Object.fromEntries(statuses.up)), ["202"]);
      assert.ok(accepted.length > acceptedBeforeDown + 50, "webhooks kept coming while down");

      for (const [, r] of readers) await r.start();
      const missing = () =>
        readers.map(([name, r]) => `${name}: ${accepted.filter((id) => !r.seen.has(id)).length}`)
          .join(", ");
      await waitUntil(
        () => readers.every(([, r]) => accepted.every((id) => r.seen.has(id))),
        75_000,
        () => `every accepted event in every broker (missing ${missing()} of ${accepted.length})`,
      );
      const s = await api<{ dead: number }>("GET", "/api/stats");
      assert.equal(s.dead, 0, "no dead letters");
      // The outage was really met: events accepted around the stop failed at least once on each
      // broker (later ones may have waited behind an open circuit instead), then arrived.
      const failed = new Map<string, string>();
      for (const id of accepted.slice(acceptedBeforeDown, acceptedBeforeDown + 400)) {
        if (failed.size === 3) break;
        const e = await api<{ deliveries: DeliveryView[] }>("GET", `/api/events/${id}`);
        for (const d of e.deliveries) {
          assert.equal(d.status, "delivered");
          const retry = d.attempt_log.find((a) => a.outcome === "retry");
          if (retry && !failed.has(d.destination_id)) {
            failed.set(d.destination_id, retry.error ?? "");
          }
        }
      }
      for (const [name, id] of Object.entries(ids)) {
        assert.ok(failed.has(id), `${name}: a publish failed while the broker was down`);
        console.log(`${name} while down: ${failed.get(id)}`);
      }
      console.log(
        `outages: brokers started in ${(started - t0) / 1000} s; ${accepted.length} events ` +
          `accepted (${accepted.length - acceptedBeforeDown} from the stop on), down for ` +
          `${(upAt - downAt) / 1000} s, all read back from all three ` +
          `${(Date.now() - upAt) / 1000} s after the restart`,
      );
    } finally {
      stop = true;
      for (const [, r] of readers) await r.stop();
      await router.kill("SIGTERM");
      await Deno.remove(router.dir, { recursive: true }).catch(() => {});
      await all("stop");
    }
  },
});

// ---------------------------------------------------------------------------------------------

interface Fault {
  name: string;
  type: Broker;
  config: Record<string, unknown>;
  retry: { max_attempts: number; schedule_seconds: number[] };
  /** What every attempt's error must say. */
  error: RegExp;
  /** Permanent: dead after one attempt; else after max_attempts. */
  permanent: boolean;
  /** Text that must never appear (a password). */
  secret?: string;
}

const QUICK_RETRY = { max_attempts: 3, schedule_seconds: [0, 0.2, 0.3] };

/** Sends two events through one route per fault and checks deliveries and dead letters. */
async function checkFaults(faults: Fault[]) {
  const router = await startRouter({ env: { PUBLISH_TIMEOUT_MS: "8000" } });
  try {
    const api = await admin(router);
    const cases = await Promise.all(faults.map(async (f) => {
      const d = await api<{ id: string }>("POST", "/api/destinations", {
        name: f.name,
        type: f.type,
        config: f.config,
        retry: f.retry,
      });
      const route = await api<{ endpoint: string }>("POST", "/api/routes", {
        name: f.name,
        destinations: [{ destination_id: d.id }],
      });
      const sent = await Promise.all([0, 1].map((i) => send(`${router.url}${route.endpoint}`, i)));
      assert.deepEqual(sent.map((r) => r.status), [202, 202], `${f.name}: webhooks accepted`);
      return { f, destId: d.id, events: sent.map((r) => r.id!) };
    }));
    const deadOf = async (destId: string) =>
      (await api<{ items: DeliveryView[] }>("GET", `/api/dlq/messages?destination_id=${destId}`))
        .items;
    const deliveriesOf = async (events: string[]) =>
      await Promise.all(
        events.map(async (id) =>
          (await api<{ deliveries: DeliveryView[] }>("GET", `/api/events/${id}`)).deliveries[0]
        ),
      );
    // Settled for this test: a permanent fault after its first attempt (dead or not: a retry
    // is the wrong verdict and fails below at once), a retriable one once it is dead.
    let state = "";
    await waitUntil(
      async () => {
        const views = await Promise.all(cases.map(async (c) => ({
          c,
          ds: await deliveriesOf(c.events),
        })));
        state = views.map(({ c, ds }) =>
          `${c.f.name}: ${
            ds.map((d) => `${d?.status}/${d?.attempts} (${d?.last_error})`).join(", ")
          }`
        ).join("\n  ");
        return views.every(({ c, ds }) =>
          ds.every((d) =>
            d && (c.f.permanent ? d.attempts >= 1 && !!d.last_error : d.status === "dead")
          )
        );
      },
      45_000,
      () => `every fault's deliveries to settle; now:\n  ${state}`,
    );
    assert.equal(await healthy(router), 200, "/health answers");
    for (const { f, destId, events } of cases) {
      const dead = await deadOf(destId);
      assert.equal(dead.length, 2, `${f.name}: two dead letters; now:\n  ${state}`);
      for (const d of dead) {
        assert.equal(d.status, "dead");
        assert.match(d.last_error ?? "", f.error, `${f.name}: dead letter error`);
        assert.equal(
          d.attempts,
          f.permanent ? 1 : f.retry.max_attempts,
          `${f.name}: ${f.permanent ? "dead at once" : "dead after the schedule"}: ${d.last_error}`,
        );
      }
      for (const id of events) {
        const e = await api<{ deliveries: DeliveryView[] }>("GET", `/api/events/${id}`);
        const [d] = e.deliveries;
        assert.equal(d.attempt_log.length, d.attempts, `${f.name}: one log entry per attempt`);
        for (const a of d.attempt_log) {
          assert.match(a.error ?? "", f.error, `${f.name}: attempt ${a.n} error`);
          if (f.secret) assert.ok(!a.error?.includes(f.secret), `${f.name}: no password`);
        }
        assert.equal(d.attempt_log.at(-1)?.outcome, "dead");
      }
      console.log(`${f.name}: ${(await deadOf(destId))[0].last_error}`);
    }
    assert.equal(router.child.pid > 0 && (await healthy(router)), 200, "no crash");
  } finally {
    const status = await router.kill("SIGTERM");
    await Deno.remove(router.dir, { recursive: true }).catch(() => {});
    assert.equal(status.code, 0, `the router exits cleanly: ${router.logs().slice(-2000)}`);
  }
}

Deno.test({
  name: "broker faults: missing queue and topic dead at once, closed ports after the schedule",
  ignore: needs("RABBITMQ_URL", "KAFKA_BROKERS", "REDIS_URL").ignore,
  ...loose,
  async fn() {
    const closed = freePort();
    const missingQueue = uniq(), missingTopic = uniq();
    await checkFaults([
      {
        name: "rabbitmq-missing-queue",
        type: "rabbitmq",
        config: { url: mustPeer("RABBITMQ_URL"), queue: missingQueue },
        retry: QUICK_RETRY,
        error: new RegExp(`unroutable \\(312 NO_ROUTE\\).*routing key "${missingQueue}"`),
        permanent: true,
      },
      {
        name: "kafka-missing-topic",
        type: "kafka",
        config: {
          brokers: mustPeer("KAFKA_BROKERS").split(","),
          topic: missingTopic,
          allow_auto_topic_creation: false,
          timeout_ms: 5_000,
        },
        retry: QUICK_RETRY,
        error: /UNKNOWN_TOPIC_OR_PARTITION|does not host this topic/,
        permanent: true,
      },
      {
        name: "rabbitmq-closed-port",
        type: "rabbitmq",
        config: { url: `amqp://127.0.0.1:${closed}/`, queue: "q", timeout_ms: 2_000 },
        retry: QUICK_RETRY,
        error: new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${closed}`),
        permanent: false,
      },
      {
        name: "kafka-closed-port",
        type: "kafka",
        config: { brokers: [`127.0.0.1:${closed}`], topic: "t", timeout_ms: 2_000 },
        retry: QUICK_RETRY,
        error: new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${closed}|127\\.0\\.0\\.1:${closed}`),
        permanent: false,
      },
      {
        name: "redis-closed-port",
        type: "redis",
        config: { address: `127.0.0.1:${closed}`, stream: "s", timeout_ms: 2_000 },
        retry: QUICK_RETRY,
        error: new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${closed}`),
        permanent: false,
      },
    ]);
  },
});

// Credentials are refused while connecting (Publisher.connect), not while publishing.
Deno.test({
  name: "broker faults: Redis wrong password: WRONGPASS, dead at once",
  ignore: needs("REDIS_URL").ignore,
  ...loose,
  async fn() {
    await checkFaults([{
      name: "redis-wrong-password",
      type: "redis",
      config: {
        url: mustPeer("REDIS_URL"),
        username: "no-such-user",
        password: "wrong-password-1",
        stream: "s",
      },
      retry: QUICK_RETRY,
      error: /WRONGPASS/,
      permanent: true,
      secret: "wrong-password-1",
    }]);
  },
});

// The password is in the URL, which is sealed at rest like any secret.
Deno.test({
  name: "broker faults: RabbitMQ unknown user in the URL: ACCESS_REFUSED, dead at once",
  ignore: needs("RABBITMQ_URL").ignore,
  ...loose,
  async fn() {
    const u = new URL(mustPeer("RABBITMQ_URL"));
    u.username = "no-such-user";
    u.password = "wrong-password-2";
    await checkFaults([{
      name: "rabbitmq-bad-credentials",
      type: "rabbitmq",
      config: { url: u.toString(), queue: "q" },
      retry: QUICK_RETRY,
      error: /ACCESS_REFUSED/,
      permanent: true,
      secret: "wrong-password-2",
    }]);
  },
});
