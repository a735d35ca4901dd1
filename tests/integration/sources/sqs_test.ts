/**
 * SQS consumer (trigger type `sqs`) against moto's server: the shared consumer suite (shared
 * server, and a private moto for the outage, whose queue is created again after the restart),
 * producing with the SDK's SendMessageBatch and counting with GetQueueAttributes; then a FIFO
 * queue's group and sequence headers, and a binary body sent by the router's own SQS
 * destination arriving byte for byte.
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
import { sqsTarget } from "../../helpers/consumer_targets.ts";
import { testContext } from "../../helpers/publisher_context.ts";
import { sqsSourceFactory } from "../../../adapters/sources/sqs/source.ts";
import { sqsPublisherFactory } from "../../../adapters/brokers/sqs/publisher.ts";

const gate = needs("SQS_ENDPOINT");

function creds(endpoint: string) {
  return {
    endpoint,
    region: mustPeer("AWS_REGION"),
    access_key_id: mustPeer("AWS_ACCESS_KEY_ID"),
    secret_access_key: mustPeer("AWS_SECRET_ACCESS_KEY"),
  };
}

const instance = { PEER_INSTANCE: "consumers-moto", MOTO_PORT: "4576" };
const server = privateInstance("moto.sh", instance);

consumerSuite("sqs source", {
  factory: sqsSourceFactory,
  ignore: gate.ignore,
  reportsLag: true,
  setup: () => sqsTarget(creds(mustPeer("SQS_ENDPOINT"))),
  metadata(e, m) {
    assert.equal(e.headers["x-id"], m.id, "message attributes are headers");
    assert.match(e.headers["x-sqs-message-id"], /\S/);
    assert.equal(e.dedupKey?.endsWith(e.headers["x-sqs-message-id"]), true);
    assert.match(e.headers["x-sqs-receive-count"], /^\d+$/);
    assert.match(e.headers["x-sqs-sent-timestamp"], /^\d+$/);
  },
  guardedConfig: (host, port) => ({
    queue_url: `http://${host}:${port}/123456789012/q`,
    region: "us-east-1",
    access_key_id: "test",
    secret_access_key: "test",
    timeout_ms: 2_000,
  }),
  async outage() {
    await server("start");
    const t = await sqsTarget(creds(`http://127.0.0.1:${instance.MOTO_PORT}`));
    return onInstance(t, server);
  },
});

sourceTest(
  "sqs source: a FIFO queue's group and sequence number travel as headers",
  gate.ignore,
  async ({ h, defer, start }) => {
    const name = `er-src-${crypto.randomUUID().slice(0, 8)}.fifo`;
    const t = await sqsTarget(creds(mustPeer("SQS_ENDPOINT")), name);
    defer(() => t.cleanup());
    const committed: number[] = [];
    start(sqsSourceFactory, t.config, {
      beforeCommit: (events) => committed.push(...events.map((e) => Number(e.headers?.["x-seq"]))),
    });
    await t.produce(produced(6, "fifo"));
    await waitFor(() => "6 events", async () => (await h.events()).length >= 6);
    const events = await h.events();
    assert.deepEqual(
      new Set(events.map((e) => e.headers["x-sqs-group-id"])),
      new Set(["g0", "g1"]),
    );
    assert.ok(events.every((e) => /^\d+$/.test(e.headers["x-sqs-sequence-number"] ?? "")));
    // Within a group, committed in the order they were sent in.
    for (const g of [0, 1]) {
      const seqs = committed.filter((s) => s % 2 === g);
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), `group g${g} in order`);
    }
  },
);

sourceTest(
  "sqs source: a binary body sent by the router's SQS destination arrives byte for byte",
  gate.ignore,
  async ({ h, defer, start }) => {
    const t = await sqsTarget(creds(mustPeer("SQS_ENDPOINT")));
    defer(() => t.cleanup());
    const { wait_seconds: _w, visibility_timeout: _v, receivers: _r, ...dest } = t.config;
    const publisher = sqsPublisherFactory.create(
      sqsPublisherFactory.parseConfig(dest),
      testContext(),
    );
    defer(() => publisher.close());
    const body = new Uint8Array([0, 1, 2, 0xff, 0xfe, 10, 13]);
    start(sqsSourceFactory, t.config);
    const [res] = await publisher.publish([{
      id: "dlv_bin",
      eventId: "evt_bin",
      body,
      headers: { "x-kind": "binary" },
      attempt: 1,
    }], new AbortController().signal);
    assert.deepEqual(res, { ok: true });
    await waitFor(() => "1 event", async () => (await h.events()).length >= 1);
    const [e] = await h.events();
    assert.deepEqual(new Uint8Array(e.body), body);
    assert.equal(e.headers["x-kind"], "binary");
    assert.equal(e.headers["delivery_id"], "dlv_bin");
  },
);
