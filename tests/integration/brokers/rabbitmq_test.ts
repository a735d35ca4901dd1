/**
 * RabbitMQ publisher against a real RabbitMQ (tests/peers/servers/rabbitmq.sh): the shared
 * publisher suite (plain queue, and topic exchange + quorum queue), then fault cases.
 * Messages are read back with amqplib's own consumer.
 */
import assert from "node:assert/strict";
import { connect } from "amqplib";
import type { ChannelModel } from "amqplib";
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
  type RabbitmqPublisher,
  rabbitmqPublisherFactory,
} from "../../../adapters/brokers/rabbitmq/publisher.ts";
import { uniqueName } from "../../helpers/unique_name.ts";

const gate = needs("RABBITMQ_URL");

const ctx = testContext();

const uniq = () => uniqueName("er-test");

function make(config: Record<string, unknown>): RabbitmqPublisher {
  const c = rabbitmqPublisherFactory.parseConfig({ timeout_ms: 5_000, ...config });
  return rabbitmqPublisherFactory.create(c, ctx) as RabbitmqPublisher;
}

/** Reads `count` messages from `queue` with amqplib (acks them), waiting up to `timeoutMs`. */
async function readQueue(conn: ChannelModel, queue: string, count: number, timeoutMs: number) {
  const ch = await conn.createChannel();
  const got: ReadBack[] = [];
  try {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      ch.consume(queue, (msg) => {
        if (!msg) return;
        ch.ack(msg);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(msg.properties.headers ?? {})) headers[k] = String(v);
        got.push({
          body: new Uint8Array(msg.content),
          headers,
          id: String(msg.properties.messageId),
        });
        if (got.length >= count) {
          clearTimeout(timer);
          resolve();
        }
      }).catch(() => resolve());
    });
  } finally {
    await ch.close().catch(() => {});
  }
  return got;
}

async function admin<T>(fn: (conn: ChannelModel) => Promise<T>): Promise<T> {
  const conn = await connect(mustPeer("RABBITMQ_URL"));
  try {
    return await fn(conn);
  } finally {
    await conn.close().catch(() => {});
  }
}

publisherSuite("rabbitmq (default exchange, classic queue)", {
  ordered: true,
  ignore: gate.ignore,
  async setup() {
    const queue = uniq();
    const conn = await connect(mustPeer("RABBITMQ_URL"));
    const publisher = make({
      url: mustPeer("RABBITMQ_URL"),
      queue,
      declare: { queue_type: "classic", durable: false },
    });
    return {
      publisher,
      readBack: (count, timeoutMs) => readQueue(conn, queue, count, timeoutMs),
      async cleanup() {
        const ch = await conn.createChannel();
        await ch.deleteQueue(queue).catch(() => {});
        await conn.close().catch(() => {});
      },
    };
  },
});

publisherSuite("rabbitmq (topic exchange, quorum queue)", {
  ordered: true,
  ignore: gate.ignore,
  async setup() {
    const queue = uniq();
    const exchange = `${queue}-x`;
    const conn = await connect(mustPeer("RABBITMQ_URL"));
    const publisher = make({
      url: mustPeer("RABBITMQ_URL"),
      exchange,
      routing_key: "orders.created",
      queue,
      declare: { exchange_type: "topic", queue_type: "quorum" },
    });
    return {
      publisher,
      readBack: (count, timeoutMs) => readQueue(conn, queue, count, timeoutMs),
      async cleanup() {
        const ch = await conn.createChannel();
        await ch.deleteQueue(queue).catch(() => {});
        await ch.deleteExchange(exchange).catch(() => {});
        await conn.close().catch(() => {});
      },
    };
  },
});

/** A loopback TCP server that accepts connections and never answers: the "hung broker". */
Deno.test({
  name: "rabbitmq: config errors name the field",
  fn() {
    assert.throws(() => rabbitmqPublisherFactory.parseConfig({ url: "http://x" }), /url: /);
    assert.throws(
      () => rabbitmqPublisherFactory.parseConfig({ url: "amqp://h" }),
      /queue: set exchange or queue/,
    );
    assert.throws(
      () =>
        rabbitmqPublisherFactory.parseConfig({
          url: "amqp://h",
          queue: "q",
          declare: { queue_type: "stream" },
        }),
      /declare\.queue_type: /,
    );
  },
});

