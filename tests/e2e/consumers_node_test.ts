/**
 * Broker consumers in the real process (`main.ts serve`), with the trigger runner:
 * - one node runs a trigger of each consumer type (RabbitMQ, Kafka, Redis Streams, SQS on
 *   moto, Pub/Sub on pstest) while each broker's own client keeps producing; the node is
 *   SIGKILLed mid-stream and started again: every produced message is an event exactly once
 *   (redeliveries caught by the dedup key), none lost, and afterwards no broker holds anything
 *   unacknowledged;
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

Deno.test({
  name: "consumers e2e: SIGKILL mid-stream, restart: every message of every broker is one event",
  ignore: gate.ignore,
  ...loose,
  async fn() {
    const N = 300;
    const targets: Record<string, ConsumerUnderTest> = {
      rabbitmq: await rabbitmqTarget(mustPeer("RABBITMQ_URL")),
      kafka: await kafkaTarget(mustPeer("KAFKA_BROKERS").split(",")),
      // The restarted node has another id, so another consumer name: the dead one's pending
      // entries are claimed once idle this long.
      redis: redisTarget(mustPeer("REDIS_URL"), { claim_idle_ms: 2_000 }),
      sqs: await sqsTarget({
        endpoint: mustPeer("SQS_ENDPOINT"),
        region: mustPeer("AWS_REGION"),
        access_key_id: mustPeer("AWS_ACCESS_KEY_ID"),
        secret_access_key: mustPeer("AWS_SECRET_ACCESS_KEY"),
      }),
      pubsub: await pubsubTarget(mustPeer("PUBSUB_EMULATOR_HOST"), mustPeer("PUBSUB_PROJECT_ID")),
    };
    const types = Object.keys(targets);
    let node = await startRouter({ env: { LEASE_MS: "1000" } });
    const { dir } = node;
    const port = Number(new URL(node.url).port);
    try {
      let api = await admin(node);
      const routes: Record<string, string> = {};
      for (const type of types) {
        const route = await api("POST", "/api/routes", { name: `from-${type}` });
        routes[type] = route.id as string;
        await api("POST", "/api/triggers", {
          name: `${type}-in`,
          type,
          route_id: route.id,
          config: targets[type].config,
        });
      }
      // Each broker's own client keeps producing, in small batches, through the kill.
      let producing = true;
      const producers = types.map(async (type) => {
        const all = produced(N, type);
        for (let i = 0; i < N; i += 20) {
          await targets[type].produce(all.slice(i, i + 20));
          await sleep(producing ? 40 : 0);
        }
      });
      const counts = async (a: Api) =>
        Object.fromEntries(
          await Promise.all(types.map(async (t) => [t, (await routeEvents(a, routes[t])).length])),
        ) as Record<string, number>;
      let seen: Record<string, number> = {};
      await waitFor(
        () => `every consumer mid-stream (${JSON.stringify(seen)})`,
        async () => {
          seen = await counts(api);
          return types.every((t) => seen[t] >= N / 5);
        },
        60_000,
      );
      assert.ok(types.some((t) => seen[t] < N), "killed while messages were still coming");
      const status = await node.kill("SIGKILL");
      assert.equal(status.signal, "SIGKILL");
      node = await startRouter({ dir, port, env: { LEASE_MS: "1000" } });
      api = await admin(node);
      producing = false;
      await Promise.all(producers);
      await waitFor(
        () => `${N} events per consumer after the restart (${JSON.stringify(seen)})`,
        async () => {
          seen = await counts(api);
          return types.every((t) => seen[t] >= N);
        },
        90_000,
      );
      await sleep(1_000); // a straggler would be a duplicate
      for (const type of types) {
        const evs = await routeEvents(api, routes[type]);
        const seqs = evs.map((e) => JSON.parse(e.body).seq as number);
        assert.equal(evs.length, N, `${type}: one event per message`);
        assert.equal(new Set(seqs).size, N, `${type}: no message became two events`);
        assert.ok(evs.every((e) => e.headers["x-trigger-type"] === type));
      }
      const triggers = await api<
        { items: Array<{ type: string; status: Record<string, unknown> }> }
      >(
        "GET",
        "/api/triggers?limit=50",
      );
      for (const t of triggers.items) {
        assert.equal(t.status.state, "connected", `${t.type}: ${JSON.stringify(t.status)}`);
      }
      await node.kill("SIGTERM");
      for (const type of types) {
        let left = -1;
        await waitFor(() => `${type}: nothing unacknowledged (${left})`, async () => {
          left = await targets[type].unacked();
          return left === 0;
        }, 20_000);
      }
    } finally {
      await node.kill("SIGKILL").catch(() => {});
      for (const t of Object.values(targets)) await t.cleanup();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
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
