/**
 * Kafka publisher against a real Kafka (tests/peers/servers/kafka.sh, KRaft single node): the
 * shared publisher suite, then keys and fault cases. Messages are read back with a kafkajs
 * consumer from the beginning of a fresh topic.
 */
import assert from "node:assert/strict";
import { openOutbound } from "../../../runtimes/deno/outbound.ts";
import { Kafka, logLevel } from "kafkajs";
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";
import { outgoing, publisherSuite, type ReadBack } from "../../conformance/publisher_suite.ts";
import { mustPeer, needs } from "../../helpers/peers.ts";
import { privateInstance } from "../../helpers/broker_instances.ts";
import {
  assertFailed,
  assertGuardRefuses,
  assertHungServerBounded,
  assertReconnectsAfterRestart,
} from "../../helpers/publish_faults.ts";
import type { Outgoing, PublisherContext } from "../../../core/ports.ts";
import {
  type KafkaPublisher,
  kafkaPublisherFactory,
} from "../../../adapters/brokers/kafka/publisher.ts";
import { uniqueName } from "../../helpers/unique_name.ts";

const gate = needs("KAFKA_BROKERS");
// kafkajs keeps timers after disconnect for a moment; the suite's own checks are what matter.
const loose = { sanitizeOps: false, sanitizeResources: false };

const warnings: string[] = [];
const log = {
  debug() {},
  info() {},
  warn(msg: string) {
    warnings.push(msg);
  },
  error(msg: string) {
    warnings.push(msg);
  },
  child() {
    return log;
  },
};
const ctx: PublisherContext = { ...openOutbound(), log };

const brokers = () => mustPeer("KAFKA_BROKERS").split(",");
const uniq = () => uniqueName("er-test");
const client = () =>
  new Kafka({ clientId: "er-test-reader", brokers: brokers(), logLevel: logLevel.NOTHING });

function make(config: Record<string, unknown>): KafkaPublisher {
  const c = kafkaPublisherFactory.parseConfig({ timeout_ms: 5_000, ...config });
  return kafkaPublisherFactory.create(c, ctx) as KafkaPublisher;
}

async function createTopic(topic: string) {
  const admin = client().admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

async function deleteTopic(topic: string) {
  const admin = client().admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [topic], timeout: 5_000 }).catch(() => {});
  } finally {
    await admin.disconnect();
  }
}

interface Read extends ReadBack {
  key: string | null;
}

/** Reads `count` messages of `topic` from the beginning with a fresh consumer group. */
async function readTopic(topic: string, count: number, timeoutMs: number): Promise<Read[]> {
  const consumer = client().consumer({ groupId: uniq(), sessionTimeout: 10_000 });
  const got: Read[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      consumer.run({
        eachMessage: ({ message }) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) {
            headers[k] = Array.isArray(v) ? String(v[0]) : String(v ?? "");
          }
          got.push({
            body: new Uint8Array(message.value ?? []),
            headers,
            id: headers["x-delivery-id"],
            key: message.key ? message.key.toString() : null,
          });
          if (got.length >= count) {
            clearTimeout(timer);
            resolve();
          }
          return Promise.resolve();
        },
      }).catch(() => resolve());
    });
  } finally {
    await consumer.disconnect().catch(() => {});
  }
  return got;
}

publisherSuite("kafka", {
  ordered: true,
  ignore: gate.ignore,
  async setup() {
    const topic = uniq();
    await createTopic(topic);
    return {
      publisher: make({ brokers: brokers(), topic }),
      readBack: (count, timeoutMs) => readTopic(topic, count, timeoutMs),
      cleanup: () => deleteTopic(topic),
    };
  },
});

/** A loopback TCP server that accepts connections and never answers: the "hung broker". */
Deno.test({
  name: "kafka: config errors name the field",
  fn() {
    assert.throws(
      () => kafkaPublisherFactory.parseConfig({ brokers: [], topic: "t" }),
      /brokers: /,
    );
    assert.throws(
      () => kafkaPublisherFactory.parseConfig({ brokers: ["h:1"], topic: "bad topic" }),
      /topic: /,
    );
    assert.throws(
      () => kafkaPublisherFactory.parseConfig({ brokers: ["h:1"], topic: "t", acks: 1 }),
      /acks: the idempotent producer needs acks -1/,
    );
    assert.throws(
      () => kafkaPublisherFactory.parseConfig({ brokers: ["h"], topic: "t" }),
      /brokers\[0\]: expected host:port/,
    );
    assert.throws(
      () => kafkaPublisherFactory.parseConfig({ brokers: ["h:1"], topic: "t", key: "{{nope.x}}" }),
      /key: /,
    );
  },
});

Deno.test({
  name: "kafka: key from Outgoing.key, else from the config template; headers carry ids",
  ignore: gate.ignore,
  ...loose,
  async fn() {
    const topic = uniq();
    await createTopic(topic);
    const p = make({ brokers: brokers(), topic, key: "{{body.seq}}-{{headers.x-seq}}" });
    try {
      const batch: Outgoing[] = outgoing(3, "k").map((m, i) => ({
        ...m,
        key: i === 0 ? "given" : null,
      }));
      const rs = await p.publish(batch, new AbortController().signal);
      assert.deepEqual(rs, batch.map(() => ({ ok: true })));
      const got = await readTopic(topic, 3, 15_000);
      assert.deepEqual(got.map((m) => m.key), ["given", "1-1", "2-2"]);
      assert.equal(got[1].headers["x-event-id"], batch[1].eventId);
      assert.equal(got[1].headers["x-delivery-id"], batch[1].id);
      assert.equal(got[1].headers["content-type"], "application/json");
    } finally {
      await p.close();
      await deleteTopic(topic);
    }
  },
});

