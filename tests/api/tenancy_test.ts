/**
 * Tenant isolation, one test per resource: tenant B cannot get, list, update, delete or replay
 * tenant A's entity (another tenant's id answers 404, lists leave it out, stats do not count
 * it), while an admin sees every tenant.
 */
import assert from "node:assert/strict";
import { harness } from "../helpers/app.ts";
import {
  ADMIN_SCOPE,
  cheapAdmin,
  createDestination,
  createRoute,
  expectError,
  expectJson,
  seedEvent,
} from "./_helpers.ts";

async function twoTenants() {
  const h = await harness();
  const admin = await cheapAdmin(h);
  const a = await h.tenant("tenant-a");
  const b = await h.tenant("tenant-b");
  const destA = await createDestination(h, a.token, { name: "a-dest" });
  const destB = await createDestination(h, b.token, { name: "b-dest" });
  const routeA = await createRoute(h, a.token, {
    name: "a-route",
    destinations: [{ destination_id: destA.id }],
  });
  const routeB = await createRoute(h, b.token, {
    name: "b-route",
    destinations: [{ destination_id: destB.id }],
  });
  return { h, admin, a, b, destA, destB, routeA, routeB };
}

const ids = (page: { items: Array<{ id: string }> }) => page.items.map((x) => x.id).sort();

Deno.test("tenancy: destinations", async () => {
  const { h, admin, a, b, destA, destB } = await twoTenants();
  try {
    const path = `/api/destinations/${destA.id}`;
    await expectError(h.call("GET", path, undefined, b.token), 404, destA.id, "not_found");
    await expectError(
      h.call("PUT", path, { name: "stolen", type: "log", config: {} }, b.token),
      404,
    );
    await expectError(h.call("DELETE", path, undefined, b.token), 404);
    const listB = await expectJson(h.call("GET", "/api/destinations", undefined, b.token), 200);
    assert.deepEqual(ids(listB), [destB.id]);
    assert.equal(listB.total, 1);
    // B cannot point a route at A's destination either
    await expectError(
      h.call("POST", "/api/routes", {
        name: "sneaky",
        destinations: [{ destination_id: destA.id }],
      }, b.token),
      400,
      "destinations.0.destination_id",
    );
    await expectError(
      h.call("POST", "/api/routes", {
        name: "sneaky",
        destinations: [{ destination_id: destB.id, fallback_destination_id: destA.id }],
      }, b.token),
      400,
      "destinations.0.fallback_destination_id",
    );

    // A's destination is untouched
    assert.deepEqual(await expectJson(h.call("GET", path, undefined, a.token), 200), destA);
    assert.deepEqual(
      ids(await expectJson(h.call("GET", "/api/destinations", undefined, a.token), 200)),
      [
        destA.id,
      ],
    );
    // the admin sees both
    assert.equal((await expectJson(h.call("GET", path, undefined, admin.token), 200)).owner, a.id);
    const all = await expectJson(h.call("GET", "/api/destinations", undefined, admin.token), 200);
    assert.deepEqual(ids(all), [destA.id, destB.id].sort());
    assert.equal(all.total, 2);
  } finally {
    await h.close();
  }
});

Deno.test("tenancy: routes", async () => {
  const { h, admin, a, b, routeA, routeB } = await twoTenants();
  try {
    const path = `/api/routes/${routeA.id}`;
    await expectError(h.call("GET", path, undefined, b.token), 404, routeA.id, "not_found");
    await expectError(h.call("PUT", path, { name: "stolen", active: false }, b.token), 404);
    await expectError(h.call("DELETE", path, undefined, b.token), 404);
    await expectError(h.call("POST", `${path}/test`, { body: { x: 1 } }, b.token), 404);
    const listB = await expectJson(h.call("GET", "/api/routes", undefined, b.token), 200);
    assert.deepEqual(ids(listB), [routeB.id]);
    assert.equal(listB.total, 1);

    assert.deepEqual(await expectJson(h.call("GET", path, undefined, a.token), 200), routeA);
    // still live: B's failed update did not deactivate it
    const hook = await h.app.request(routeA.endpoint, { method: "POST", body: "{}" });
    assert.equal(hook.status, 202);
    await hook.body?.cancel();

    assert.equal((await expectJson(h.call("GET", path, undefined, admin.token), 200)).owner, a.id);
    const all = await expectJson(h.call("GET", "/api/routes", undefined, admin.token), 200);
    assert.deepEqual(ids(all), [routeA.id, routeB.id].sort());
  } finally {
    await h.close();
  }
});

