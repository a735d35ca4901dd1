/**
 * Pub/Sub consumer (trigger type `pubsub`) against Google's pstest server: the shared consumer
 * suite (shared server, and a private pstest for the outage, whose topic and subscription are
 * created again after the restart), producing with the client's publishMessage and counting
 * what is left with a synchronous pull (v1.SubscriberClient); then ordering keys and a
 * missing subscription.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { PubSub, v1 } from "@google-cloud/pubsub";
import {
  consumerSuite,
  type ConsumerUnderTest,
  type Produced,
  produced,
  run,
  waitFor,
} from "../../conformance/consumer_suite.ts";
import { mustPeer, needs } from "../../helpers/peers.ts";
import { privateInstance } from "../../helpers/broker_instances.ts";
import { sourceHarness } from "../../helpers/source_harness.ts";
import { pubsubSourceFactory } from "../../../adapters/sources/pubsub/source.ts";

const gate = needs("PUBSUB_EMULATOR_HOST", "PUBSUB_PROJECT_ID");

interface PubsubTarget extends ConsumerUnderTest {
  recreate(): Promise<void>;
}

async function subscriptionTarget(host: string, ordered = false): Promise<PubsubTarget> {
  const project = mustPeer("PUBSUB_PROJECT_ID");
  const admin = new PubSub({
    projectId: project,
    apiEndpoint: host,
    emulatorMode: true,
    universeDomain: "googleapis.com",
  });
  const id = crypto.randomUUID().slice(0, 8);
  const topicName = `er-src-${id}`, subName = `er-src-${id}-sub`;
  const create = async () => {
    const [topic] = await admin.createTopic(topicName);
    await topic.createSubscription(subName, { enableMessageOrdering: ordered });
  };
  await create();
  const topic = admin.topic(topicName, { messageOrdering: ordered });
  const subPath = `projects/${project}/subscriptions/${subName}`;
  const puller = () =>
    new v1.SubscriberClient(admin.options as ConstructorParameters<typeof v1.SubscriberClient>[0]);
  return {
    config: { project_id: project, subscription: subName, emulator_host: host, timeout_ms: 3_000 },
    async produce(msgs: Produced[]) {
      await Promise.all(msgs.map((m) =>
        topic.publishMessage({
          data: Buffer.from(m.body),
          attributes: { ...m.headers, "x-id": m.id },
          orderingKey: ordered ? `k${m.seq % 2}` : undefined,
        })
      ));
    },
    // Pulls whatever is deliverable (the consumer is stopped, so nothing is leased), counts it
    // and hands it straight back (ack deadline 0) so a later consumer still gets it.
    async unacked() {
      const client = puller();
      const seen = new Set<string>();
      const ackIds: string[] = [];
      try {
        for (let empty = 0; empty < 2;) {
          const [resp] = await client.pull(
            { subscription: subPath, maxMessages: 1000, returnImmediately: true },
            { timeout: 5_000 },
          );
          const got = resp.receivedMessages ?? [];
          if (got.length === 0) {
            empty++;
            await new Promise((r) => setTimeout(r, 200));
            continue;
          }
          for (const r of got) seen.add(r.message!.messageId!);
          ackIds.push(...got.map((r) => r.ackId!));
        }
        // Only now, or the next pull would get them again at once.
        if (ackIds.length) {
          await client.modifyAckDeadline({ subscription: subPath, ackIds, ackDeadlineSeconds: 0 });
        }
      } finally {
        await client.close();
      }
      return seen.size;
    },
    async recreate() {
      await create();
      // pstest numbers message ids from m0 again after a restart, where Pub/Sub's are unique:
      // spend the ids the first half had on a scratch topic, or the dedup key (the message
      // id) would rightly call the second half duplicates.
      const [scratch] = await admin.createTopic(`${topicName}-scratch`);
      await Promise.all(
        Array.from({ length: 200 }, () => scratch.publishMessage({ data: Buffer.from("x") })),
      );
      await scratch.delete();
    },
    async cleanup() {
      await admin.subscription(subName).delete().catch(() => {});
      await admin.topic(topicName).delete().catch(() => {});
      await admin.close();
    },
  };
}

const instance = { PEER_INSTANCE: "consumers-pstest", PSTEST_PORT: "8095" };
const server = privateInstance("pstest.sh", instance);

consumerSuite("pubsub source", {
  factory: pubsubSourceFactory,
  ignore: gate.ignore,
  reportsLag: false,
  setup: () => subscriptionTarget(mustPeer("PUBSUB_EMULATOR_HOST")),
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
    const t = await subscriptionTarget(`127.0.0.1:${instance.PSTEST_PORT}`);
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
    const t = await subscriptionTarget(mustPeer("PUBSUB_EMULATOR_HOST"), true);
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
