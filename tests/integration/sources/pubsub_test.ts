/**
 * Pub/Sub consumer (trigger type `pubsub`) against Google's pstest server: the shared consumer
 * suite (shared server, and a private pstest for the outage, whose topic and subscription are
 * created again after the restart), producing with the client's publishMessage and counting
 * what is left with a synchronous pull (v1.SubscriberClient); then ordering keys and a
 * missing subscription.
 */
import assert from "node:assert/strict";
import { consumerSuite, produced, run, waitFor } from "../../conformance/consumer_suite.ts";
import { mustPeer, needs } from "../../helpers/peers.ts";
import { privateInstance } from "../../helpers/broker_instances.ts";
import { sourceHarness } from "../../helpers/source_harness.ts";
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
  name: "pubsub source: ordering keys travel as a header",
  ignore: gate.ignore,
  ...loose,
  async fn() {
    const t = await pubsubTarget(
      mustPeer("PUBSUB_EMULATOR_HOST"),
      mustPeer("PUBSUB_PROJECT_ID"),
      true,
    );
    const h = await sourceHarness();
    const r = run(h, pubsubSourceFactory, t.config);
    try {
      await t.produce(produced(6, "ord"));
      await waitFor(() => "6 events", async () => (await h.events()).length >= 6);
      const keys = new Set((await h.events()).map((e) => e.headers["x-pubsub-ordering-key"]));
      assert.deepEqual(keys, new Set(["k0", "k1"]));
    } finally {
      await r.stop();
      await h.close();
      await t.cleanup();
    }
  },
});

Deno.test({
  name: "pubsub source: a missing subscription is an error naming it",
  ignore: gate.ignore,
  ...loose,
  async fn() {
    const h = await sourceHarness();
    const r = run(h, pubsubSourceFactory, {
      project_id: mustPeer("PUBSUB_PROJECT_ID"),
      subscription: `er-src-missing-${crypto.randomUUID().slice(0, 8)}`,
      emulator_host: mustPeer("PUBSUB_EMULATOR_HOST"),
    });
    try {
      await waitFor(
        () => `state error (${JSON.stringify(r.status())})`,
        () => r.status().state === "error",
      );
      assert.match(String(r.status().last_error), /NOT_FOUND|not found/i);
    } finally {
      await r.stop();
      await h.close();
    }
  },
});
