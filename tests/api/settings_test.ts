/** Settings the seed promises: broker defaults (sealed), the body limit, null resets; live. */
import assert from "node:assert/strict";
import { harness } from "../helpers/app.ts";
import { cheapAdmin, createRoute, expectError, expectJson, post } from "./_helpers.ts";

Deno.test("settings: broker defaults are validated, their passwords sealed and masked", async () => {
  const h = await harness();
  try {
    const admin = await cheapAdmin(h);
    const set = (b: unknown) => h.call("POST", "/api/settings", b, admin.token);
    const url = "amqp://router:mq-password-77@mq.example.com:5672/";
    const saved = await expectJson(
      set({
        broker_defaults: {
          rabbitmq: { url },
          kafka: { brokers: ["k1.example.com:9092", "k2.example.com:9092"] },
          redis: { url: "redis://cache.example.com:6379" },
        },
      }),
      200,
    );
    assert.match(saved.broker_defaults.rabbitmq.url, /^\*{4}[0-9a-f]{8}$/, "masked in answers");
    assert.deepEqual(saved.broker_defaults.kafka.brokers, [
      "k1.example.com:9092",
      "k2.example.com:9092",
    ]);
    const stored = (await h.store.getSettings()).broker_defaults as {
      rabbitmq: { url: string };
    };
    assert.match(stored.rabbitmq.url, /^sealed:v1:/, "sealed at rest");
    assert.equal(await h.deps.sealer.open(stored.rabbitmq.url), url);
    const shown = await expectJson(h.call("GET", "/api/settings", undefined, admin.token), 200);
    assert.ok(!JSON.stringify(shown).includes("mq-password-77"));
    // the form echoes the mask back: the stored secret stays
    await expectJson(set({ broker_defaults: shown.broker_defaults }), 200);
    const again = (await h.store.getSettings()).broker_defaults as typeof stored;
    assert.equal(again.rabbitmq.url, stored.rabbitmq.url);

    await expectError(
      set({ broker_defaults: { rabbitmq: { url: "http://mq.example.com" } } }),
      400,
      "broker_defaults.rabbitmq.url",
    );
    await expectError(
      set({ broker_defaults: { kafka: { brokers: ["no-port"] } } }),
      400,
      "broker_defaults.kafka.brokers.0",
    );
    await expectError(set({ broker_defaults: { nats: { url: "nats://x" } } }), 400, "nats");
    await expectError(set({ max_body_bytes: 0 }), 400, "max_body_bytes");

    // null puts a key back to its default
    await expectJson(set({ broker_defaults: null, retention_days: 2 }), 200);
    assert.deepEqual(await h.store.getSettings(), { retention_days: 2 });
  } finally {
    await h.close();
  }
});

Deno.test("settings: the default body limit applies at once, and null restores the node's", async () => {
  const h = await harness();
  try {
    const admin = await cheapAdmin(h);
    const route = await createRoute(h, admin.token);
    const body = "x".repeat(2000);
    assert.equal((await post(h, route.endpoint, body)).status, 202);
    await expectJson(h.call("POST", "/api/settings", { max_body_bytes: 1000 }, admin.token), 200);
    const big = await post(h, route.endpoint, body);
    assert.equal(big.status, 413);
    await big.body?.cancel();
    assert.equal((await post(h, route.endpoint, "x".repeat(900))).status, 202);
    await expectJson(h.call("POST", "/api/settings", { max_body_bytes: null }, admin.token), 200);
    assert.equal((await post(h, route.endpoint, body)).status, 202, "the node's limit again");
  } finally {
    await h.close();
  }
});
