/**
 * Pub/Sub consumer (trigger type `pubsub`) against Google's pstest server: the shared consumer
 * suite (shared server, and a private pstest for the outage, whose topic and subscription are
 * created again after the restart), producing with the client's publishMessage and counting
 * what is left with a synchronous pull (v1.SubscriberClient); then ordering keys and a
 * missing subscription.
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
import { pubsubTarget } from "../../helpers/consumer_targets.ts";
import { pubsubSourceFactory } from "../../../adapters/sources/pubsub/source.ts";

const gate = needs("PUBSUB_EMULATOR_HOST", "PUBSUB_PROJECT_ID");

const instance = { PEER_INSTANCE: "consumers-pstest", PSTEST_PORT: "8095" };
const server = privateInstance("pstest.sh", instance);

consumerSuite("pubsub source", {
  factory: pubsubSourceFactory,
  ignore: gate.ignore,
  reportsLag: false,
  setup: () => pubsubTarget(mustPeer("PUBSUB_EMULATOR_HOST"), mustPeer("PUBSUB_PROJECT_ID")),
  metadata(e, m) {
    assert.equal(e.headers["x-id"], m.id, "attributes are headers");
    assert.match(e.headers["x-pubsub-message-id"], /\S/);
    assert.equal(e.dedupKey?.endsWith(e.headers["x-pubsub-message-id"]), true);
    assert.ok(!Number.isNaN(Date.parse(e.headers["x-pubsub-publish-time"])));
  },
  guardedConfig: (host, port) => ({
    project_id: "test-project",
    subscription: "sub",
    emulator_host: `${host}:${port}`,
    timeout_ms: 2_000,
  }),
  async outage() {
    await server("start");
    const t = await pubsubTarget(
      `127.0.0.1:${instance.PSTEST_PORT}`,
      mustPeer("PUBSUB_PROJECT_ID"),
    );
    return onInstance(t, server);
  },
});

sourceTest("pubsub source: ordering keys travel as a header", gate.ignore, async (kit) => {
  const t = await pubsubTarget(
    mustPeer("PUBSUB_EMULATOR_HOST"),
    mustPeer("PUBSUB_PROJECT_ID"),
    true,
  );
  kit.defer(() => t.cleanup());
  kit.start(pubsubSourceFactory, t.config);
  await t.produce(produced(6, "ord"));
  await waitFor(() => "6 events", async () => (await kit.h.events()).length >= 6);
  const keys = new Set((await kit.h.events()).map((e) => e.headers["x-pubsub-ordering-key"]));
  assert.deepEqual(keys, new Set(["k0", "k1"]));
});

sourceTest(
  "pubsub source: a missing subscription is an error naming it",
  gate.ignore,
  async (kit) => {
    const r = kit.start(pubsubSourceFactory, {
      project_id: mustPeer("PUBSUB_PROJECT_ID"),
      subscription: `er-src-missing-${crypto.randomUUID().slice(0, 8)}`,
      emulator_host: mustPeer("PUBSUB_EMULATOR_HOST"),
    });
    await waitFor(
      () => `state error (${JSON.stringify(r.status())})`,
      () => r.status().state === "error",
    );
    assert.match(String(r.status().last_error), /NOT_FOUND|not found/i);
  },
);
