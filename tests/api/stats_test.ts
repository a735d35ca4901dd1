/**
 * GET /api/stats per destination (last success, last error, circuit) and
 * GET /api/stats/timeseries, over deliveries seeded through the Store port.
 */
import assert from "node:assert/strict";
import { harness } from "../helpers/app.ts";
import {
  createDestination,
  createRoute,
  envelope,
  expectError,
  expectJson,
  seedEvent,
} from "./_helpers.ts";

Deno.test("stats: each destination's last delivery, last error and circuit state", async () => {
  const h = await harness({ circuitState: (id) => id.endsWith("x") ? "open" : "closed" });
  try {
    const { token, id: tenant } = await h.tenant("stats-owner");
    const good = (await createDestination(h, token, { name: "good" })).id as string;
    const bad = (await createDestination(h, token, { name: "bad" })).id as string;
    const route = (await createRoute(h, token, {
      destinations: [{ destination_id: good }, { destination_id: bad }],
    })).id as string;
    await seedEvent(h, tenant, route, [
      { destinationId: good, final: "delivered" },
      { destinationId: bad, final: "dead", error: "400 bad request" },
    ]);
    await seedEvent(h, tenant, route, [{ destinationId: bad, final: "retry", error: "503 busy" }]);
    const s = await expectJson(h.call("GET", "/api/stats", undefined, token), 200);
    const by = Object.fromEntries(
      s.per_destination.map((d: { destination_id: string }) => [d.destination_id, d]),
    );
    assert.equal(by[good].delivered, 1);
    assert.equal(by[good].last_error, null);
    assert.ok(Date.parse(by[good].last_delivered_at) > Date.now() - 60_000);
    assert.equal(by[good].circuit, "closed");
    assert.equal(by[bad].dead, 1);
    assert.equal(by[bad].retrying, 1);
    assert.equal(by[bad].last_delivered_at, null);
    assert.ok(["400 bad request", "503 busy"].includes(by[bad].last_error), by[bad].last_error);
    assert.ok(!Number.isNaN(Date.parse(by[bad].last_error_at)));

    const other = await h.tenant("stats-stranger");
    const s2 = await expectJson(h.call("GET", "/api/stats", undefined, other.token), 200);
    assert.deepEqual(s2.per_destination, [], "another tenant sees none of it");
  } finally {
    await h.close();
  }
});

Deno.test("stats/timeseries: a point per minute with the received, delivered and dead", async () => {
  const now = Date.UTC(2030, 0, 1, 12, 0, 30); // half a minute into 12:00
  const h = await harness({ clock: { now: () => now } });
  try {
    const { token, id: tenant } = await h.tenant("series-owner");
    const d = (await createDestination(h, token, { name: "d" })).id as string;
    const route = (await createRoute(h, token, { destinations: [{ destination_id: d }] }))
      .id as string;
    await h.store.accept([
      envelope(tenant, route, { receivedAt: now - 1000 }),
      envelope(tenant, route, { receivedAt: now - 2000 }),
      envelope(tenant, route, { receivedAt: now - 10 * 60_000 }),
      envelope(tenant, route, { receivedAt: now - 2 * 3600_000 }), // outside the hour
    ]);
    const r = await expectJson(h.call("GET", "/api/stats/timeseries", undefined, token), 200);
    assert.equal(r.bucket_seconds, 60);
    assert.equal(r.points.length, 60);
    assert.equal(r.until, "2030-01-01T12:01:00.000Z", "ends at the next minute boundary");
    assert.equal(r.since, "2030-01-01T11:01:00.000Z");
    const last = r.points.at(-1);
    assert.deepEqual(last, { t: "2030-01-01T12:00:00.000Z", received: 2, delivered: 0, dead: 0 });
    const tenAgo = r.points.find((p: { t: string }) => p.t === "2030-01-01T11:50:00.000Z");
    assert.equal(tenAgo.received, 1);
    assert.equal(
      r.points.reduce((a: number, p: { received: number }) => a + p.received, 0),
      3,
      "the event two hours ago is outside the window",
    );

    const wide = await expectJson(
      h.call("GET", "/api/stats/timeseries?minutes=180&bucket_seconds=3600", undefined, token),
      200,
    );
    assert.equal(wide.points.length, 3);
    assert.deepEqual(wide.points.map((p: { received: number }) => p.received), [1, 1, 2]);

    await expectError(
      h.call("GET", "/api/stats/timeseries?minutes=10080&bucket_seconds=10", undefined, token),
      400,
      "bucket_seconds",
    );
    await expectError(
      h.call("GET", "/api/stats/timeseries?bucket_seconds=1", undefined, token),
      400,
      "bucket_seconds",
    );
    const stranger = await h.tenant("series-stranger");
    const none = await expectJson(
      h.call("GET", "/api/stats/timeseries", undefined, stranger.token),
      200,
    );
    assert.equal(none.points.reduce((a: number, p: { received: number }) => a + p.received, 0), 0);
  } finally {
    await h.close();
  }
});
