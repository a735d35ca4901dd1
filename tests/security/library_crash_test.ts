/**
 * Found by the schemathesis run (tools/api_fuzz.sh): an admin's Pub/Sub trigger or destination
 * without credentials, on a node that has no Google credentials of its own, ended the whole
 * process: the generated gRPC clients start every call with `initialize().catch(e => {throw
 * e})`, an unhandled rejection. Now the credentials are got where a failure is an ordinary
 * error (the trigger reports it and retries, the delivery fails), and the node keeps serving.
 */
import assert from "node:assert/strict";
import { apiClient, bootstrapAdmin, startRouter } from "../helpers/router_process.ts";

Deno.test({
  name: "a Pub/Sub trigger and destination without credentials do not end the node",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const router = await startRouter({
      // no Google credentials of the node's own; the metadata server is not reachable here
      env: { GOOGLE_APPLICATION_CREDENTIALS: "/nonexistent/key.json", LOG_LEVEL: "info" },
    });
    try {
      const api = apiClient(router.url, await bootstrapAdmin(router.url));
      const dest = await api<{ id: string }>("POST", "/api/destinations", {
        name: "ps",
        type: "pubsub",
        config: { project_id: "acme-prod", topic: "orders" },
        retry: { max_attempts: 1, schedule_seconds: [0] },
      });
      const route = await api<{ id: string; endpoint: string }>("POST", "/api/routes", {
        name: "to-ps",
        destinations: [{ destination_id: dest.id }],
      });
      const trigger = await api<{ id: string }>("POST", "/api/triggers", {
        name: "from-ps",
        type: "pubsub",
        route_id: route.id,
        config: { project_id: "acme-prod", subscription: "orders-sub" },
      });
      const sent = await fetch(`${router.url}${route.endpoint}`, { method: "POST", body: "{}" });
      assert.equal(sent.status, 202);
      const { id } = await sent.json();

      // The delivery fails with the credentials error; the trigger says the same.
      const deadline = Date.now() + 30_000;
      let delivery: { status: string; attempts_log?: { error: string | null }[] } | undefined;
      let status: { last_error?: string | null } = {};
      for (;;) {
        const ev = await api<{ deliveries: typeof delivery[] }>("GET", `/api/events/${id}`);
        delivery = ev.deliveries[0];
        status = await api("GET", `/api/triggers/${trigger.id}`);
        if (delivery?.status === "dead" && status.last_error) break;
        if (Date.now() > deadline) {
          assert.fail(`no outcome: ${JSON.stringify({ delivery, status })}\n${router.logs()}`);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.match(status.last_error ?? "", /credentials|key\.json/i, JSON.stringify(status));
      const r = await fetch(`${router.url}/health`);
      await r.body?.cancel();
      assert.equal(r.status, 200, "still serving");
      assert.ok(!router.logs().includes("unhandled promise rejection"), router.logs());
    } finally {
      const status = await router.kill("SIGTERM");
      assert.notEqual(status.code, 1, `the node exited on its own:\n${router.logs().slice(-3000)}`);
    }
  },
});