Deno.test("tenancy: events", async () => {
  const { h, admin, a, b, destA, destB, routeA, routeB } = await twoTenants();
  try {
    const evA = await seedEvent(h, a.id, routeA.id, [{
      destinationId: destA.id,
      final: "delivered",
    }]);
    const evB = await seedEvent(h, b.id, routeB.id, [{
      destinationId: destB.id,
      final: "delivered",
    }]);
    const path = `/api/events/${evA.eventId}`;
    await expectError(h.call("GET", path, undefined, b.token), 404, evA.eventId, "not_found");
    await expectError(h.call("POST", `${path}/replay`, undefined, b.token), 404);
    assert.equal(
      (await h.store.getEvent(ADMIN_SCOPE, evA.eventId))?.status,
      "processed",
      "not replayed",
    );
    const listB = await expectJson(h.call("GET", "/api/events", undefined, b.token), 200);
    assert.deepEqual(ids(listB), [evB.eventId]);
    assert.equal(listB.total, 1);
    const filtered = await expectJson(
      h.call("GET", `/api/events?route_id=${routeA.id}`, undefined, b.token),
      200,
    );
    assert.deepEqual(filtered.items, []);
    assert.equal(filtered.total, 0);
    // B cannot dry-run its own route on A's event either
    await expectError(
      h.call("POST", `/api/routes/${routeB.id}/test`, { event_id: evA.eventId }, b.token),
      404,
    );

    const mine = await expectJson(h.call("GET", path, undefined, a.token), 200);
    assert.equal(mine.deliveries.length, 1);
    const adminView = await expectJson(h.call("GET", path, undefined, admin.token), 200);
    assert.equal(adminView.id, evA.eventId);
    const all = await expectJson(h.call("GET", "/api/events", undefined, admin.token), 200);
    assert.deepEqual(ids(all), [evA.eventId, evB.eventId].sort());
    await expectJson(h.call("POST", `${path}/replay`, undefined, admin.token), 202);
    assert.equal((await h.store.getEvent(ADMIN_SCOPE, evA.eventId))?.status, "accepted");
  } finally {
    await h.close();
  }
});

