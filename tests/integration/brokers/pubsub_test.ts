/**
 * Pub/Sub publisher against Google's pstest server (tests/peers/servers/pstest.sh): the shared
 * publisher suite without and with ordering keys, read back with a subscription's pull
 * (v1.SubscriberClient); then attributes and ordering keys, a missing topic and a closed port.
 */
import assert from "node:assert/strict";
import { PubSub, v1 } from "@google-cloud/pubsub";
import { outgoing, publisherSuite, type ReadBack } from "../../conformance/publisher_suite.ts";
import { mustPeer, needs } from "../../helpers/peers.ts";
import { closedPort } from "../../helpers/broker_instances.ts";
import { testContext } from "../../helpers/publisher_context.ts";
import {
  assertClosedPortRetriable,
  assertGuardRefuses,
  assertMissingTarget,
} from "../../helpers/publish_faults.ts";
import {
  pubsubPublisherFactory,
  tenantPubsubPublisherFactory,
} from "../../../adapters/brokers/pubsub/publisher.ts";
import { parsePubsubConfig } from "../../../adapters/brokers/pubsub/config.ts";

const gate = needs("PUBSUB_EMULATOR_HOST", "PUBSUB_PROJECT_ID");

interface Pulled extends ReadBack {
  orderingKey: string;
}

/** A fresh topic with one subscription, pulled with the generated v1 client. */
interface Target {
  topic: string;
  pull(count: number, timeoutMs: number): Promise<Pulled[]>;
  cleanup(): Promise<void>;
}

