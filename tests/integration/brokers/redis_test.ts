/**
 * Redis Streams publisher against a real Redis (tests/peers/servers/redis.sh): the shared
 * publisher suite, then fields, MAXLEN and fault cases. Entries are read back with ioredis
 * XRANGE.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { outgoing, publisherSuite, type ReadBack } from "../../conformance/publisher_suite.ts";
import { mustPeer, needs } from "../../helpers/peers.ts";
import { privateInstance } from "../../helpers/broker_instances.ts";
import {
  assertFailed,
  assertGuardRefuses,
  assertHungServerBounded,
  assertReconnectsAfterRestart,
} from "../../helpers/publish_faults.ts";
import { testContext } from "../../helpers/publisher_context.ts";
import {
  type RedisPublisher,
  redisPublisherFactory,
} from "../../../adapters/brokers/redis/publisher.ts";
import { uniqueName } from "../../helpers/unique_name.ts";

const gate = needs("REDIS_URL");

const ctx = testContext();

const uniq = () => uniqueName("er-test");
const dec = new TextDecoder();

function make(config: Record<string, unknown>): RedisPublisher {
  const c = redisPublisherFactory.parseConfig({ timeout_ms: 3_000, ...config });
  return redisPublisherFactory.create(c, ctx) as RedisPublisher;
}

async function withRedis<T>(fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis(mustPeer("REDIS_URL"), { lazyConnect: true, maxRetriesPerRequest: 1 });
  await r.connect();
  try {
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

interface Entry extends ReadBack {
  fields: Record<string, string>;
}

/** XRANGE the stream until it holds `count` entries (or `timeoutMs` passes). */
function readStream(stream: string, count: number, timeoutMs: number): Promise<Entry[]> {
  return withRedis(async (r) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const raw = await r.xrangeBuffer(stream, "-", "+");
      if (raw.length >= count || Date.now() > deadline) {
        return raw.map(([, kv]) => {
          const f: Record<string, Uint8Array> = {};
          for (let i = 0; i < kv.length; i += 2) f[kv[i].toString()] = new Uint8Array(kv[i + 1]);
          const fields = Object.fromEntries(Object.entries(f).map(([k, v]) => [k, dec.decode(v)]));
          return {
            body: f.body,
            headers: JSON.parse(fields.headers ?? "{}"),
            id: fields.id,
            fields,
          };
        });
      }
      await new Promise((ok) => setTimeout(ok, 100));
    }
  });
}

publisherSuite("redis streams (url)", {
  ordered: true,
  ignore: gate.ignore,
  setup() {
    const stream = uniq();
    return Promise.resolve({
      publisher: make({ url: mustPeer("REDIS_URL"), stream }),
      readBack: (count: number, timeoutMs: number) => readStream(stream, count, timeoutMs),
      cleanup: () => withRedis((r) => r.del(stream)).then(() => {}),
    });
  },
});

/** A loopback TCP server that accepts connections and never answers: the "hung broker". */
Deno.test({
  name: "redis: config errors name the field",
  fn() {
    assert.throws(() => redisPublisherFactory.parseConfig({ stream: "s" }), /url: set exactly one/);
    assert.throws(
      () => redisPublisherFactory.parseConfig({ url: "http://x", stream: "s" }),
      /url: expected a redis:\/\//,
    );
    assert.throws(
      () => redisPublisherFactory.parseConfig({ address: "h:1", stream: "s", maxlen: 0 }),
      /maxlen: /,
    );
    assert.throws(
      () =>
        redisPublisherFactory.parseConfig({ address: "h:1", stream: "s", fields: { body: "x" } }),
      /fields\.body: reserved field name/,
    );
  },
});

