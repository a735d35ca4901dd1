/**
 * Events, replay, dead letters and stats through the API, over events and deliveries seeded
 * through the Store port (accept -> completeEvents -> claimDue -> settle).
 */
import assert from "node:assert/strict";
import { harness } from "../helpers/app.ts";
import type { Harness } from "../helpers/app.ts";
import {
  ADMIN_SCOPE,
  createDestination,
  createRoute,
  envelope,
  expectError,
  expectJson,
  seedEvent,
} from "./_helpers.ts";

async function world(h: Harness) {
  const { token, id: tenant } = await h.tenant("events-owner");
  const d1 = (await createDestination(h, token, { name: "d1" })).id as string;
  const d2 = (await createDestination(h, token, { name: "d2" })).id as string;
  const route = (await createRoute(h, token, {
    destinations: [{ destination_id: d1 }, { destination_id: d2 }],
  })).id as string;
  const other = (await createRoute(h, token, { name: "other" })).id as string;
  const e1 = await seedEvent(h, tenant, route, [
    { destinationId: d1, final: "delivered" },
    { destinationId: d2, final: "dead", error: "400 bad request" },
  ]);
  const e2 = await seedEvent(h, tenant, route, [
    { destinationId: d1, final: "retry", error: "503 unavailable" },
    { destinationId: d2, final: "pending" },
  ]);
  const e3 = await seedEvent(h, tenant, other, [
    { destinationId: d1, final: "dead", error: "publish timed out after 30000 ms" },
  ]);
  return { token, tenant, d1, d2, route, other, e1, e2, e3 };
}

Deno.test("stats: real counts of seeded events and deliveries, with time windows", async () => {
  const h = await harness();
  try {
    const w = await world(h);
    const now = Date.now();
    // two older events: one inside the last 24 h, one older than that
    await h.store.accept([
      envelope(w.tenant, w.other, { receivedAt: now - 2 * 3600_000 }),
      envelope(w.tenant, w.other, { receivedAt: now - 48 * 3600_000 }),
    ]);
    const s = await expectJson(h.call("GET", "/api/stats", undefined, w.token), 200);
    assert.equal(s.received, 5);
    assert.equal(s.delivered, 1);
    assert.equal(s.dead, 2);
    assert.equal(s.pending, 2, "the retrying delivery and the one not yet due");
    assert.equal(s.retrying, 1);
    assert.deepEqual(s.last_hour, { received: 3, delivered: 1, dead: 2 });
    assert.deepEqual(s.last_24h, { received: 4, delivered: 1, dead: 2 });
    const perRoute = Object.fromEntries(
      s.per_route.map((r: { route_id: string; received: number }) => [r.route_id, r.received]),
    );
    assert.deepEqual(perRoute, { [w.route]: 2, [w.other]: 3 });
    const perDest = Object.fromEntries(
      s.per_destination.map((
        r: { destination_id: string; delivered: number; pending: number; dead: number },
      ) => [r.destination_id, [r.delivered, r.pending, r.dead]]),
    );
    assert.deepEqual(perDest, { [w.d1]: [1, 1, 1], [w.d2]: [0, 1, 1] });

    // the counts follow the store: deliver the pending one of d2 and look again
    const claimed = await h.store.claimDue(now + 2 * 3600_000, 10, "test", 60_000);
    assert.equal(claimed.length, 2);
    await h.store.settle(
      claimed.map((d) => ({ id: d.id, outcome: "delivered" as const, at: Date.now() })),
      "test",
    );
    const s2 = await expectJson(h.call("GET", "/api/stats", undefined, w.token), 200);
    assert.equal(s2.delivered, 3);
    assert.equal(s2.pending, 0);
    assert.equal(s2.retrying, 0);
    assert.equal(s2.dead, 2);
  } finally {
    await h.close();
  }
});

