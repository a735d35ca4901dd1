/**
 * The admin's broker defaults in settings, through the real node and the real RabbitMQ: a node
 * started without RABBITMQ_URL refuses a rabbitmq destination without `url`, accepts it once
 * settings name the broker, and delivers its events there (read back with amqplib); a rabbitmq
 * trigger without `url` the same way consumes from the settings' broker, and follows a change
 * of the default (to a broker that is not there and back) without being changed itself.
 */
import assert from "node:assert/strict";
import { connect } from "amqplib";
import { apiClient, bootstrapAdmin, startRouter } from "../helpers/router_process.ts";
import { mustPeer, needs } from "../helpers/peers.ts";
import { rabbitmqTarget } from "../helpers/consumer_targets.ts";
import { produced, waitFor } from "../conformance/consumer_suite.ts";

Deno.test({
  name: "broker defaults: a rabbitmq destination without url delivers to the settings' broker",
  ...needs("RABBITMQ_URL"),
  async fn() {
    const amqpUrl = mustPeer("RABBITMQ_URL");
    const queue = `er-defaults-${crypto.randomUUID().slice(0, 8)}`;
    const router = await startRouter({ env: { RABBITMQ_URL: "" } });
    const conn = await connect(amqpUrl);
    try {
      const token = await bootstrapAdmin(router.url);
      const api = apiClient(router.url, token);
      const ch = await conn.createChannel();
      await ch.assertQueue(queue, { durable: false, autoDelete: false });
      const dest = { name: "mq", type: "rabbitmq", config: { queue } };
      await assert.rejects(api("POST", "/api/destinations", dest), /400.*url/);

      await api("POST", "/api/settings", { broker_defaults: { rabbitmq: { url: amqpUrl } } });
      const created = await api("POST", "/api/destinations", dest);
      assert.equal((created.config as Record<string, unknown>).url, undefined, "no url stored");
      const route = await api<{ endpoint: string }>("POST", "/api/routes", {
        name: "to-mq",
        destinations: [{ destination_id: created.id }],
      });
      const r = await fetch(`${router.url}${route.endpoint}`, { method: "POST", body: '{"n":7}' });
      assert.equal(r.status, 202);
      await r.body?.cancel();

      let got: string | null = null;
      const deadline = Date.now() + 20_000;
      while (got === null && Date.now() < deadline) {
        const msg = await ch.get(queue, { noAck: true }).catch(() => false as const);
        if (msg) got = new TextDecoder().decode(msg.content);
        else await new Promise((res) => setTimeout(res, 200));
      }
      assert.equal(got, '{"n":7}', "delivered through the broker named in settings");
      await ch.deleteQueue(queue).catch(() => {});
      await ch.close();
    } finally {
      await conn.close().catch(() => {});
      await router.kill();
    }
  },
});

Deno.test({
  name: "broker defaults: a rabbitmq trigger without url consumes from the settings' broker",
  ...needs("RABBITMQ_URL"),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const amqpUrl = mustPeer("RABBITMQ_URL");
    const t = await rabbitmqTarget(amqpUrl);
    const router = await startRouter({ env: { RABBITMQ_URL: "", LEASE_MS: "1000" } });
    try {
      const api = apiClient(router.url, await bootstrapAdmin(router.url));
      const route = await api("POST", "/api/routes", { name: "from-mq" });
      const queue = t.config.queue as string;
      const trigger = { name: "mq-in", type: "rabbitmq", route_id: route.id, config: { queue } };
      await assert.rejects(api("POST", "/api/triggers", trigger), /400.*url/);

      await api("POST", "/api/settings", { broker_defaults: { rabbitmq: { url: amqpUrl } } });
      const created = await api("POST", "/api/triggers", trigger);
      assert.equal((created.config as Record<string, unknown>).url, undefined, "no url stored");
      const status = () =>
        api<{ status: { state: string } }>("GET", `/api/triggers/${created.id}`)
          .then((x) => x.status.state);
      const events = async () =>
        (await api<{ total: number }>("GET", `/api/events?route_id=${route.id}&limit=1`)).total;
      await waitFor(() => "the trigger connected", async () => (await status()) === "connected");
      await t.produce(produced(5, "defaults"));
      await waitFor(() => "5 events from the settings' broker", async () => (await events()) >= 5);

      // The default moves to a broker that is not there: the running trigger follows it...
      await api("POST", "/api/settings", {
        broker_defaults: { rabbitmq: { url: "amqp://127.0.0.1:1/" } },
      });
      await waitFor(
        () => "the trigger to leave the broker",
        async () => ["reconnecting", "error"].includes(await status()),
      );
      await t.produce(produced(5, "defaults", 5));
      await new Promise((r) => setTimeout(r, 1_000));
      assert.equal(await events(), 5, "nothing consumed from the old broker");
      // ...and back: the messages that waited arrive.
      await api("POST", "/api/settings", { broker_defaults: { rabbitmq: { url: amqpUrl } } });
      await waitFor(() => "10 events", async () => (await events()) >= 10);
      assert.equal(await events(), 10);
    } finally {
      await router.kill();
      await t.cleanup();
    }
  },
});
