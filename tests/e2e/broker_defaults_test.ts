/**
 * The admin's broker defaults in settings, through the real node and the real RabbitMQ: a node
 * started without RABBITMQ_URL refuses a rabbitmq destination without `url`, accepts it once
 * settings name the broker, and delivers its events there (read back with amqplib).
 */
import assert from "node:assert/strict";
import { connect } from "amqplib";
import { apiClient, bootstrapAdmin, startRouter } from "../helpers/router_process.ts";
import { mustPeer, needs } from "../helpers/peers.ts";

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
