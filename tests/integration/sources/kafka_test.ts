/**
 * Kafka consumer (trigger type `kafka`) against a real Kafka (KRaft single node): the shared
 * consumer suite on a 3-partition topic (shared server, and a private instance for the
 * outage), producing with a kafkajs producer and reading the group's committed offsets with
 * kafkajs's admin client; then several topics in one trigger and two members of one group
 * sharing the partitions.
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
import { kafkaGroupLag, kafkaTarget } from "../../helpers/consumer_targets.ts";
import { kafkaSourceFactory } from "../../../adapters/sources/kafka/source.ts";
import { uniqueName } from "../../helpers/unique_name.ts";

const gate = needs("KAFKA_BROKERS");
const uniq = () => uniqueName("er-src");
const instance = { PEER_INSTANCE: "consumers-kafka", KAFKA_PORT: "19292" };
const server = privateInstance("kafka.sh", instance);

consumerSuite("kafka source", {
  factory: kafkaSourceFactory,
  ignore: gate.ignore,
  reportsLag: true,
  setup: () => kafkaTarget(mustPeer("KAFKA_BROKERS").split(",")),
  metadata(e, m) {
    assert.equal(e.headers["x-id"], m.id, "the message's own headers are kept");
    assert.equal(e.headers["x-kafka-key"], `k${m.seq % 7}`);
    assert.match(e.headers["x-kafka-partition"], /^[0-2]$/);
    assert.match(e.headers["x-kafka-offset"], /^\d+$/);
    assert.equal(
      e.dedupKey?.endsWith(
        `${e.headers["x-kafka-topic"]}/${e.headers["x-kafka-partition"]}/${
          e.headers["x-kafka-offset"]
        }`,
      ),
      true,
    );
  },
  guardedConfig: (host, port) => ({ brokers: [`${host}:${port}`], topic: "t", group_id: "g" }),
  async outage() {
    await server("start");
    const t = await kafkaTarget([`127.0.0.1:${instance.KAFKA_PORT}`], 1);
    return onInstance(t, server);
  },
});

sourceTest(
  "kafka source: one trigger reads several topics; two members of a group share the work",
  gate.ignore,
  async ({ h, defer, start }) => {
    const brokers = mustPeer("KAFKA_BROKERS").split(",");
    const a = await kafkaTarget(brokers, 2), b = await kafkaTarget(brokers, 2);
    defer(() => a.cleanup());
    defer(() => b.cleanup());
    const topics = [String(a.config.topic), String(b.config.topic)];
    const group = uniq();
    const config = {
      brokers,
      topics,
      group_id: group,
      from_beginning: true,
      session_timeout_ms: 6_000,
    };
    // Two nodes running the same trigger: one dedup scope (same trigger id), one group.
    const one = start(kafkaSourceFactory, config, { id: "trigger_kafka_shared" });
    const two = start(kafkaSourceFactory, config, { id: "trigger_kafka_shared" });
    await a.produce(produced(20, "ta"));
    await b.produce(produced(20, "tb", 20));
    await waitFor(() => "40 events", async () => (await h.events()).length >= 40, 45_000);
    const events = await h.events();
    assert.equal(events.length, 40);
    assert.deepEqual(
      new Set(events.map((e) => e.headers["x-kafka-topic"])),
      new Set(topics),
      "both topics consumed",
    );
    assert.equal(new Set(events.map((e) => e.dedupKey)).size, 40);
    assert.ok(one.emits + two.emits >= 2);
    await waitFor(
      () => "the group committed everything",
      async () => (await kafkaGroupLag(brokers, group, topics)) === 0,
    );
  },
);
