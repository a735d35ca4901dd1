/**
 * Broker consumers in the real process (`main.ts serve`), with the trigger runner:
 * - one node runs a trigger of each consumer type (RabbitMQ, Kafka, Redis Streams, SQS on
 *   moto, Pub/Sub on pstest) while each broker's own client keeps producing; the node is
 *   SIGKILLed mid-stream and started again: every produced message is an event exactly once
 *   (redeliveries caught by the dedup key), none lost, and afterwards no broker holds anything
 *   unacknowledged;
 * - two nodes on one PostgreSQL: each trigger consumes on exactly one node (its lease); the node
 *   holding most of them is SIGKILLed mid-stream, the other takes them over, and again every
 *   message is one event and nothing stays unacknowledged;
 * - a round trip: webhook -> route -> RabbitMQ destination -> RabbitMQ trigger (its url from
 *   RABBITMQ_URL) -> second route -> HTTP sink.
 */
import assert from "node:assert/strict";
import { mustPeer, needs } from "../helpers/peers.ts";
import {
  apiClient,
  bootstrapAdmin,
  type RouterProcess,
  startRouter,
} from "../helpers/router_process.ts";
import { startSink } from "../helpers/sink.ts";
import { freshDatabase } from "../helpers/fresh_database.ts";
import {
  kafkaTarget,
  pubsubTarget,
  rabbitmqTarget,
  redisTarget,
  sqsTarget,
  withAmqp,
} from "../helpers/consumer_targets.ts";
import { type ConsumerUnderTest, produced, waitFor } from "../conformance/consumer_suite.ts";

const gate = needs(
  "RABBITMQ_URL",
  "KAFKA_BROKERS",
  "REDIS_URL",
  "SQS_ENDPOINT",
  "PUBSUB_EMULATOR_HOST",
  "PUBSUB_PROJECT_ID",
);
const loose = { sanitizeOps: false, sanitizeResources: false };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Api = ReturnType<typeof apiClient>;

interface Ev {
  id: string;
  source: string;
  body: string;
  headers: Record<string, string>;
}

async function routeEvents(api: Api, routeId: string): Promise<Ev[]> {
  const out: Ev[] = [];
  for (let offset = 0;; offset += 500) {
    const page = await api<{ items: Ev[]; total: number }>(
      "GET",
      `/api/events?route_id=${routeId}&limit=500&offset=${offset}`,
    );
    out.push(...page.items);
    if (page.items.length < 500) return out;
  }
}

async function admin(node: RouterProcess): Promise<Api> {
  return apiClient(node.url, await bootstrapAdmin(node.url));
}

/** A fresh queue/topic/stream of each broker, each with its consumer config. */
async function allTargets(): Promise<Record<string, ConsumerUnderTest>> {
  return {
    rabbitmq: await rabbitmqTarget(mustPeer("RABBITMQ_URL")),
    kafka: await kafkaTarget(mustPeer("KAFKA_BROKERS").split(",")),
    // A restarted or other node has another id, so another consumer name: the dead one's
    // pending entries are claimed once idle this long.
    redis: redisTarget(mustPeer("REDIS_URL"), { claim_idle_ms: 2_000 }),
    sqs: await sqsTarget({
      endpoint: mustPeer("SQS_ENDPOINT"),
      region: mustPeer("AWS_REGION"),
      access_key_id: mustPeer("AWS_ACCESS_KEY_ID"),
      secret_access_key: mustPeer("AWS_SECRET_ACCESS_KEY"),
    }),
    pubsub: await pubsubTarget(mustPeer("PUBSUB_EMULATOR_HOST"), mustPeer("PUBSUB_PROJECT_ID")),
  };
}

/** A route and a trigger per target; answers the route ids by type. */
async function triggersFor(
  api: Api,
  targets: Record<string, ConsumerUnderTest>,
): Promise<Record<string, string>> {
  const routes: Record<string, string> = {};
  for (const [type, t] of Object.entries(targets)) {
    const route = await api("POST", "/api/routes", { name: `from-${type}` });
    routes[type] = route.id as string;
    await api("POST", "/api/triggers", {
      name: `${type}-in`,
      type,
      route_id: route.id,
      config: t.config,
    });
  }
  return routes;
}

/** Each broker's own client produces `n` messages in batches of 20, `pause()` ms apart. */
function produceAll(targets: Record<string, ConsumerUnderTest>, n: number, pause: () => number) {
  return Promise.all(
    Object.entries(targets).map(async ([type, t]) => {
      const all = produced(n, type);
      for (let i = 0; i < n; i += 20) {
        await t.produce(all.slice(i, i + 20));
        await sleep(pause());
      }
    }),
  );
}

/** Event counts of the routes by type. */
async function counts(api: Api, routes: Record<string, string>): Promise<Record<string, number>> {
  return Object.fromEntries(
    await Promise.all(
      Object.entries(routes).map(async ([t, id]) => [t, (await routeEvents(api, id)).length]),
    ),
  );
}

