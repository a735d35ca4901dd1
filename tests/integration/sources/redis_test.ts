/**
 * Redis Streams consumer (trigger type `redis`) against a real Redis: the shared consumer suite
 * (shared server, and a private in-memory instance for the outage: the group it loses is
 * created again from "0"), producing with ioredis XADD and reading XINFO GROUPS; then entries
 * without a body field, a custom body field, entries claimed from a dead consumer, and two
 * consumers of one group sharing a stream.
 */
import assert from "node:assert/strict";
import { consumerSuite, produced, run, waitFor } from "../../conformance/consumer_suite.ts";
import { mustPeer, needs } from "../../helpers/peers.ts";
import { privateInstance } from "../../helpers/broker_instances.ts";
import { sourceHarness } from "../../helpers/source_harness.ts";
import { redisTarget, withRedis } from "../../helpers/consumer_targets.ts";
import { redisSourceFactory } from "../../../adapters/sources/redis/source.ts";

const gate = needs("REDIS_URL");
const dec = new TextDecoder();

const instance = { PEER_INSTANCE: "consumers-redis", REDIS_PORT: "6403" };
const server = privateInstance("redis.sh", instance);

consumerSuite("redis source", {
  factory: redisSourceFactory,
  ignore: gate.ignore,
  reportsLag: true,
  setup: () => Promise.resolve(redisTarget(mustPeer("REDIS_URL"))),
  metadata(e, m) {
    assert.equal(e.headers["x-id"], m.id, "the entry's other fields are headers");
    assert.match(e.headers["x-redis-id"], /^\d+-\d+$/);
    assert.equal(e.dedupKey?.endsWith(`/${e.headers["x-redis-id"]}`), true);
    assert.equal(e.headers["body"], undefined, "the body field is the body, not a header");
  },
  guardedConfig: (host, port) => ({ address: `${host}:${port}`, stream: "s", group: "g" }),
  async outage() {
    await server("start");
    const url = `redis://127.0.0.1:${instance.REDIS_PORT}`;
    // "$": only the group's loss (the instance keeps nothing) can make it read from "0".
    const t = redisTarget(url, { start_id: "$" });
    await withRedis(
      url,
      (r) =>
        r.call(
          "XGROUP",
          "CREATE",
          String(t.config.stream),
          String(t.config.group),
          "$",
          "MKSTREAM",
        ),
    );
    return {
      ...t,
      stop: () => server("stop"),
      start: () => server("start"),
      cleanup: async () => {
        await t.cleanup();
        await server("stop");
      },
    };
  },
});

const loose = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "redis source: an entry without the body field becomes its fields as JSON; body_field",
  ignore: gate.ignore,
  ...loose,
  async fn() {
    const url = mustPeer("REDIS_URL");
    const plain = redisTarget(url), custom = redisTarget(url, { body_field: "payload" });
    const h = await sourceHarness();
    const a = run(h, redisSourceFactory, plain.config);
    const b = run(h, redisSourceFactory, custom.config);
    try {
      await withRedis(url, async (r) => {
        await r.xadd(String(plain.config.stream), "*", "order", "42", "state", "paid");
        await r.xadd(String(custom.config.stream), "*", "payload", "raw bytes", "kind", "x");
      });
      await waitFor(() => "2 events", async () => (await h.events()).length >= 2);
      const events = await h.events();
      const fromPlain = events.find((e) => e.source === `trigger:${a.id}`)!;
      assert.deepEqual(JSON.parse(dec.decode(fromPlain.body)), { order: "42", state: "paid" });
      assert.equal(fromPlain.headers["content-type"], "application/json");
      const fromCustom = events.find((e) => e.source === `trigger:${b.id}`)!;
      assert.equal(dec.decode(fromCustom.body), "raw bytes");
      assert.equal(fromCustom.headers["kind"], "x");
    } finally {
      await a.stop();
      await b.stop();
      await h.close();
      await plain.cleanup();
      await custom.cleanup();
    }
  },
});

Deno.test({
  name: "redis source: entries a dead consumer left pending are claimed after claim_idle_ms",
  ignore: gate.ignore,
  ...loose,
  async fn() {
    const url = mustPeer("REDIS_URL");
    const t = redisTarget(url, { claim_idle_ms: 1_000, consumer: "alive" });
    const stream = String(t.config.stream), group = String(t.config.group);
    const msgs = produced(10, "dead");
    await t.produce(msgs);
    // A consumer that read them and died before acknowledging.
    await withRedis(url, async (r) => {
      await r.call("XGROUP", "CREATE", stream, group, "0", "MKSTREAM");
      await r.call("XREADGROUP", "GROUP", group, "dead-node", "COUNT", 100, "STREAMS", stream, ">");
    });
    const h = await sourceHarness();
    const s = run(h, redisSourceFactory, t.config);
    try {
      await waitFor(() => "10 claimed events", async () => (await h.events()).length >= 10, 15_000);
      const events = await h.events();
      assert.equal(events.length, 10);
      assert.ok(events.every((e) => e.headers["x-redis-redelivered"] === "true"));
      await s.stop();
      assert.equal(await t.unacked(), 0, "claimed entries were acknowledged");
    } finally {
      await s.stop();
      await h.close();
      await t.cleanup();
    }
  },
});

Deno.test({
  name: "redis source: two consumers of one group share the stream, each entry once",
  ignore: gate.ignore,
  ...loose,
  async fn() {
    const url = mustPeer("REDIS_URL");
    const t = redisTarget(url, { count: 5 });
    const h = await sourceHarness();
    const one = run(h, redisSourceFactory, { ...t.config, consumer: "node-1" }, {
      id: "trigger_r",
    });
    const two = run(h, redisSourceFactory, { ...t.config, consumer: "node-2" }, {
      id: "trigger_r",
    });
    try {
      await waitFor(
        () => "both connected",
        () => one.status().state === "connected" && two.status().state === "connected",
      );
      for (let i = 0; i < 10; i++) await t.produce(produced(10, "share", i * 10));
      await waitFor(() => "100 events", async () => (await h.events()).length >= 100);
      const events = await h.events();
      assert.equal(new Set(events.map((e) => e.dedupKey)).size, 100);
      assert.equal(events.length, 100);
      assert.ok(one.emits > 0 && two.emits > 0, `both consumed (${one.emits}, ${two.emits})`);
    } finally {
      await one.stop();
      await two.stop();
      await h.close();
      await t.cleanup();
    }
  },
});