Deno.test({
  name: "kafka: wrong port fails retriably within seconds",
  ignore: gate.ignore,
  ...loose,
  async fn() {
    const p = make({ brokers: ["127.0.0.1:1"], topic: "t" });
    const started = Date.now();
    const rs = await p.publish(outgoing(2), new AbortController().signal);
    assert.ok(Date.now() - started < 7_000, `no hang (${Date.now() - started} ms)`);
    for (const r of rs) assertFailed(r, false, /ECONNREFUSED|Connection|connect/i);
    assert.equal(p.healthy(), false);
    await p.close();
  },
});

Deno.test({
  name: "kafka: a missing topic with auto-creation off fails permanently, naming the cause",
  ignore: gate.ignore,
  ...loose,
  async fn() {
    const p = make({
      brokers: brokers(),
      topic: `${uniq()}-missing`,
      allow_auto_topic_creation: false,
    });
    try {
      const started = Date.now();
      const rs = await p.publish(outgoing(2), new AbortController().signal);
      assert.ok(Date.now() - started < 10_000, "no hang");
      for (const r of rs) {
        assertFailed(r, true, /UNKNOWN_TOPIC_OR_PARTITION|does not host this topic/);
      }
    } finally {
      await p.close();
    }
  },
});

Deno.test({
  name: "kafka: a message over the broker's size limit fails permanently; the rest go through",
  ignore: gate.ignore,
  ...loose,
  async fn() {
    const topic = uniq();
    await createTopic(topic);
    const p = make({ brokers: brokers(), topic });
    try {
      const [a, b, c] = outgoing(3, "big");
      const huge = { ...b, body: new Uint8Array(2 * 1024 * 1024).fill(120) }; // > 1 MiB default
      const rs = await p.publish([a, huge, c], new AbortController().signal);
      assert.deepEqual(rs[0], { ok: true });
      assertFailed(rs[1], true, /MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE|too large/i);
      assert.deepEqual(rs[2], { ok: true });
      const got = await readTopic(topic, 2, 15_000);
      assert.ok(got.some((m) => m.id === a.id) && got.some((m) => m.id === c.id));
    } finally {
      await p.close();
      await deleteTopic(topic);
    }
  },
});

// A private Kafka on other ports, so stopping it cannot disturb other tests.
const INSTANCE = { PEER_INSTANCE: "kafka-restart", KAFKA_PORT: "19092" };
const server = privateInstance("kafka.sh", INSTANCE);

Deno.test({
  name: "kafka: broker restart: publish fails retriably while down, then reconnects",
  ignore: gate.ignore,
  ...loose,
  fn: () =>
    assertReconnectsAfterRestart(
      server,
      () => make({ brokers: [`127.0.0.1:${INSTANCE.KAFKA_PORT}`], topic: uniq() }),
      { deadlineMs: 30_000, pollMs: 200, downWithinMs: 8_000 },
    ),
});

Deno.test({
  name: "kafka: a server that accepts but never answers: retriable timeout, no hang",
  ignore: gate.ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    assertHungServerBounded((port) =>
      make({ brokers: [`127.0.0.1:${port}`], topic: "t", timeout_ms: 1_000 })
    ),
});

Deno.test({
  name: "kafka: a host the address guard refuses fails permanently, without connecting",
  ignore: gate.ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    assertGuardRefuses((host, port, guarded) =>
      kafkaPublisherFactory.create(
        kafkaPublisherFactory.parseConfig({
          brokers: [`${host}:${port}`],
          topic: "t",
          timeout_ms: 2_000,
        }),
        guarded,
      )
    ),
});

Deno.test({
  name: "kafka: an idle connected publisher does not spin a 1 ms timer loop (kafkajs#1704)",
  ignore: gate.ignore,
  ...loose,
  async fn() {
    const topic = uniq();
    await createTopic(topic);
    const p = make({ brokers: brokers(), topic });
    const proto = (RequestQueue as unknown as { prototype: Record<string, () => void> }).prototype;
    const check = proto.checkPendingRequests;
    let checks = 0;
    proto.checkPendingRequests = function (this: unknown) {
      checks++;
      return check.call(this);
    };
    try {
      await p.connect(AbortSignal.timeout(10_000));
      assert.deepEqual(await p.publish(outgoing(1, "before"), AbortSignal.timeout(10_000)), [{
        ok: true,
      }]);
      await new Promise((r) => setTimeout(r, 200));
      checks = 0;
      await new Promise((r) => setTimeout(r, 1_000));
      // Unpatched, each broker connection's queue re-checks every millisecond (~1,000 a second).
      assert.ok(checks < 20, `${checks} pending-request checks in an idle second`);
      // Requests still go out after the idle time: a push checks the queue itself.
      assert.deepEqual(await p.publish(outgoing(2, "after"), AbortSignal.timeout(10_000)), [
        { ok: true },
        { ok: true },
      ]);
    } finally {
      proto.checkPendingRequests = check;
      await p.close();
    }
  },
});