Deno.test("events: list, filter, page, get with deliveries and attempts, replay", async () => {
  let woken = 0;
  const h = await harness({ wake: () => void woken++ });
  try {
    const w = await world(h);
    const list = await expectJson(h.call("GET", "/api/events", undefined, w.token), 200);
    assert.equal(list.total, 3);
    assert.deepEqual(
      list.items.map((e: { id: string }) => e.id).sort(),
      [w.e1.eventId, w.e2.eventId, w.e3.eventId].sort(),
    );
    const first = list.items.find((e: { id: string }) => e.id === w.e1.eventId);
    assert.equal(first.route_id, w.route);
    assert.equal(first.status, "processed");
    assert.equal(first.body, '{"hello":"world"}');
    assert.equal(first.body_encoding, "utf8");
    assert.equal(first.method, "POST");
    assert.equal(first.source_ip, "127.0.0.1");
    assert.deepEqual(first.headers, { "content-type": "application/json" });
    assert.ok(!Number.isNaN(Date.parse(first.received_at)));

    const byRoute = await expectJson(
      h.call("GET", `/api/events?route_id=${w.other}`, undefined, w.token),
      200,
    );
    assert.deepEqual(byRoute.items.map((e: { id: string }) => e.id), [w.e3.eventId]);
    assert.equal(byRoute.total, 1);
    const accepted = await expectJson(
      h.call("GET", "/api/events?status=accepted", undefined, w.token),
      200,
    );
    assert.equal(accepted.total, 0);
    await expectError(h.call("GET", "/api/events?status=bogus", undefined, w.token), 400, "status");
    const page = await expectJson(
      h.call("GET", "/api/events?limit=2&offset=2", undefined, w.token),
      200,
    );
    assert.equal(page.items.length, 1);
    assert.equal(page.total, 3);

    const got = await expectJson(
      h.call("GET", `/api/events/${w.e1.eventId}`, undefined, w.token),
      200,
    );
    assert.equal(got.id, w.e1.eventId);
    assert.equal(got.deliveries.length, 2);
    const byDest = Object.fromEntries(
      got.deliveries.map((d: { destination_id: string }) => [d.destination_id, d]),
    );
    assert.equal(byDest[w.d1].status, "delivered");
    assert.equal(byDest[w.d1].attempts, 1);
    assert.equal(byDest[w.d1].event_id, w.e1.eventId);
    assert.equal(byDest[w.d1].body, '{"hello":"world"}');
    assert.deepEqual(
      byDest[w.d1].attempt_log.map((a: { n: number; outcome: string }) => [a.n, a.outcome]),
      [
        [1, "delivered"],
      ],
    );
    assert.equal(byDest[w.d2].status, "dead");
    assert.equal(byDest[w.d2].last_error, "400 bad request");
    assert.equal(byDest[w.d2].attempt_log[0].error, "400 bad request");
    const e2 = await expectJson(
      h.call("GET", `/api/events/${w.e2.eventId}`, undefined, w.token),
      200,
    );
    const retrying = e2.deliveries.find((d: { destination_id: string }) =>
      d.destination_id === w.d1
    );
    assert.equal(retrying.status, "pending");
    assert.ok(Date.parse(retrying.next_attempt_at) > Date.now() + 3000_000);
    await expectError(h.call("GET", "/api/events/evt_nope", undefined, w.token), 404, "evt_nope");

    assert.deepEqual(
      await expectJson(
        h.call("POST", `/api/events/${w.e1.eventId}/replay`, undefined, w.token),
        202,
      ),
      { id: w.e1.eventId, replayed: true },
    );
    assert.ok(woken >= 1, "replay wakes the processor");
    const replayed = await h.store.getEvent(ADMIN_SCOPE, w.e1.eventId);
    assert.equal(replayed?.status, "accepted");
    const claimed = await h.store.claimEvents(Date.now(), 10, "p", 1000);
    assert.deepEqual(claimed.map((e) => e.id), [w.e1.eventId], "the processor sees it again");
    await expectError(h.call("POST", "/api/events/evt_nope/replay", undefined, w.token), 404);
  } finally {
    await h.close();
  }
});