Deno.test("tenancy: dead letters", async () => {
  const { h, admin, a, b, destA, destB, routeA, routeB } = await twoTenants();
  try {
    const evA = await seedEvent(h, a.id, routeA.id, [
      { destinationId: destA.id, final: "dead", error: "a failed" },
    ]);
    const evB = await seedEvent(h, b.id, routeB.id, [
      { destinationId: destB.id, final: "dead", error: "b failed" },
    ]);
    const deadA = evA.deliveryIds[0];
    const deadB = evB.deliveryIds[0];

    const listB = await expectJson(h.call("GET", "/api/dlq/messages", undefined, b.token), 200);
    assert.deepEqual(ids(listB), [deadB]);
    assert.equal(listB.total, 1);
    const byDest = await expectJson(
      h.call("GET", `/api/dlq/messages?destination_id=${destA.id}`, undefined, b.token),
      200,
    );
    assert.deepEqual(byDest.items, []);
    const statsB = await expectJson(h.call("GET", "/api/dlq/stats", undefined, b.token), 200);
    assert.equal(statsB.total, 1);
    assert.deepEqual(statsB.by_destination, [{ destination_id: destB.id, count: 1 }]);
    assert.deepEqual(statsB.by_error, [{ error: "b failed", count: 1 }]);

    await expectError(h.call("POST", `/api/dlq/retry/${deadA}`, undefined, b.token), 404);
    assert.deepEqual(
      await expectJson(h.call("POST", "/api/dlq/retry", { ids: [deadA] }, b.token), 200),
      { retried: 0 },
    );
    assert.deepEqual(
      await expectJson(
        h.call("POST", "/api/dlq/retry", { destination_id: destA.id }, b.token),
        200,
      ),
      { retried: 0 },
    );
    assert.deepEqual(
      await expectJson(h.call("POST", "/api/dlq/discard", { ids: [deadA] }, b.token), 200),
      { discarded: 0 },
    );
    assert.deepEqual(
      await expectJson(h.call("POST", "/api/dlq/discard", { error: "failed" }, b.token), 200),
      { discarded: 1 },
      "a bulk discard by B takes only B's own",
    );
    const stillDead = (await h.store.eventDeliveries(evA.eventId))[0];
    assert.equal(stillDead.status, "dead");
    assert.equal(stillDead.attempts, 1);

    const listA = await expectJson(h.call("GET", "/api/dlq/messages", undefined, a.token), 200);
    assert.deepEqual(ids(listA), [deadA]);
    const all = await expectJson(h.call("GET", "/api/dlq/messages", undefined, admin.token), 200);
    assert.deepEqual(ids(all), [deadA]);
    assert.equal(
      (await expectJson(h.call("GET", "/api/dlq/stats", undefined, admin.token), 200)).total,
      1,
    );
    assert.deepEqual(
      await expectJson(h.call("POST", `/api/dlq/retry/${deadA}`, undefined, admin.token), 202),
      { retried: 1 },
    );
  } finally {
    await h.close();
  }
});

Deno.test("tenancy: stats", async () => {
  const { h, admin, a, b, destA, destB, routeA, routeB } = await twoTenants();
  try {
    await seedEvent(h, a.id, routeA.id, [{ destinationId: destA.id, final: "delivered" }]);
    await seedEvent(h, a.id, routeA.id, [{ destinationId: destA.id, final: "dead" }]);
    await seedEvent(h, a.id, routeA.id, [{ destinationId: destA.id, final: "pending" }]);
    await seedEvent(h, b.id, routeB.id, [{ destinationId: destB.id, final: "retry" }]);

    const sa = await expectJson(h.call("GET", "/api/stats", undefined, a.token), 200);
    const sb = await expectJson(h.call("GET", "/api/stats", undefined, b.token), 200);
    const sx = await expectJson(h.call("GET", "/api/stats", undefined, admin.token), 200);
    const pick = (
      s: Record<string, number>,
    ) => [s.received, s.delivered, s.pending, s.retrying, s.dead];
    assert.deepEqual(pick(sa), [3, 1, 1, 0, 1]);
    assert.deepEqual(pick(sb), [1, 0, 1, 1, 0]);
    assert.deepEqual(pick(sx), [4, 1, 2, 1, 1]);
    assert.deepEqual(sb.per_route, [{ route_id: routeB.id, received: 1 }]);
    assert.deepEqual(
      sb.per_destination.map((
        d: { destination_id: string; delivered: number; pending: number; dead: number },
      ) => [d.destination_id, d.delivered, d.pending, d.dead]),
      [[destB.id, 0, 1, 0]],
    );
    assert.deepEqual(sa.per_route, [{ route_id: routeA.id, received: 3 }]);
    assert.equal(JSON.stringify(sb).includes(destA.id), false);
    assert.equal(JSON.stringify(sb).includes(routeA.id), false);
    assert.equal(sx.per_route.length, 2);
    assert.equal(sx.per_destination.length, 2);
  } finally {
    await h.close();
  }
});