Deno.test({
  name: "rabbitmq: wrong port fails retriably within seconds",
  ignore: gate.ignore,
  async fn() {
    const p = make({ url: "amqp://guest:guest@127.0.0.1:1/", queue: "q" });
    const started = Date.now();
    const rs = await p.publish(outgoing(2), new AbortController().signal);
    assert.ok(Date.now() - started < 5_000, "no hang");
    assert.equal(rs.length, 2);
    for (const r of rs) assertFailed(r, false, /ECONNREFUSED|connect/);
    // Inside the backoff pause the next publish fails fast, telling when to come back.
    const again = await p.publish(outgoing(1), new AbortController().signal);
    assertFailed(again[0], false, /./);
    assert.equal(p.healthy(), false);
    await p.close();
  },
});

Deno.test({
  name: "rabbitmq: a queue that does not exist: the unroutable message fails permanently",
  ignore: gate.ignore,
  async fn() {
    const p = make({ url: mustPeer("RABBITMQ_URL"), queue: `${uniq()}-missing` });
    try {
      const rs = await p.publish(outgoing(2), new AbortController().signal);
      for (const r of rs) assertFailed(r, true, /unroutable.*NO_ROUTE/);
      assert.equal(p.healthy(), true, "the channel survives a returned message");
    } finally {
      await p.close();
    }
  },
});

Deno.test({
  name: "rabbitmq: a missing exchange fails permanently with NOT_FOUND; channel reopens after",
  ignore: gate.ignore,
  async fn() {
    const exchange = `${uniq()}-x`;
    const queue = `${exchange}-q`;
    const p = make({ url: mustPeer("RABBITMQ_URL"), exchange, routing_key: "k" });
    try {
      const rs = await p.publish(outgoing(3), new AbortController().signal);
      assert.equal(rs.length, 3);
      for (const r of rs) assertFailed(r, true, /NOT_FOUND - no exchange/);
      // Someone creates the exchange and a bound queue: the next publish goes through.
      await admin(async (conn) => {
        const ch = await conn.createChannel();
        await ch.assertExchange(exchange, "direct", { durable: false });
        await ch.assertQueue(queue, { durable: false });
        await ch.bindQueue(queue, exchange, "k");
      });
      const [m] = outgoing(1, "after");
      assert.deepEqual(await p.publish([m], new AbortController().signal), [{ ok: true }]);
      const got = await admin((conn) => readQueue(conn, queue, 1, 5_000));
      assert.equal(got[0]?.id, m.id);
      assert.equal(got[0]?.headers["x-event-id"], m.eventId);
    } finally {
      await p.close();
      await admin(async (conn) => {
        const ch = await conn.createChannel();
        await ch.deleteQueue(queue).catch(() => {});
        await ch.deleteExchange(exchange).catch(() => {});
      });
    }
  },
});

Deno.test({
  name: "rabbitmq: bad credentials fail permanently with ACCESS_REFUSED",
  ignore: gate.ignore,
  async fn() {
    const u = new URL(mustPeer("RABBITMQ_URL"));
    u.username = "no-such-user";
    u.password = "wrong";
    const p = make({ url: u.toString(), queue: "q" });
    try {
      const started = Date.now();
      const rs = await p.publish(outgoing(1), new AbortController().signal);
      assert.ok(Date.now() - started < 6_000, "no hang");
      assertFailed(rs[0], true, /ACCESS_REFUSED|403/);
      assert.ok(!rs[0].ok && !rs[0].error.includes("wrong"), "the password is not echoed");
    } finally {
      await p.close();
    }
  },
});

// A private RabbitMQ node on another port, so stopping it cannot disturb other tests.
const INSTANCE = { PEER_INSTANCE: "rabbitmq-restart", RABBITMQ_PORT: "5682" };
const server = privateInstance("rabbitmq.sh", INSTANCE);

Deno.test({
  name: "rabbitmq: broker restart: publish fails retriably while down, then reconnects",
  ignore: gate.ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    assertReconnectsAfterRestart(
      server,
      () =>
        make({
          url: `amqp://guest:guest@127.0.0.1:${INSTANCE.RABBITMQ_PORT}/`,
          queue: uniq(),
          declare: { queue_type: "quorum" },
        }),
      { deadlineMs: 20_000, pollMs: 200 },
    ),
});

Deno.test({
  name: "rabbitmq: a server that accepts but never answers: retriable timeout, no hang",
  ignore: gate.ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    assertHungServerBounded((port) =>
      make({ url: `amqp://guest:guest@127.0.0.1:${port}/`, queue: "q", timeout_ms: 1_000 })
    ),
});

Deno.test({
  name: "rabbitmq: a host the address guard refuses fails permanently, without connecting",
  ignore: gate.ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    assertGuardRefuses((host, port, guarded) =>
      rabbitmqPublisherFactory.create(
        rabbitmqPublisherFactory.parseConfig({
          url: `amqp://guest:guest@${host}:${port}/`,
          queue: "q",
          timeout_ms: 2_000,
        }),
        guarded,
      )
    ),
});