/** Every one of the `n` messages of each type is one event of its route, none twice. */
async function assertOnceEach(api: Api, routes: Record<string, string>, n: number) {
  let seen: Record<string, number> = {};
  await waitFor(
    () => `${n} events per consumer (${JSON.stringify(seen)})`,
    async () => Object.values(seen = await counts(api, routes)).every((c) => c >= n),
    90_000,
  );
  await sleep(1_000); // a straggler would be a duplicate
  for (const [type, id] of Object.entries(routes)) {
    const evs = await routeEvents(api, id);
    const seqs = evs.map((e) => JSON.parse(e.body).seq as number);
    assert.equal(evs.length, n, `${type}: one event per message`);
    assert.equal(new Set(seqs).size, n, `${type}: no message became two events`);
    assert.ok(evs.every((e) => e.headers["x-trigger-type"] === type));
  }
}

/** After the nodes stopped: no broker holds anything unacknowledged. */
async function assertAllAcked(targets: Record<string, ConsumerUnderTest>) {
  for (const [type, t] of Object.entries(targets)) {
    let left = -1;
    await waitFor(() => `${type}: nothing unacknowledged (${left})`, async () => {
      left = await t.unacked();
      return left === 0;
    }, 20_000);
  }
}

/** Waits until every consumer is mid-stream: some events, not all yet. */
async function midStream(api: Api, routes: Record<string, string>, n: number) {
  let seen: Record<string, number> = {};
  await waitFor(
    () => `every consumer mid-stream (${JSON.stringify(seen)})`,
    async () => Object.values(seen = await counts(api, routes)).every((c) => c >= n / 5),
    60_000,
  );
  assert.ok(Object.values(seen).some((c) => c < n), "killed while messages were still coming");
}

type TriggerList = { items: Array<{ id: string; type: string; status: Record<string, unknown> }> };

/** Every trigger reports "connected" (within 30 s: a Kafka consumer taking over a SIGKILLed
 * node's group waits for the dead member's session to expire before it joins). */
async function assertConnected(api: Api) {
  let items: TriggerList["items"] = [];
  await waitFor(
    () => `every trigger connected: ${JSON.stringify(items.map((t) => [t.type, t.status]))}`,
    async () => {
      items = (await api<TriggerList>("GET", "/api/triggers?limit=50")).items;
      return items.every((t) => t.status.state === "connected");
    },
    30_000,
  ).catch(() => {});
  for (const t of items) {
    assert.equal(t.status.state, "connected", `${t.type}: ${JSON.stringify(t.status)}`);
  }
}