async function createTarget(ordered: boolean): Promise<Target> {
  const admin = new PubSub({
    projectId: mustPeer("PUBSUB_PROJECT_ID"),
    apiEndpoint: mustPeer("PUBSUB_EMULATOR_HOST"),
    emulatorMode: true,
    universeDomain: "googleapis.com",
  });
  const id = crypto.randomUUID().slice(0, 8);
  const [topic] = await admin.createTopic(`er-test-${id}`);
  const [sub] = await topic.createSubscription(`er-test-${id}-sub`, {
    enableMessageOrdering: ordered,
  });
  // After construction the PubSub options carry the emulator's address and insecure creds.
  const subscriber = new v1.SubscriberClient(
    admin.options as ConstructorParameters<typeof v1.SubscriberClient>[0],
  );
  return {
    topic: `er-test-${id}`,
    async pull(count, timeoutMs) {
      const got: Pulled[] = [];
      const deadline = Date.now() + timeoutMs;
      while (got.length < count && Date.now() < deadline) {
        const [resp] = await subscriber.pull(
          { subscription: sub.name, maxMessages: count - got.length },
          { timeout: 5_000 },
        );
        const msgs = resp.receivedMessages ?? [];
        if (msgs.length === 0) {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        for (const r of msgs) {
          const attrs = (r.message?.attributes ?? {}) as Record<string, string>;
          got.push({
            body: new Uint8Array(r.message?.data as Uint8Array),
            headers: attrs,
            id: attrs["delivery_id"] ?? "",
            orderingKey: r.message?.orderingKey ?? "",
          });
        }
        await subscriber.acknowledge({
          subscription: sub.name,
          ackIds: msgs.map((r) => r.ackId!),
        });
      }
      return got;
    },
    async cleanup() {
      await sub.delete().catch(() => {});
      await topic.delete().catch(() => {});
      await subscriber.close();
      await admin.close();
    },
  };
}

function publisherFor(topic: string, extra: Record<string, unknown> = {}) {
  const cfg = pubsubPublisherFactory.parseConfig({
    project_id: mustPeer("PUBSUB_PROJECT_ID"),
    topic,
    emulator_host: mustPeer("PUBSUB_EMULATOR_HOST"),
    ...extra,
  });
  return pubsubPublisherFactory.create(cfg, testContext());
}

function suiteSetup(ordered: boolean) {
  return async () => {
    const t = await createTarget(ordered);
    return {
      publisher: publisherFor(t.topic, ordered ? { ordering_key: true } : {}),
      readBack: t.pull,
      cleanup: t.cleanup,
    };
  };
}

publisherSuite("pubsub", { ordered: false, ignore: gate.ignore, setup: suiteSetup(false) });
publisherSuite("pubsub with ordering keys", {
  ordered: true,
  ignore: gate.ignore,
  setup: suiteSetup(true),
});

Deno.test({
  name: "pubsub: attributes carry ids and headers; ordering key from the key or the default",
  ...gate,
  async fn() {
    const t = await createTarget(true);
    const p = publisherFor(t.topic, { ordering_key: "all" });
    const ac = new AbortController();
    try {
      const [a, b] = outgoing(2, "k");
      const noKey = { ...b, key: null, headers: { ...b.headers, "goog-x": "dropped" } };
      assert.deepEqual(await p.publish([a, noKey], ac.signal), [{ ok: true }, { ok: true }]);
      const got = await t.pull(2, 5_000);
      const byId = new Map(got.map((m) => [m.id, m]));
      assert.equal(byId.get(a.id)!.orderingKey, "k1");
      assert.equal(byId.get(noKey.id)!.orderingKey, "all");
      assert.equal(byId.get(a.id)!.headers["event_id"], a.eventId);
      assert.equal(byId.get(a.id)!.headers["content-type"], "application/json");
      assert.equal(byId.get(noKey.id)!.headers["goog-x"], undefined, "goog* names are reserved");
    } finally {
      await p.close();
      await t.cleanup();
    }
  },
});

Deno.test({
  name: "pubsub: emulator_host is used even when PUBSUB_EMULATOR_HOST points elsewhere",
  ...gate,
  async fn() {
    const t = await createTarget(false);
    const p = publisherFor(t.topic); // reads the real address before the variable changes
    const saved = Deno.env.get("PUBSUB_EMULATOR_HOST");
    Deno.env.set("PUBSUB_EMULATOR_HOST", "127.0.0.1:1");
    const ac = new AbortController();
    try {
      assert.deepEqual(await p.publish(outgoing(1, "e"), ac.signal), [{ ok: true }]);
      assert.equal((await t.pull(1, 5_000)).length, 1);
    } finally {
      if (saved === undefined) Deno.env.delete("PUBSUB_EMULATOR_HOST");
      else Deno.env.set("PUBSUB_EMULATOR_HOST", saved);
      await p.close();
      await t.cleanup();
    }
  },
});

Deno.test({
  name: "pubsub: a missing topic is a clear permanent error",
  ...gate,
  async fn() {
    const topic = `er-no-such-topic-${Date.now()}`;
    const p = publisherFor(topic);
    try {
      await assertMissingTarget(p, outgoing(3, "q"), /NOT_FOUND/, topic);
    } finally {
      await p.close();
    }
  },
});

Deno.test("pubsub: a closed port is a retriable error within seconds, and healthy() turns false", async () => {
  const port = closedPort();
  const p = pubsubPublisherFactory.create(
    parsePubsubConfig({
      project_id: "test-project",
      topic: "t-closed",
      emulator_host: `127.0.0.1:${port}`,
      ordering_key: true,
      timeout_ms: 3_000,
    }),
    testContext(),
  );
  await assertClosedPortRetriable(p, 5);
});

Deno.test("pubsub: emulator_host goes through the address guard", () =>
  assertGuardRefuses((host, port, ctx) =>
    pubsubPublisherFactory.create(
      parsePubsubConfig({
        project_id: "test-project",
        topic: "orders",
        emulator_host: `${host}:${port}`,
        timeout_ms: 2_000,
      }),
      ctx,
    )
  ));

Deno.test("pubsub: a tenant brings a service account key; other credential types are refused", () => {
  const base = { project_id: "test-project", topic: "orders" };
  assert.throws(() => tenantPubsubPublisherFactory.parseConfig(base), /credentials: required/);
  assert.ok(pubsubPublisherFactory.parseConfig(base), "admins may use the node's");
  assert.ok(tenantPubsubPublisherFactory.parseConfig({ ...base, emulator_host: "pubsub:8085" }));
  // external accounts make the auth library fetch URLs named in the JSON
  assert.throws(
    () =>
      parsePubsubConfig({
        ...base,
        credentials: {
          type: "external_account",
          client_email: "a@b",
          private_key: "k",
          credential_source: { url: "http://169.254.169.254/" },
        },
      }),
    /credentials: must be a service account key/,
  );
});

Deno.test("pubsub config: errors name the field", () => {
  assert.throws(() => parsePubsubConfig({ topic: "orders" }), /project_id/);
  assert.throws(
    () => parsePubsubConfig({ project_id: "acme-prod", topic: "1x" }),
    /topic: must be/,
  );
  assert.throws(
    () => parsePubsubConfig({ project_id: "acme-prod", topic: "orders", emulator_host: "x" }),
    /emulator_host: must be host:port/,
  );
  assert.throws(
    () => parsePubsubConfig({ project_id: "acme-prod", topic: "orders", credentials: "{nope" }),
    /credentials: must be service account JSON/,
  );
  const c = parsePubsubConfig({
    project_id: "acme-prod",
    topic: "projects/acme-prod/topics/orders",
    credentials: JSON.stringify({ client_email: "a@b", private_key: "k", type: "service_account" }),
  });
  assert.equal((c.credentials as { client_email: string }).client_email, "a@b");
  assert.equal(c.timeout_ms, 10_000);
});
