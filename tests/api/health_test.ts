/** GET /health through app.request: the summary, the admin's verbose form, the 200/503 rule. */
import assert from "node:assert/strict";
import { harness } from "../helpers/app.ts";
import { createCircuitBreakers } from "../../core/delivery/circuit_breaker.ts";
import { storeCoordinator } from "../../adapters/coordination/store.ts";
import { openStore } from "../../adapters/store/sqlite/store.ts";
import { cheapAdmin, createDestination, createRoute, expectError, expectJson } from "./_helpers.ts";

Deno.test("health: public summary; verbose details for admins only", async () => {
  const breakers = createCircuitBreakers({ threshold: 2 });
  const store = openStore({ path: ":memory:" });
  const h = await harness({
    store,
    coordinator: storeCoordinator(store),
    openCircuits: (now) => breakers.notClosed(now),
    circuitState: (id) => breakers.state(id, Date.now()),
  });
  try {
    const ok = await expectJson(h.call("GET", "/health"), 200);
    assert.deepEqual(ok, {
      status: "ok",
      version: "test",
      checks: { store: "ok", coordinator: "ok", destinations: "ok", triggers: "ok" },
    });

    const admin = await cheapAdmin(h);
    const tenant = await h.tenant("health-tenant");
    await expectError(h.call("GET", "/health?verbose=true"), 401);
    await expectError(h.call("GET", "/health?verbose=true", undefined, tenant.token), 403);

    const dest = await createDestination(h, admin.token, { name: "crm" });
    const unused = await createDestination(h, admin.token, { name: "unused" });
    await createRoute(h, admin.token, { name: "in", destinations: [{ destination_id: dest.id }] });

    // two failed publishes open the breaker (threshold 2 here)
    breakers.failure(dest.id, Date.now());
    breakers.failure(dest.id, Date.now());
    const degraded = await expectJson(h.call("GET", "/health"), 200);
    assert.equal(degraded.status, "degraded");
    assert.equal(degraded.checks.destinations, "degraded");
    assert.equal(degraded.destinations, undefined, "no names or errors without a token");

    const v = await expectJson(h.call("GET", "/health?verbose=true", undefined, admin.token), 200);
    assert.equal(v.store.status, "ok");
    assert.equal(v.store.kind, h.store.kind);
    assert.equal(typeof v.store.latency_ms, "number");
    assert.equal(v.coordinator.kind, "store");
    assert.deepEqual(
      v.destinations.map((d: { name: string; circuit: string; status: string }) => [
        d.name,
        d.circuit,
        d.status,
      ]),
      [["crm", "open", "degraded"]],
      "the destination in use, with its open circuit; the unused one is not listed",
    );
    assert.ok(!v.destinations.some((d: { id: string }) => d.id === unused.id));
    assert.deepEqual(v.triggers, []);

    breakers.success(dest.id);
    assert.equal((await expectJson(h.call("GET", "/health"), 200)).status, "ok");
  } finally {
    await h.close();
  }
});

Deno.test("health: 503 naming the store when it does not answer", async () => {
  const h = await harness();
  const admin = await cheapAdmin(h);
  await h.close(); // closes the store: every query now fails for real
  const r = await expectJson(h.call("GET", "/health"), 503);
  assert.deepEqual(r, {
    status: "unavailable",
    version: "test",
    checks: { store: "unavailable", destinations: "ok", triggers: "ok" },
  });
  // an admin's token cannot be checked without the store: the summary, still 503
  const v = await expectJson(h.call("GET", "/health?verbose=true", undefined, admin.token), 503);
  assert.equal(v.checks.store, "unavailable");
});