Deno.test({
  name: "consumers e2e: SIGKILL mid-stream, restart: every message of every broker is one event",
  ignore: gate.ignore,
  ...loose,
  async fn() {
    const N = 300;
    const targets = await allTargets();
    let producing = true;
    let producers: Promise<unknown> = Promise.resolve();
    let node = await startRouter({ env: { LEASE_MS: "1000" } });
    const { dir } = node;
    const port = Number(new URL(node.url).port);
    try {
      let api = await admin(node);
      const routes = await triggersFor(api, targets);
      // Each broker's own client keeps producing, in small batches, through the kill.
      producers = produceAll(targets, N, () => producing ? 40 : 0);
      producers.catch(() => {}); // awaited below; a failure is not unhandled meanwhile
      await midStream(api, routes, N);
      const status = await node.kill("SIGKILL");
      assert.equal(status.signal, "SIGKILL");
      node = await startRouter({ dir, port, env: { LEASE_MS: "1000" } });
      api = await admin(node);
      producing = false;
      await producers;
      await assertOnceEach(api, routes, N);
      await assertConnected(api);
      await node.kill("SIGTERM");
      await assertAllAcked(targets);
    } finally {
      producing = false;
      await producers.catch(() => {}); // before the queues go
      await node.kill("SIGKILL").catch(() => {});
      for (const t of Object.values(targets)) await t.cleanup();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "consumers e2e: two nodes on one PostgreSQL: each trigger consumes on one node; the holder SIGKILLed, the other takes over, every message one event",
  ignore: needs("POSTGRES_URL").ignore || gate.ignore,
  ...loose,
  async fn() {
    const N = 200;
    const LEASE_MS = 2000;
    const db = await freshDatabase("er_consumers");
    const targets = await allTargets();
    const env = {
      DATABASE_URL: db.url,
      JWT_SECRET: "consumers-cluster-jwt-secret-0123456789",
      ENCRYPTION_KEY: "cd".repeat(32),
      LEASE_MS: String(LEASE_MS),
    };
    let producing = true;
    let producers: Promise<unknown> = Promise.resolve();
    const nodes: Record<string, RouterProcess> = {
      "node-a": await startRouter({ env: { ...env, NODE_ID: "node-a" } }),
      "node-b": await startRouter({ env: { ...env, NODE_ID: "node-b" } }),
    };
    try {
      // One admin for both: same database, same JWT secret.
      const token = await bootstrapAdmin(nodes["node-a"].url);
      const apis = Object.fromEntries(
        Object.entries(nodes).map(([id, n]) => [id, apiClient(n.url, token)]),
      );
      const routes = await triggersFor(apis["node-a"], targets);
      producers = produceAll(targets, N, () => producing ? 40 : 0);
      producers.catch(() => {}); // awaited below; a failure is not unhandled meanwhile
      await midStream(apis["node-a"], routes, N);

      // Once across the cluster: every trigger runs on exactly one of the two nodes.
      type Health = { triggers: Array<{ id: string; running_here: boolean }> };
      const here = async (node: string) =>
        new Set(
          (await apis[node]<Health>("GET", "/health?verbose=true")).triggers
            .filter((t) => t.running_here).map((t) => t.id),
        );
      // Two answers are not one instant: a trigger whose renewal came late under load may be
      // moving (its old holder's emits are fenced off meanwhile), so wait for a clean split.
      const all = Object.keys(targets).length;
      let a = new Set<string>(), b = new Set<string>();
      await waitFor(
        () => `each trigger on exactly one node (a: ${[...a]}, b: ${[...b]})`,
        async () => {
          [a, b] = [await here("node-a"), await here("node-b")];
          return a.size + b.size === all && [...a].every((id) => !b.has(id));
        },
        10_000,
      );

      // SIGKILL the node holding more of them; its triggers move to the other.
      const victim = a.size >= b.size ? "node-a" : "node-b";
      const survivor = victim === "node-a" ? "node-b" : "node-a";
      assert.equal((await nodes[victim].kill("SIGKILL")).signal, "SIGKILL");
      producing = false;
      await producers;
      await assertOnceEach(apis[survivor], routes, N);
      assert.equal((await here(survivor)).size, all, "all moved");
      await assertConnected(apis[survivor]);
      await nodes[survivor].kill("SIGTERM");
      await assertAllAcked(targets);
    } finally {
      producing = false;
      await producers.catch(() => {}); // before the queues go
      await Promise.allSettled(Object.values(nodes).map((n) => n.kill("SIGKILL")));
      for (const t of Object.values(targets)) await t.cleanup();
      await db.drop();
    }
  },
});

Deno.test({
  name:
    "consumers e2e: webhook -> route -> RabbitMQ destination -> RabbitMQ trigger -> route -> HTTP sink",
  ignore: needs("RABBITMQ_URL").ignore,
  ...loose,
  async fn() {
    const url = mustPeer("RABBITMQ_URL");
    const queue = `er-roundtrip-${crypto.randomUUID().slice(0, 8)}`;
    await withAmqp(url, async (c) => void await (await c.createChannel()).assertQueue(queue));
    const sink = await startSink();
    const node = await startRouter({ env: { RABBITMQ_URL: url, LEASE_MS: "1000" } });
    try {
      const api = await admin(node);
      // No url in either config: both take the node's RABBITMQ_URL.
      const toQueue = await api("POST", "/api/destinations", {
        name: "to-queue",
        type: "rabbitmq",
        config: { queue },
      });
      const inbound = await api("POST", "/api/routes", {
        name: "inbound",
        destinations: [{ destination_id: toQueue.id }],
      });
      const toSink = await api("POST", "/api/destinations", {
        name: "to-sink",
        type: "http",
        config: { url: `${sink.url}/in` },
      });
      const onward = await api("POST", "/api/routes", {
        name: "onward",
        destinations: [{ destination_id: toSink.id }],
      });
      const trigger = await api("POST", "/api/triggers", {
        name: "from-queue",
        type: "rabbitmq",
        route_id: onward.id,
        config: { queue },
      });
      const n = 20;
      const sent: Record<string, string> = {};
      for (let i = 0; i < n; i++) {
        const body = JSON.stringify({ order: i, note: `round trip ${i}` });
        const r = await fetch(`${node.url}${inbound.endpoint}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        const { id } = await r.json();
        assert.equal(r.status, 202);
        sent[id] = body;
      }
      await waitFor(
        () => `${n} deliveries at the sink (${sink.total()})`,
        () => sink.total() >= n,
        30_000,
      );
      const second = await routeEvents(api, onward.id as string);
      assert.equal(second.length, n, "each queued message became one event on the second route");
      const bodies = new Set(Object.values(sent));
      for (const e of second) {
        assert.equal(e.source, `trigger:${trigger.id}`);
        assert.ok(bodies.has(e.body), `the webhook's body came through unchanged: ${e.body}`);
        // The RabbitMQ destination stamps the first event's id; the trigger keeps it as a header.
        assert.ok(sent[e.headers["x-event-id"]], "x-event-id names the webhook's event");
        assert.match(e.headers["x-rabbitmq-message-id"], /^dlv_/, "message id = delivery id");
        const full = await api<{ deliveries: Array<{ status: string }> }>(
          "GET",
          `/api/events/${e.id}`,
        );
        assert.equal(full.deliveries[0]?.status, "delivered", `event ${e.id} reached the sink`);
      }
      assert.equal(sink.deliveries.size, n, "one delivery per event at the sink");
    } finally {
      await node.kill("SIGTERM");
      await sink.stop();
      await withAmqp(url, async (c) => void await (await c.createChannel()).deleteQueue(queue))
        .catch(() => {});
      await Deno.remove(node.dir, { recursive: true }).catch(() => {});
    }
  },
});