Deno.test("dead letters: list, filter, stats, retry one, retry in bulk, discard", async () => {
  const h = await harness();
  try {
    const w = await world(h);
    const deadA = w.e1.deliveryIds[1]; // d2, "400 bad request"
    const deadB = w.e3.deliveryIds[0]; // d1, timeout
    const list = await expectJson(h.call("GET", "/api/dlq/messages", undefined, w.token), 200);
    assert.equal(list.total, 2);
    assert.deepEqual(list.items.map((d: { id: string }) => d.id).sort(), [deadA, deadB].sort());
    assert.ok(list.items.every((d: { status: string }) => d.status === "dead"));

    const q = async (qs: string) =>
      (await expectJson(h.call("GET", `/api/dlq/messages?${qs}`, undefined, w.token), 200))
        .items.map((d: { id: string }) => d.id);
    assert.deepEqual(await q(`destination_id=${w.d1}`), [deadB]);
    assert.deepEqual(await q(`route_id=${w.route}`), [deadA]);
    assert.deepEqual(await q("error=timed%20out"), [deadB]);
    assert.deepEqual(await q("error=nothing-like-this"), []);
    assert.deepEqual(await q("limit=1&offset=1").then((x: string[]) => x.length), 1);

    const stats = await expectJson(h.call("GET", "/api/dlq/stats", undefined, w.token), 200);
    assert.equal(stats.total, 2);
    assert.deepEqual(
      stats.by_destination.map((
        r: { destination_id: string; count: number },
      ) => [r.destination_id, r.count]).sort(),
      [[w.d1, 1], [w.d2, 1]].sort(),
    );
    assert.deepEqual(
      stats.by_error.map((r: { error: string; count: number }) => [r.error, r.count]).sort(),
      [["400 bad request", 1], ["publish timed out after 30000 ms", 1]],
    );

    // retry one
    assert.deepEqual(
      await expectJson(h.call("POST", `/api/dlq/retry/${deadA}`, undefined, w.token), 202),
      { retried: 1 },
    );
    const again = (await h.store.eventDeliveries(w.e1.eventId)).find((d) => d.id === deadA)!;
    assert.equal(again.status, "pending");
    assert.equal(again.attempts, 0, "a retried dead letter starts its attempts afresh");
    assert.ok(again.nextAt <= Date.now());
    await expectError(h.call("POST", `/api/dlq/retry/${deadA}`, undefined, w.token), 404);
    await expectError(h.call("POST", "/api/dlq/retry/dlv_nope", undefined, w.token), 404);
    assert.deepEqual(await q(""), [deadB]);

    // it dies again, then a bulk retry by destination takes only the matching one
    const claimed = await h.store.claimDue(Date.now(), 10, "t", 60_000);
    assert.deepEqual(claimed.map((d) => d.id), [deadA]);
    await h.store.settle([{ id: deadA, outcome: "dead", at: Date.now(), error: "410 gone" }], "t");
    assert.deepEqual((await q("")).sort(), [deadA, deadB].sort());
    const log = (await h.store.eventDeliveries(w.e1.eventId)).find((d) => d.id === deadA)!
      .attemptLog.map((a) => [a.outcome, a.error]);
    assert.deepEqual(
      log,
      [["dead", "400 bad request"], ["dead", "410 gone"]],
      "both rounds logged",
    );
    assert.deepEqual(
      await expectJson(h.call("POST", "/api/dlq/retry", { destination_id: w.d1 }, w.token), 200),
      { retried: 1 },
    );
    assert.deepEqual(await q(""), [deadA]);
    assert.deepEqual(
      await expectJson(h.call("POST", "/api/dlq/retry", { error: "no-such-error" }, w.token), 200),
      { retried: 0 },
    );

    // discard
    assert.deepEqual(
      await expectJson(h.call("POST", "/api/dlq/discard", { ids: [deadA] }, w.token), 200),
      { discarded: 1 },
    );
    assert.deepEqual(await q(""), []);
    const gone = (await h.store.eventDeliveries(w.e1.eventId)).find((d) => d.id === deadA)!;
    assert.equal(gone.status, "discarded");
    assert.equal(
      (await expectJson(h.call("GET", "/api/dlq/stats", undefined, w.token), 200)).total,
      0,
    );
    await expectError(h.call("POST", "/api/dlq/discard", { ids: "x" }, w.token), 400, "ids");
  } finally {
    await h.close();
  }
});

Deno.test("events by time (since/until), dead letters by their whole error (error_is)", async () => {
  const h = await harness();
  try {
    const w = await world(h);
    const now = Date.now();
    const old = envelope(w.tenant, w.other, { receivedAt: now - 3 * 3600_000 });
    await h.store.accept([old]);
    const iso = (ms: number) => new Date(ms).toISOString();
    const ids = (p: { items: Array<{ id: string }> }) => p.items.map((e) => e.id);
    const recent = await expectJson(
      h.call("GET", `/api/events?since=${iso(now - 3600_000)}`, undefined, w.token),
      200,
    );
    assert.equal(recent.total, 3);
    assert.ok(!ids(recent).includes(old.id));
    const early = await expectJson(
      h.call("GET", `/api/events?until=${now - 3600_000}`, undefined, w.token),
      200,
    );
    assert.deepEqual(ids(early), [old.id], "epoch ms works too");
    // a browser's datetime-local value (no seconds, no offset) is read as UTC
    const local = iso(now - 4 * 3600_000).slice(0, 16);
    const fromLocal = await expectJson(
      h.call("GET", `/api/events?since=${local}&until=${iso(now - 3600_000)}`, undefined, w.token),
      200,
    );
    assert.deepEqual(ids(fromLocal), [old.id]);
    await expectError(
      h.call("GET", "/api/events?since=yesterday", undefined, w.token),
      400,
      "since",
    );

    // "publish timed out after 30000 ms" contains "timed out", but error_is takes whole texts
    const byText = await expectJson(
      h.call(
        "GET",
        `/api/dlq/messages?error_is=${encodeURIComponent("400 bad request")}`,
        undefined,
        w.token,
      ),
      200,
    );
    assert.equal(byText.total, 1);
    assert.equal(byText.items[0].last_error, "400 bad request");
    assert.deepEqual(
      await expectJson(h.call("POST", "/api/dlq/retry", { error_is: "timed out" }, w.token), 200),
      { retried: 0 },
    );
    assert.deepEqual(
      await expectJson(
        h.call(
          "POST",
          "/api/dlq/discard",
          { error_is: "publish timed out after 30000 ms" },
          w.token,
        ),
        200,
      ),
      { discarded: 1 },
    );
    await expectError(h.call("POST", "/api/dlq/retry", { eror: "x" }, w.token), 400, "eror");
  } finally {
    await h.close();
  }
});
