/**
 * Redis Streams consumer (trigger type `redis`) against a real Redis: the shared consumer suite
 * (shared server, and a private in-memory instance for the outage: the group it loses is
 * created again from "0"), producing with ioredis XADD and reading XINFO GROUPS; then entries
 * without a body field, a custom body field, entries claimed from a dead consumer, and two
 * consumers of one group sharing a stream.
 */
import assert from "node:assert/strict";
import {
  consumerSuite,
  onInstance,
  produced,
  sourceTest,
  waitFor,
} from "../../conformance/consumer_suite.ts";
import { mustPeer, needs } from "../../helpers/peers.ts";
import { privateInstance } from "../../helpers/broker_instances.ts";
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
    return onInstance(t, server);
  },
});

sourceTest(
  "redis source: an entry without the body field becomes its fields as JSON; body_field",
  gate.ignore,
  async ({ h, defer, start }) => {
    const url = mustPeer("REDIS_URL");
    const plain = redisTarget(url), custom = redisTarget(url, { body_field: "payload" });
    defer(() => plain.cleanup());
    defer(() => custom.cleanup());
    const a = start(redisSourceFactory, plain.config);
    const b = start(redisSourceFactory, custom.config);
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
  },
);

sourceTest(
  "redis source: entries a dead consumer left pending are claimed after claim_idle_ms",
  gate.ignore,
  async ({ h, defer, start }) => {
    const url = mustPeer("REDIS_URL");
    const t = redisTarget(url, { claim_idle_ms: 1_000, consumer: "alive" });
    defer(() => t.cleanup());
    const stream = String(t.config.stream), group = String(t.config.group);
    await t.produce(produced(10, "dead"));
    // A consumer that read them and died before acknowledging.
    await withRedis(url, async (r) => {
      await r.call("XGROUP", "CREATE", stream, group, "0", "MKSTREAM");
      await r.call("XREADGROUP", "GROUP", group, "dead-node", "COUNT", 100, "STREAMS", stream, ">");
    });
    const s = start(redisSourceFactory, t.config);
    await waitFor(() => "10 claimed events", async () => (await h.events()).length >= 10, 15_000);
    const events = await h.events();
    assert.equal(events.length, 10);
    assert.ok(events.every((e) => e.headers["x-redis-redelivered"] === "true"));
    await s.stop();
    assert.equal(await t.unacked(), 0, "claimed entries were acknowledged");
  },
);

sourceTest(
  "redis source: two consumers of one group share the stream, each entry once",
  gate.ignore,
  async ({ h, defer, start }) => {
    const t = redisTarget(mustPeer("REDIS_URL"), { count: 5 });
    defer(() => t.cleanup());
    const one = start(redisSourceFactory, { ...t.config, consumer: "node-1" }, { id: "trigger_r" });
    const two = start(redisSourceFactory, { ...t.config, consumer: "node-2" }, { id: "trigger_r" });
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
  },
);