Deno.test({
  name: "redis: address form, entry fields, constant fields and MAXLEN ~",
  ignore: gate.ignore,
  async fn() {
    const stream = uniq();
    const p = make({
      address: mustPeer("REDIS_ADDRESS"),
      stream,
      maxlen: 10,
      fields: { source: "event-router" },
    });
    try {
      const batch = outgoing(300, "cap");
      const rs = await p.publish(batch, new AbortController().signal);
      assert.ok(rs.every((r) => r.ok));
      const len = await withRedis((r) => r.xlen(stream));
      assert.ok(len < 300 && len >= 10, `stream trimmed to about 10 entries (${len})`);
      const [last] = (await readStream(stream, 1, 1_000)).slice(-1);
      assert.equal(last.id, batch[299].id);
      assert.equal(last.fields.event_id, batch[299].eventId);
      assert.equal(last.fields.attempt, "1");
      assert.equal(last.fields.source, "event-router");
      assert.equal(last.headers["content-type"], "application/json");
    } finally {
      await p.close();
      await withRedis((r) => r.del(stream));
    }
  },
});

Deno.test({
  name: "redis: wrong port fails retriably within seconds",
  ignore: gate.ignore,
  async fn() {
    const p = make({ address: "127.0.0.1:1", stream: "s" });
    const started = Date.now();
    const rs = await p.publish(outgoing(2), new AbortController().signal);
    assert.ok(Date.now() - started < 5_000, "no hang");
    for (const r of rs) assertFailed(r, false, /ECONNREFUSED|connect/);
    assert.equal(p.healthy(), false);
    await p.close();
  },
});

Deno.test({
  name: "redis: bad credentials fail permanently with WRONGPASS",
  ignore: gate.ignore,
  async fn() {
    const u = new URL(mustPeer("REDIS_URL"));
    u.username = "no-such-user";
    u.password = "wrong";
    const p = make({ url: u.toString(), stream: "s" });
    try {
      const rs = await p.publish(outgoing(1), new AbortController().signal);
      assertFailed(rs[0], true, /WRONGPASS/);
    } finally {
      await p.close();
    }
  },
});

Deno.test({
  name:
    "redis: a key of the wrong type and a missing stream (create_stream false) fail permanently",
  ignore: gate.ignore,
  async fn() {
    const key = uniq();
    await withRedis((r) => r.set(key, "not a stream"));
    const wrong = make({ url: mustPeer("REDIS_URL"), stream: key });
    const missing = make({
      url: mustPeer("REDIS_URL"),
      stream: `${key}-missing`,
      create_stream: false,
    });
    try {
      const rs = await wrong.publish(outgoing(2), new AbortController().signal);
      for (const r of rs) assertFailed(r, true, /WRONGTYPE/);
      assert.equal(wrong.healthy(), true, "a per-command error keeps the connection");
      const rm = await missing.publish(outgoing(1), new AbortController().signal);
      assertFailed(rm[0], true, /does not exist/);
    } finally {
      await wrong.close();
      await missing.close();
      await withRedis((r) => r.del(key));
    }
  },
});

// A private Redis on another port, so stopping it cannot disturb other tests.
const INSTANCE = { PEER_INSTANCE: "redis-restart", REDIS_PORT: "6391" };
const server = privateInstance("redis.sh", INSTANCE);

Deno.test({
  name: "redis: server restart: publish fails retriably while down, then reconnects",
  ignore: gate.ignore,
  fn: () =>
    assertReconnectsAfterRestart(
      server,
      () => make({ address: `127.0.0.1:${INSTANCE.REDIS_PORT}`, stream: uniq() }),
      { deadlineMs: 15_000, pollMs: 100 },
    ),
});

Deno.test({
  name: "redis: a server that accepts but never answers: retriable timeout, no hang",
  ignore: gate.ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    assertHungServerBounded((port) =>
      make({ address: `127.0.0.1:${port}`, stream: "s", timeout_ms: 1_000 })
    ),
});

Deno.test({
  name: "redis: a host the address guard refuses fails permanently, without connecting",
  ignore: gate.ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    assertGuardRefuses((host, port, guarded) =>
      redisPublisherFactory.create(
        redisPublisherFactory.parseConfig({ url: `redis://${host}:${port}`, stream: "s" }),
        guarded,
      )
    ),
});
