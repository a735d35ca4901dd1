/**
 * The Store port's contract, run by every implementation:
 *
 * ```ts
 * storeSuite("node:sqlite", () => Promise.resolve(openStore({ path: tempFile() })));
 * ```
 *
 * `open` returns a fresh, empty store each time (migrate is called by the suite). Time is
 * passed explicitly wherever the port takes `now`, so nothing here waits on the clock.
 */
import assert from "node:assert/strict";
import type { Delivery, Envelope, NewDelivery, Settlement } from "../../core/ports.ts";
import type { Store } from "../../core/store.ts";
import type { Destination } from "../../core/model/destination.ts";
import type { Route } from "../../core/model/route.ts";
import type { Trigger } from "../../core/model/trigger.ts";
import type { Scope, User } from "../../core/model/user.ts";
import { newId } from "../../core/model/ids.ts";

const T0 = 1_700_000_000_000; // a fixed "now" for everything time-based
const PAGE = { limit: 50, offset: 0 };
const enc = new TextEncoder();

export function storeSuite(name: string, open: () => Promise<Store>) {
  const test = (title: string, fn: (s: Store) => Promise<void>) =>
    Deno.test(`store ${name}: ${title}`, async () => {
      const s = await open();
      try {
        await s.migrate();
        await fn(s);
      } finally {
        await s.close();
      }
    });

  test("migrate is idempotent and keeps data", async (s) => {
    await s.migrate();
    await s.ping();
    const u = user("keeper");
    await s.createUser(u);
    await s.migrate();
    assert.deepEqual(await s.getUser(u.id), u);
    assert.equal(await s.countUsers(), 1);
  });

  test("users: create, get, list, update, count, delete; revoked tokens", async (s) => {
    const a = user("alice", "admin");
    const b = user("bob");
    const c = user("carol", "user", 1);
    for (const u of [a, b, c]) await s.createUser(u);
    assert.deepEqual(await s.getUser(a.id), a);
    assert.deepEqual(await s.getUserByName("bob"), b);
    assert.equal(await s.getUser("user_nope"), null);
    assert.equal(await s.getUserByName("nobody"), null);
    await assert.rejects(s.createUser({ ...user("bob"), id: newId("user") }), "username is unique");

    const all = await s.listUsers(PAGE);
    assert.equal(all.total, 3);
    assert.deepEqual(all.items.map((u) => u.username).sort(), ["alice", "bob", "carol"]);
    const page = await s.listUsers({ limit: 2, offset: 2 });
    assert.equal(page.items.length, 1);
    assert.equal(page.total, 3);
    assert.equal(page.limit, 2);
    assert.equal(page.offset, 2);

    assert.equal(await s.countUsers(), 3);
    assert.equal(await s.countUsers("admin"), 1);
    assert.equal(await s.countUsers("user"), 2);

    await s.updateUser(b.id, { passwordHash: "new-hash", mustChangePassword: true, role: "admin" });
    const b2 = await s.getUser(b.id);
    assert.equal(b2?.passwordHash, "new-hash");
    assert.equal(b2?.mustChangePassword, true);
    assert.equal(b2?.role, "admin");
    assert.equal(b2?.username, "bob");
    assert.ok(b2!.updatedAt >= b.updatedAt);
    assert.equal(await s.countUsers("admin"), 2);

    assert.equal(await s.deleteUser(c.id), true);
    assert.equal(await s.deleteUser(c.id), false);
    assert.equal(await s.getUser(c.id), null);
    assert.equal(await s.countUsers(), 2);

    assert.equal(await s.isRevoked("jti-1"), false);
    await s.revokeToken("jti-1", T0 + 1000);
    await s.revokeToken("jti-1", T0 + 1000); // twice is fine
    assert.equal(await s.isRevoked("jti-1"), true);
    assert.equal(await s.isRevoked("jti-2"), false);
  });

  test("destinations: CRUD scoped by owner; admins and internal reads see all", async (s) => {
    const [ua, ub] = [user("owner-a"), user("owner-b")];
    await s.createUser(ua);
    await s.createUser(ub);
    const A = scope(ua), B = scope(ub), ADMIN: Scope = { userId: "user_root", role: "admin" };
    const da = destination(ua.id, "a1", {
      config: { url: "https://a.example/x", nested: { list: [1, "two", null], ok: true } },
      retry: { max_attempts: 3, schedule_seconds: [1, 2, 3] },
    });
    const da2 = destination(ua.id, "a2", { createdAt: T0 + 1, active: false });
    const db = destination(ub.id, "b1", { createdAt: T0 + 2 });
    for (const d of [da, da2, db]) await s.createDestination(d);

    assert.deepEqual(await s.getDestination(A, da.id), da);
    assert.equal(await s.getDestination(B, da.id), null, "another tenant's id reads as null");
    assert.deepEqual(await s.getDestination(ADMIN, da.id), da);
    assert.deepEqual(await s.getDestination(null, db.id), db);
    assert.equal(await s.getDestination(null, "dest_nope"), null);
    assert.equal((await s.getDestination(A, da2.id))?.active, false);
    assert.equal((await s.getDestination(A, da2.id))?.retry, undefined);

    const la = await s.listDestinations(A, PAGE);
    assert.deepEqual(la.items.map((d) => d.id), [da.id, da2.id], "oldest first");
    assert.equal(la.total, 2);
    assert.deepEqual((await s.listDestinations(B, PAGE)).items, [db]);
    const all = await s.listDestinations(ADMIN, PAGE);
    assert.deepEqual(all.items.map((d) => d.id), [da.id, da2.id, db.id]);
    assert.equal(all.total, 3);
    const p = await s.listDestinations(ADMIN, { limit: 1, offset: 1 });
    assert.deepEqual(p.items.map((d) => d.id), [da2.id]);
    assert.equal(p.total, 3);
    assert.deepEqual(
      (await s.allDestinations()).map((d) => d.id).sort(),
      [da.id, da2.id, db.id].sort(),
    );

    const changed = {
      ...da,
      name: "renamed",
      config: { url: "https://b" },
      active: false,
      updatedAt: T0 + 9,
    };
    assert.equal(await s.updateDestination(B, changed), false, "B cannot update A's");
    assert.deepEqual(await s.getDestination(A, da.id), da);
    assert.equal(await s.updateDestination(A, changed), true);
    assert.deepEqual(await s.getDestination(A, da.id), { ...changed, retry: da.retry });
    assert.equal(await s.updateDestination(ADMIN, { ...changed, name: "by-admin" }), true);
    assert.equal((await s.getDestination(null, da.id))?.name, "by-admin");

    assert.equal(await s.deleteDestination(B, da.id), false, "B cannot delete A's");
    assert.ok(await s.getDestination(null, da.id));
    assert.equal(await s.deleteDestination(A, da.id), true);
    assert.equal(await s.deleteDestination(A, da.id), false);
    assert.equal(await s.getDestination(null, da.id), null);
    assert.equal(await s.deleteDestination(ADMIN, db.id), true);
    assert.equal((await s.listDestinations(ADMIN, PAGE)).total, 1);
  });

  test("routes: CRUD scoped by owner, lookup by endpoint, unique endpoints", async (s) => {
    const [ua, ub] = [user("route-a"), user("route-b")];
    await s.createUser(ua);
    await s.createUser(ub);
    const A = scope(ua), B = scope(ub), ADMIN: Scope = { userId: "user_root", role: "admin" };
    const ra = route(ua.id, "ra", {
      spec: {
        destinations: [{ destination_id: "dest_x", weight: 2 }],
        signature_config: { preset: "github", secret: "sealed:v1:abc" },
        filters: { "body.a": { eq: 1 } },
      },
    });
    const rb = route(ub.id, "rb", { createdAt: T0 + 1, method: "ANY", active: false });
    await s.createRoute(ra);
    await s.createRoute(rb);
    await assert.rejects(
      s.createRoute({ ...route(ua.id, "dup"), endpoint: ra.endpoint }),
      "endpoints are unique",
    );

    assert.deepEqual(await s.getRoute(A, ra.id), ra);
    assert.equal(await s.getRoute(B, ra.id), null);
    assert.deepEqual(await s.getRoute(ADMIN, ra.id), ra);
    assert.deepEqual(await s.getRoute(null, rb.id), rb);
    assert.deepEqual(await s.getRouteByEndpoint(ra.endpoint), ra);
    assert.equal(await s.getRouteByEndpoint("/webhook/wh_nope"), null);

    assert.deepEqual((await s.listRoutes(A, PAGE)).items, [ra]);
    assert.deepEqual((await s.listRoutes(B, PAGE)).items, [rb]);
    const all = await s.listRoutes(ADMIN, { limit: 1, offset: 0 });
    assert.deepEqual(all.items.map((r) => r.id), [ra.id]);
    assert.equal(all.total, 2);
    assert.equal((await s.allRoutes()).length, 2);

    const next = {
      ...ra,
      name: "ra2",
      method: "PUT" as const,
      spec: { destinations: [] },
      version: 2,
      active: false,
      updatedAt: T0 + 5,
    };
    assert.equal(await s.updateRoute(B, next), false);
    assert.deepEqual(await s.getRoute(null, ra.id), ra);
    assert.equal(await s.updateRoute(A, next), true);
    assert.deepEqual(await s.getRoute(null, ra.id), next);
    assert.deepEqual(await s.getRouteByEndpoint(ra.endpoint), next, "the endpoint stays");

    assert.equal(await s.deleteRoute(B, ra.id), false);
    assert.equal(await s.deleteRoute(A, ra.id), true);
    assert.equal(await s.getRouteByEndpoint(ra.endpoint), null);
    assert.equal(await s.deleteRoute(A, ra.id), false);
  });

  test("accept: dedup on route + key keeps the first id; other routes and null keys accepted", async (s) => {
    const e1 = envelope("user_t", "route_1", { dedupKey: "k1" });
    const e2 = envelope("user_t", "route_1", { dedupKey: "k1" });
    const e3 = envelope("user_t", "route_2", { dedupKey: "k1" });
    const e4 = envelope("user_t", "route_1", { dedupKey: null });
    const e5 = envelope("user_t", "route_1", { dedupKey: null });
    const e6 = envelope("user_t", "route_1", { dedupKey: "k2" });
    const r = await s.accept([e1, e2, e3, e4, e5, e6]);
    assert.deepEqual(
      [...r.duplicates],
      [[e2.id, e1.id]],
      "one commit: the later one is the duplicate",
    );
    const r2 = await s.accept([envelope("user_t", "route_1", { dedupKey: "k1", id: "evt_later" })]);
    assert.deepEqual([...r2.duplicates], [["evt_later", e1.id]], "across commits");
    const r3 = await s.accept([]);
    assert.equal(r3.duplicates.size, 0);

    for (const e of [e1, e3, e4, e5, e6]) {
      const got = await s.getEvent(ADMIN, e.id);
      assert.equal(got?.id, e.id);
      assert.equal(got?.status, "accepted");
    }
    assert.equal(await s.getEvent(ADMIN, e2.id), null);
    assert.equal(await s.getEvent(ADMIN, "evt_later"), null);
    assert.equal((await s.listEvents(ADMIN, {}, PAGE)).total, 5);
    assert.equal((await s.getEvent(ADMIN, e1.id))?.dedupKey, "k1");
  });

  test("accept: an event id stored before is a duplicate, and its planned deliveries stay out", async (s) => {
    const e = envelope("user_t", "route_1");
    const planned = (x: Envelope) => ({
      ...x,
      planned: { status: "processed" as const, deliveries: [newDelivery(x, "dest_1")] },
    });
    const first = planned(e);
    assert.equal((await s.accept([first])).duplicates.size, 0);
    // the same id again (an edge forwarding once more), alone and twice in one commit
    const again = await s.accept([planned(e)]);
    assert.deepEqual([...again.duplicates], [[e.id, e.id]]);
    const other = envelope("user_t", "route_1");
    const twice = await s.accept([planned(other), planned(other)]);
    assert.equal(twice.duplicates.size, 1);
    assert.deepEqual((await s.eventDeliveries(e.id)).map((d) => d.id), [
      first.planned.deliveries[0].id,
    ]);
    assert.equal((await s.eventDeliveries(other.id)).length, 1);
    assert.equal((await s.getEvent(ADMIN, e.id))?.status, "processed");
  });

  test("accept with a lease: the named deliveries are the holder's until it ends, once", async (s) => {
    const e = envelope("user_t", "route_1");
    const handed = newDelivery(e, "dest_1", { nextAt: T0 });
    const left = newDelivery(e, "dest_2", { nextAt: T0 });
    const lease = { owner: "node-a", until: T0 + 1000, deliveryIds: [handed.id] };
    await s.accept([{ ...e, planned: { status: "processed", deliveries: [handed, left] } }], {
      lease,
    });
    // the handed one is leased (one attempt counted); the other is due for anyone
    const b = await s.claimDue(T0 + 10, 10, "node-b", 1000);
    assert.deepEqual(b.map((d) => d.id), [left.id]);
    const mine = await deliveryOf(s, e.id, handed.id);
    assert.equal(mine.attempts, 1);
    assert.equal(mine.status, "pending");
    // the holder settles it without a claim; a stale settle by another owner does nothing
    await s.settle([{ id: handed.id, outcome: "delivered", at: T0 + 20 }], "node-b");
    assert.equal((await deliveryOf(s, e.id, handed.id)).status, "pending");
    await s.settle([{ id: handed.id, outcome: "retry", at: T0 + 30, nextAt: T0 + 40 }], "node-a");
    assert.deepEqual(
      (await s.claimDue(T0 + 50, 10, "node-b", 1000)).map((d) => [d.id, d.attempts]),
      [
        [handed.id, 2],
      ],
    );
    // a lease nobody settles runs out like a claim's; a re-accept (journal replay) adds nothing
    const e2 = envelope("user_t", "route_1");
    const d2 = newDelivery(e2, "dest_1", { nextAt: T0 });
    const planned2 = { ...e2, planned: { status: "processed" as const, deliveries: [d2] } };
    await s.accept([planned2], {
      lease: { owner: "node-a", until: T0 + 1000, deliveryIds: [d2.id] },
    });
    assert.deepEqual(await s.claimDue(T0 + 999, 10, "node-c", 1000), []);
    assert.deepEqual((await s.accept([planned2])).duplicates.get(e2.id), e2.id);
    assert.deepEqual(
      (await s.claimDue(T0 + 1001, 10, "node-c", 1000)).map((d) => [d.id, d.attempts]),
      [
        [d2.id, 2],
      ],
    );
  });

  test("events: stored as accepted, read back whole, listed and filtered by scope", async (s) => {
    const a = envelope("user_a", "route_1", {
      receivedAt: T0,
      headers: { "content-type": "text/plain; charset=utf-8", "x-ünï": "cödé ✓" },
      query: "a=1&b=%20",
      ip: "2001:db8::1",
      method: "PUT",
      path: "/webhook/wh_abc",
      source: "webhook",
    });
    const b = envelope("user_a", "route_2", { receivedAt: T0 + 1 });
    const c = envelope("user_b", "route_3", {
      receivedAt: T0 + 2,
      source: "trigger:x",
      routeId: null,
    });
    await s.accept([a, b, c]);
    const got = await s.getEvent(scopeOf("user_a"), a.id);
    assert.deepEqual(got, {
      ...a,
      attempts: 0,
      status: "accepted",
      error: null,
      processedAt: null,
    });
    assert.equal(await s.getEvent(scopeOf("user_b"), a.id), null);
    const la = await s.listEvents(scopeOf("user_a"), {}, PAGE);
    assert.deepEqual(la.items.map((e) => e.id), [b.id, a.id], "newest first");
    assert.equal(la.total, 2);
    assert.deepEqual(
      (await s.listEvents(scopeOf("user_a"), { routeId: "route_1" }, PAGE)).items.map((e) => e.id),
      [a.id],
    );
    assert.deepEqual((await s.listEvents(ADMIN, { since: T0 + 1 }, PAGE)).items.map((e) => e.id), [
      c.id,
      b.id,
    ]);
    assert.equal((await s.listEvents(ADMIN, { status: "processed" }, PAGE)).total, 0);
    const p = await s.listEvents(ADMIN, {}, { limit: 1, offset: 1 });
    assert.deepEqual(p.items.map((e) => e.id), [b.id]);
    assert.equal(p.total, 3);
    assert.equal((await s.getEvent(ADMIN, c.id))?.routeId, null);
  });

  test("claimEvents: leases keep a second owner out until they expire", async (s) => {
    const es = [0, 1, 2].map((i) => envelope("user_t", "route_1", { receivedAt: T0 + i }));
    const future = envelope("user_t", "route_1", { receivedAt: T0 + 60_000 });
    await s.accept([...es, future]);
    const now = T0 + 10;
    const a = await s.claimEvents(now, 2, "node-a", 1000);
    assert.deepEqual(a.map((e) => e.id), [es[0].id, es[1].id], "oldest first, up to the limit");
    const b = await s.claimEvents(now, 10, "node-b", 1000);
    assert.deepEqual(b.map((e) => e.id), [es[2].id], "leased ones and future ones are skipped");
    assert.deepEqual(await s.claimEvents(now + 999, 10, "node-c", 1000), []);
    const again = await s.claimEvents(now + 1001, 10, "node-c", 100_000);
    assert.deepEqual(again.map((e) => e.id).sort(), es.map((e) => e.id).sort(), "after expiry");
    assert.deepEqual(again.find((e) => e.id === es[0].id), { ...es[0], attempts: 0 });
    const late = await s.claimEvents(T0 + 60_000, 10, "node-d", 1000);
    assert.deepEqual(late.map((e) => e.id), [future.id], "due once its time has come");
  });

  test("completeEvents: inserts deliveries, sets status; retryAt puts the event back later", async (s) => {
    const [e1, e2, e3] = [0, 1, 2].map((i) =>
      envelope("user_t", "route_1", { receivedAt: T0 + i })
    );
    await s.accept([e1, e2, e3]);
    assert.equal((await s.claimEvents(T0 + 5, 10, "p", 30_000)).length, 3);
    const d1 = newDelivery(e1, "dest_1", {
      nextAt: T0 + 5,
      key: "k-1",
      headers: { "x-event-id": e1.id },
    });
    const d2 = newDelivery(e1, "dest_2", { nextAt: T0 + 5, fallbackDestinationId: "dest_3" });
    await s.completeEvents([
      { id: e1.id, status: "processed", deliveries: [d1, d2] },
      { id: e2.id, status: "dropped", error: "filtered out", deliveries: [] },
      {
        id: e3.id,
        status: "failed",
        error: "pipeline: boom",
        retryAt: T0 + 10_000,
        deliveries: [],
      },
    ]);
    const g1 = await s.getEvent(ADMIN, e1.id);
    assert.equal(g1?.status, "processed");
    assert.equal(g1?.error, null);
    assert.equal(typeof g1?.processedAt, "number");
    const g2 = await s.getEvent(ADMIN, e2.id);
    assert.equal(g2?.status, "dropped");
    assert.equal(g2?.error, "filtered out");
    const g3 = await s.getEvent(ADMIN, e3.id);
    assert.equal(g3?.status, "accepted", "a retry keeps the event accepted");
    assert.equal(g3?.error, "pipeline: boom");
    assert.equal(g3?.attempts, 1, "each completion counts a pipeline attempt");
    assert.equal(g1?.attempts, 1);

    const ds = await s.eventDeliveries(e1.id);
    assert.equal(ds.length, 2);
    const byDest = Object.fromEntries(ds.map((d) => [d.destinationId, d]));
    assertDelivery(byDest.dest_1, d1);
    assert.equal(byDest.dest_1.status, "pending");
    assert.equal(byDest.dest_1.attempts, 0);
    assert.equal(byDest.dest_1.lastError, null);
    assert.deepEqual(byDest.dest_1.attemptLog, []);
    assert.equal(byDest.dest_2.fallbackDestinationId, "dest_3");

    // processed events are not claimed again; the retrying one is, at its time (lease cleared)
    assert.deepEqual(await s.claimEvents(T0 + 9_999, 10, "q", 30_000), []);
    assert.deepEqual((await s.claimEvents(T0 + 10_000, 10, "q", 30_000)).map((e) => e.id), [e3.id]);
    await s.completeEvents([]);
  });

  test("claimDue with exclusions: the oldest due of the other destinations, also past 256", async (s) => {
    const e = envelope("user_t", "route_1");
    await s.accept([e]);
    const at = (dest: string, dt: number) => newDelivery(e, dest, { nextAt: T0 + dt });
    const dead = [1, 2, 3, 4, 5].map((dt) => at("dest_x", dt)); // older than everything else
    const [a10, b20, a30, b40, a50] = [
      at("dest_a", 10),
      at("dest_b", 20),
      at("dest_a", 30),
      at("dest_b", 40),
      at("dest_a", 50),
    ];
    const c60 = at("dest_c", 60);
    await s.completeEvents([{
      id: e.id,
      status: "processed",
      deliveries: [...dead, a10, b20, a30, b40, a50, c60, at("dest_b", 90_000)],
    }]);
    const ids = (ds: { id: string }[]) => ds.map((d) => d.id).sort();
    assert.deepEqual(
      ids(await s.claimDue(T0 + 100, 3, "n1", 60_000, ["dest_x"])),
      ids([a10, b20, a30]),
    );
    assert.deepEqual(
      ids(await s.claimDue(T0 + 100, 10, "n1", 60_000, ["dest_x", "dest_q"])),
      ids([b40, a50, c60]),
      "leased ones are skipped, the later one is not due",
    );
    assert.deepEqual(await s.claimDue(T0 + 100, 10, "n1", 60_000, ["dest_x"]), []);

    // Many destinations with due work (the SQLite store changes how it picks past 256).
    const e2 = envelope("user_t", "route_1");
    await s.accept([e2]);
    const many = Array.from(
      { length: 230 },
      (_, i) => newDelivery(e2, `dest_m${String(i).padStart(3, "0")}`, { nextAt: T0 + 1_000 + i }),
    );
    await s.completeEvents([{ id: e2.id, status: "processed", deliveries: many }]);
    const got = await s.claimDue(T0 + 5_000, 7, "n2", 60_000, ["dest_x", "dest_m000"]);
    assert.deepEqual(ids(got), ids(many.slice(1, 8)), "the 7 oldest, dest_m000 left out");
    const rest = await s.claimDue(T0 + 5_000, 1000, "n2", 60_000, ["dest_m001"]);
    assert.deepEqual(ids(rest), ids([many[0], ...many.slice(8), ...dead]));
  });

  test("claimDue: leases, due time, limit, excluded destinations; attempts counted", async (s) => {
    const e = envelope("user_t", "route_1");
    await s.accept([e]);
    const d1 = newDelivery(e, "dest_1", { nextAt: T0 });
    const d2 = newDelivery(e, "dest_2", { nextAt: T0 + 1 });
    const d3 = newDelivery(e, "dest_3", { nextAt: T0 + 2 });
    const later = newDelivery(e, "dest_2", { nextAt: T0 + 50_000 });
    await s.completeEvents([{ id: e.id, status: "processed", deliveries: [d1, d2, d3, later] }]);

    const a = await s.claimDue(T0 + 10, 10, "node-a", 1000, ["dest_1"]);
    assert.deepEqual(a.map((d) => d.id).sort(), [d2.id, d3.id].sort(), "dest_1 excluded");
    for (const d of a) {
      assert.equal(d.attempts, 1);
      assert.equal(d.status, "pending");
    }
    assertDelivery(a.find((d) => d.id === d2.id)!, d2);
    assert.deepEqual(await s.claimDue(T0 + 10, 10, "node-b", 1000, ["dest_1"]), []);
    const one = await s.claimDue(T0 + 10, 1, "node-b", 100_000);
    assert.deepEqual(one.map((d) => d.id), [d1.id]);
    assert.deepEqual(
      await s.claimDue(T0 + 10, 10, "node-b", 1000),
      [],
      "all leased, later not due",
    );
    const expired = await s.claimDue(T0 + 1011, 10, "node-b", 100_000);
    assert.deepEqual(expired.map((d) => d.id).sort(), [d2.id, d3.id].sort());
    assert.ok(expired.every((d) => d.attempts === 2), "each claim is an attempt");
    assert.deepEqual(
      (await s.claimDue(T0 + 50_000, 10, "node-c", 1000, ["dest_9"])).map((d) => d.id),
      [later.id],
    );
  });

  test("queueDepth: pending and due deliveries, the oldest due, unprocessed events", async (s) => {
    assert.deepEqual(await s.queueDepth(T0), {
      pendingDeliveries: 0,
      dueDeliveries: 0,
      oldestDueAt: null,
      unprocessedEvents: 0,
      oldestUnprocessedAt: null,
    });
    const done = envelope("user_t", "route_1", { receivedAt: T0 - 500 });
    const waiting = envelope("user_t", "route_1", { receivedAt: T0 - 300 });
    await s.accept([done, waiting, envelope("user_t", "route_1", { receivedAt: T0 - 100 })]);
    const d1 = newDelivery(done, "dest_1", { nextAt: T0 - 200 });
    const d2 = newDelivery(done, "dest_2", { nextAt: T0 - 50 });
    const d3 = newDelivery(done, "dest_3", { nextAt: T0 + 60_000 });
    await s.claimEvents(T0, 1, "p", 30_000);
    await s.completeEvents([{ id: done.id, status: "processed", deliveries: [d1, d2, d3] }]);
    assert.deepEqual(await s.queueDepth(T0), {
      pendingDeliveries: 3,
      dueDeliveries: 2,
      oldestDueAt: T0 - 200,
      unprocessedEvents: 2,
      oldestUnprocessedAt: T0 - 300,
    });
    // a delivered one leaves the queue; nothing due when only future work remains
    const claimed = await s.claimDue(T0, 10, "d", 30_000);
    await s.settle(claimed.map((d) => ({ id: d.id, outcome: "delivered", at: T0 })), "d");
    const after = await s.queueDepth(T0);
    assert.equal(after.pendingDeliveries, 1);
    assert.equal(after.dueDeliveries, 0);
    assert.equal(after.oldestDueAt, null);
  });

  test("settle: delivered, retry at a time, dead; only the lease owner; attempts logged", async (s) => {
    const e = envelope("user_t", "route_1");
    await s.accept([e]);
    const d = newDelivery(e, "dest_1", { nextAt: T0 });
    const x = newDelivery(e, "dest_2", { nextAt: T0 });
    await s.completeEvents([{ id: e.id, status: "processed", deliveries: [d, x] }]);

    // retry: back to pending at the given time, with the error
    assert.equal((await s.claimDue(T0, 10, "a", 1000)).length, 2);
    await s.settle([
      { id: d.id, outcome: "retry", at: T0 + 5, nextAt: T0 + 5000, error: "503", durationMs: 12 },
      { id: x.id, outcome: "delivered", at: T0 + 6, durationMs: 3 },
    ], "a");
    let got = await deliveryOf(s, e.id, d.id);
    assert.equal(got.status, "pending");
    assert.equal(got.nextAt, T0 + 5000);
    assert.equal(got.lastError, "503");
    assert.equal(got.updatedAt, T0 + 5);
    assert.deepEqual(await s.claimDue(T0 + 4999, 10, "a", 1000), []);
    const delivered = await deliveryOf(s, e.id, x.id);
    assert.equal(delivered.status, "delivered");
    assert.deepEqual(
      delivered.attemptLog.map((l) => [l.n, l.outcome, l.error, l.durationMs, l.at]),
      [
        [1, "delivered", null, 3, T0 + 6],
      ],
    );

    // a lease that ran out: the new owner's outcome wins, the old owner's settle is ignored
    assert.deepEqual((await s.claimDue(T0 + 5000, 10, "a", 1000)).map((c) => c.id), [d.id]);
    const b = await s.claimDue(T0 + 6001, 10, "b", 1000);
    assert.deepEqual(b.map((c) => [c.id, c.attempts]), [[d.id, 3]]);
    await s.settle([{ id: d.id, outcome: "delivered", at: T0 + 6002 }], "a");
    got = await deliveryOf(s, e.id, d.id);
    assert.equal(got.status, "pending", "the stale owner changed nothing");
    assert.equal(got.lastError, "503");
    await s.settle([{ id: d.id, outcome: "dead", at: T0 + 6003, error: "410 gone" }], "b");
    got = await deliveryOf(s, e.id, d.id);
    assert.equal(got.status, "dead");
    assert.equal(got.lastError, "410 gone");
    assert.equal(got.attempts, 3);
    assert.deepEqual(got.attemptLog.map((l) => [l.outcome, l.error, l.at]), [
      ["retry", "503", T0 + 5],
      ["dead", "410 gone", T0 + 6003],
    ], "the stale owner's settle logged no attempt");
    assert.deepEqual(got.attemptLog.map((l) => l.n), [1, 2]);
    // settled ones are not claimed, and a second settle by the same owner is ignored
    assert.deepEqual(await s.claimDue(T0 + 99_000, 10, "c", 1000), []);
    await s.settle([{ id: d.id, outcome: "delivered", at: T0 + 7000 }], "b");
    assert.equal((await deliveryOf(s, e.id, d.id)).status, "dead");
    await s.settle([], "b");
  });

  test("insertDeliveries adds pending work (fallbacks)", async (s) => {
    const e = envelope("user_t", "route_1");
    await s.accept([e]);
    const f = newDelivery(e, "dest_fb", { nextAt: T0 });
    await s.insertDeliveries([f]);
    await s.insertDeliveries([]);
    const claimed = await s.claimDue(T0, 10, "a", 1000);
    assert.deepEqual(claimed.map((d) => d.id), [f.id]);
    assertDelivery(claimed[0], f);
  });

  test("dead letters: list, filter, page, stats, retry and discard, by scope", async (s) => {
    const ea = envelope("user_a", "route_a");
    const eb = envelope("user_b", "route_b");
    await s.accept([ea, eb]);
    const a1 = newDelivery(ea, "dest_1", { nextAt: T0 });
    const a2 = newDelivery(ea, "dest_2", { nextAt: T0 });
    const a3 = newDelivery(ea, "dest_2", { nextAt: T0 });
    const ok = newDelivery(ea, "dest_1", { nextAt: T0 });
    const b1 = newDelivery(eb, "dest_9", { nextAt: T0 });
    await s.completeEvents([
      { id: ea.id, status: "processed", deliveries: [a1, a2, a3, ok] },
      { id: eb.id, status: "processed", deliveries: [b1] },
    ]);
    assert.equal((await s.claimDue(T0, 10, "n", 1000)).length, 5);
    await s.settle([
      { id: a1.id, outcome: "dead", at: T0 + 1, error: "400 bad request" },
      { id: a2.id, outcome: "dead", at: T0 + 2, error: "timeout after 30 s" },
      { id: a3.id, outcome: "dead", at: T0 + 3, error: "timeout after 30 s" },
      { id: ok.id, outcome: "delivered", at: T0 + 4 },
      { id: b1.id, outcome: "dead", at: T0 + 5, error: "400 bad request" },
    ], "n");
    const A = scopeOf("user_a"), B = scopeOf("user_b");
    const ids = (p: { items: Delivery[] }) => p.items.map((d) => d.id).sort();

    const la = await s.listDead(A, {}, PAGE);
    assert.deepEqual(ids(la), [a1.id, a2.id, a3.id].sort());
    assert.equal(la.total, 3);
    assert.ok(la.items.every((d) => d.status === "dead"));
    assert.deepEqual(ids(await s.listDead(B, {}, PAGE)), [b1.id]);
    assert.deepEqual(ids(await s.listDead(ADMIN, {}, PAGE)), [a1.id, a2.id, a3.id, b1.id].sort());
    assert.deepEqual(
      ids(await s.listDead(A, { destinationId: "dest_2" }, PAGE)),
      [a2.id, a3.id].sort(),
    );
    assert.deepEqual(ids(await s.listDead(A, { error: "timeout" }, PAGE)), [a2.id, a3.id].sort());
    assert.deepEqual(
      ids(await s.listDead(A, { error: "%" }, PAGE)),
      [],
      "error is a plain substring",
    );
    assert.deepEqual(ids(await s.listDead(A, { routeId: "route_b" }, PAGE)), []);
    assert.deepEqual(ids(await s.listDead(A, { ids: [a1.id, b1.id] }, PAGE)), [a1.id]);
    assert.deepEqual(
      ids(await s.listDead(A, { errorIs: "timeout after 30 s" }, PAGE)),
      [a2.id, a3.id].sort(),
    );
    assert.deepEqual(ids(await s.listDead(A, { errorIs: "timeout" }, PAGE)), [], "exact text");
    assert.deepEqual(ids(await s.listDead(A, { errorIs: "" }, PAGE)), [], "no error-less ones");
    const pg = await s.listDead(A, {}, { limit: 2, offset: 2 });
    assert.equal(pg.items.length, 1);
    assert.equal(pg.total, 3);

    const st = await s.deadStats(A);
    assert.equal(st.total, 3);
    assert.deepEqual(st.by_destination, [
      { destination_id: "dest_2", count: 2 },
      { destination_id: "dest_1", count: 1 },
    ]);
    assert.deepEqual(st.by_error, [
      { error: "timeout after 30 s", count: 2 },
      { error: "400 bad request", count: 1 },
    ]);
    assert.equal((await s.deadStats(ADMIN)).total, 4);
    assert.equal((await s.deadStats(scopeOf("user_nobody"))).total, 0);

    // B cannot touch A's dead letters
    assert.equal(await s.retryDead(B, { ids: [a1.id] }, T0 + 100), 0);
    assert.equal(await s.discardDead(B, { destinationId: "dest_2" }, T0 + 100), 0);
    assert.equal(await s.retryDead(A, { ids: [a1.id] }, T0 + 100), 1);
    const r = await deliveryOf(s, ea.id, a1.id);
    assert.equal(r.status, "pending");
    assert.equal(r.attempts, 0);
    assert.equal(r.nextAt, T0 + 100);
    assert.deepEqual((await s.claimDue(T0 + 100, 10, "n", 1000)).map((d) => d.id), [a1.id]);
    assert.equal(await s.retryDead(A, { ids: [a1.id] }, T0 + 100), 0, "no longer dead");

    assert.equal(await s.discardDead(A, { error: "timeout" }, T0 + 200), 2);
    const gone = await deliveryOf(s, ea.id, a2.id);
    assert.equal(gone.status, "discarded");
    assert.equal(gone.updatedAt, T0 + 200);
    assert.deepEqual(ids(await s.listDead(A, {}, PAGE)), []);
    assert.equal(await s.retryDead(ADMIN, {}, T0 + 300), 1, "admin bulk retry reaches B's");
    assert.equal((await deliveryOf(s, eb.id, b1.id)).status, "pending");
  });

  test("replayEvent: back to accepted for its owner or an admin, 404 for others", async (s) => {
    const e = envelope("user_a", "route_1", { receivedAt: T0 });
    await s.accept([e]);
    await s.claimEvents(T0, 10, "p", 60_000);
    await s.completeEvents([{ id: e.id, status: "failed", error: "boom", deliveries: [] }]);
    assert.equal(await s.replayEvent(scopeOf("user_b"), e.id, T0 + 10), false);
    assert.equal((await s.getEvent(ADMIN, e.id))?.status, "failed");
    assert.equal(await s.replayEvent(scopeOf("user_a"), "evt_nope", T0 + 10), false);
    assert.equal(await s.replayEvent(scopeOf("user_a"), e.id, T0 + 10), true);
    const g = await s.getEvent(ADMIN, e.id);
    assert.equal(g?.status, "accepted");
    assert.equal(g?.error, null);
    assert.equal(g?.attempts, 0, "a replay starts its attempts over");
    assert.deepEqual(await s.claimEvents(T0 + 9, 10, "p", 1000), [], "due at the replay time");
    assert.deepEqual((await s.claimEvents(T0 + 10, 10, "p", 1000)).map((x) => x.id), [e.id]);
    assert.equal(await s.replayEvent(ADMIN, e.id, T0 + 20), true, "also while leased");
    assert.deepEqual((await s.claimEvents(T0 + 20, 10, "q", 1000)).map((x) => x.id), [e.id]);
  });

  test("stats: totals, windows of an hour and a day, per route and destination, by scope", async (s) => {
    const now = T0;
    const H = 3600_000;
    const fresh = envelope("user_a", "route_1", { receivedAt: now - 60_000 });
    const hours = envelope("user_a", "route_1", { receivedAt: now - 2 * H });
    const old = envelope("user_a", "route_2", { receivedAt: now - 30 * H });
    const other = envelope("user_b", "route_9", { receivedAt: now - 1000 });
    await s.accept([fresh, hours, old, other]);
    const dd = [
      newDelivery(fresh, "dest_1", { nextAt: now - 10 * H }),
      newDelivery(fresh, "dest_2", { nextAt: now - 10 * H }),
      newDelivery(hours, "dest_1", { nextAt: now - 10 * H }),
      newDelivery(old, "dest_1", { nextAt: now - 10 * H }),
      newDelivery(old, "dest_2", { nextAt: now - 10 * H }),
      newDelivery(old, "dest_2", { nextAt: now + H }),
      newDelivery(other, "dest_9", { nextAt: now - 10 * H }),
    ];
    await s.completeEvents([
      { id: fresh.id, status: "processed", deliveries: dd.slice(0, 2) },
      { id: hours.id, status: "processed", deliveries: dd.slice(2, 3) },
      { id: old.id, status: "processed", deliveries: dd.slice(3, 6) },
      { id: other.id, status: "processed", deliveries: dd.slice(6) },
    ]);
    assert.equal((await s.claimDue(now, 10, "n", 1000)).length, 6);
    const settle: Settlement[] = [
      { id: dd[0].id, outcome: "delivered", at: now - 10_000 }, // last hour
      { id: dd[1].id, outcome: "dead", at: now - 20_000, error: "x" }, // last hour
      { id: dd[2].id, outcome: "delivered", at: now - 3 * H }, // last day
      { id: dd[3].id, outcome: "dead", at: now - 25 * H, error: "y" }, // older
      { id: dd[4].id, outcome: "retry", at: now - 5 * H, nextAt: now + H, error: "z" },
      { id: dd[6].id, outcome: "delivered", at: now - 1000 },
    ];
    await s.settle(settle, "n");
    const st = await s.stats(scopeOf("user_a"), now);
    assert.equal(st.received, 3);
    assert.equal(st.delivered, 2);
    assert.equal(st.dead, 2);
    assert.equal(st.pending, 2);
    assert.equal(st.retrying, 1);
    assert.deepEqual(st.last_hour, { received: 1, delivered: 1, dead: 1 });
    assert.deepEqual(st.last_24h, { received: 2, delivered: 2, dead: 1 });
    assert.deepEqual(
      st.per_route.map((r) => [r.route_id, r.received]).sort(),
      [["route_1", 2], ["route_2", 1]],
    );
    assert.deepEqual(
      st.per_destination.map((r) => [r.destination_id, r.delivered, r.pending, r.dead]).sort(),
      [["dest_1", 2, 0, 1], ["dest_2", 0, 2, 1]],
    );
    const d1 = st.per_destination.find((r) => r.destination_id === "dest_1")!;
    const d2 = st.per_destination.find((r) => r.destination_id === "dest_2")!;
    assert.equal(d1.last_delivered_at, now - 10_000);
    assert.equal(d1.last_error, "y", "the dead one still carries its error");
    assert.equal(d1.last_error_at, now - 25 * H);
    assert.equal(d1.retrying, 0);
    assert.equal(d2.last_delivered_at, null);
    assert.equal(d2.last_error, "x", "the newest error of dest_2");
    assert.equal(d2.last_error_at, now - 20_000);
    assert.equal(d2.retrying, 1);
    const sb = await s.stats(scopeOf("user_b"), now);
    assert.deepEqual([sb.received, sb.delivered, sb.pending, sb.dead], [1, 1, 0, 0]);
    const all = await s.stats(ADMIN, now);
    assert.deepEqual([all.received, all.delivered, all.pending, all.dead], [4, 3, 2, 2]);
    const empty = await s.stats(scopeOf("user_nobody"), now);
    assert.deepEqual(empty, {
      received: 0,
      delivered: 0,
      retrying: 0,
      pending: 0,
      dead: 0,
      last_hour: { received: 0, delivered: 0, dead: 0 },
      last_24h: { received: 0, delivered: 0, dead: 0 },
      per_route: [],
      per_destination: [],
    });
  });

  test("timeseries: received and settled per bucket, in the window, by scope", async (s) => {
    const M = 60_000;
    const since = T0 - 60 * M;
    const e1 = envelope("user_a", "route_1", { receivedAt: since });
    const e2 = envelope("user_a", "route_1", { receivedAt: since + 30_000 });
    const e3 = envelope("user_a", "route_1", { receivedAt: T0 - M });
    const before = envelope("user_a", "route_1", { receivedAt: since - 1 });
    const other = envelope("user_b", "route_9", { receivedAt: T0 - M });
    await s.accept([e1, e2, e3, before, other]);
    const dd = [
      newDelivery(e1, "dest_1", { nextAt: since }),
      newDelivery(e2, "dest_1", { nextAt: since }),
      newDelivery(e3, "dest_1", { nextAt: since }),
      newDelivery(other, "dest_9", { nextAt: since }),
    ];
    await s.completeEvents([
      { id: e1.id, status: "processed", deliveries: [dd[0]] },
      { id: e2.id, status: "processed", deliveries: [dd[1]] },
      { id: e3.id, status: "processed", deliveries: [dd[2]] },
      { id: other.id, status: "processed", deliveries: [dd[3]] },
    ]);
    assert.equal((await s.claimDue(T0, 10, "n", 1000)).length, 4);
    await s.settle([
      { id: dd[0].id, outcome: "delivered", at: since + 59_999 },
      { id: dd[1].id, outcome: "dead", at: T0 - M + 5, error: "x" },
      { id: dd[2].id, outcome: "retry", at: T0 - M + 6, nextAt: T0 + M, error: "z" },
      { id: dd[3].id, outcome: "delivered", at: T0 - M + 7 },
    ], "n");
    const a = await s.timeseries(scopeOf("user_a"), since, T0, M);
    assert.deepEqual(a, [
      { start: since, received: 2, delivered: 1, dead: 0 },
      { start: T0 - M, received: 1, delivered: 0, dead: 1 },
    ]);
    assert.deepEqual(await s.timeseries(scopeOf("user_b"), since, T0, M), [
      { start: T0 - M, received: 1, delivered: 1, dead: 0 },
    ]);
    const all = await s.timeseries(ADMIN, since, T0, M);
    assert.deepEqual(all.map((b) => [b.received, b.delivered, b.dead]), [[2, 1, 0], [2, 1, 1]]);
    assert.deepEqual(await s.timeseries(scopeOf("user_a"), since, T0 - M, M), [
      { start: since, received: 2, delivered: 1, dead: 0 },
    ], "until is exclusive");
    assert.deepEqual(await s.timeseries(scopeOf("user_nobody"), since, T0, M), []);

    const list = await s.listEvents(scopeOf("user_a"), { since, until: T0 - M }, PAGE);
    assert.deepEqual(list.items.map((e) => e.id).sort(), [e1.id, e2.id].sort());
    assert.equal(list.total, 2);
  });

  test("settings: merge, JSON values round-trip, null deletes", async (s) => {
    assert.deepEqual(await s.getSettings(), {});
    const v = {
      allow_hosts: ["a.example", "b"],
      retention_days: 2.5,
      nested: { ok: true, n: null },
    };
    assert.deepEqual(await s.setSettings(v), v);
    assert.deepEqual(await s.setSettings({ retention_days: 7 }), { ...v, retention_days: 7 });
    assert.deepEqual(await s.setSettings({ allow_hosts: null }), {
      nested: v.nested,
      retention_days: 7,
    });
    assert.deepEqual(await s.getSettings(), { nested: v.nested, retention_days: 7 });
    assert.deepEqual(await s.setSettings({}), { nested: v.nested, retention_days: 7 });
  });

  test("state: get, set, overwrite, expiry, keys by literal prefix, delete", async (s) => {
    await s.stateSet("agg:a_1", "one", null);
    await s.stateSet("agg:ab", "two", T0 + 100);
    await s.stateSet("agg:a%", "three", null);
    await s.stateSet("other:a_1", "x", null);
    assert.equal(await s.stateGet("agg:a_1", T0), "one");
    assert.equal(await s.stateGet("agg:ab", T0 + 99), "two");
    assert.equal(await s.stateGet("agg:ab", T0 + 100), null, "expired at its time");
    assert.equal(await s.stateGet("nope", T0), null);
    assert.deepEqual(await s.stateKeys("agg:", T0), ["agg:a%", "agg:a_1", "agg:ab"]);
    assert.deepEqual(await s.stateKeys("agg:", T0 + 100), ["agg:a%", "agg:a_1"]);
    assert.deepEqual(await s.stateKeys("agg:a_", T0), ["agg:a_1"], "_ is not a wildcard");
    assert.deepEqual(await s.stateKeys("agg:a%", T0), ["agg:a%"], "% is not a wildcard");
    assert.deepEqual(await s.stateKeys("", T0), ["agg:a%", "agg:a_1", "agg:ab", "other:a_1"]);
    await s.stateSet("agg:ab", "again", null);
    assert.equal(await s.stateGet("agg:ab", T0 + 10_000), "again", "overwrite clears the expiry");
    const big = "ü".repeat(50_000);
    await s.stateSet("big", big, null);
    assert.equal(await s.stateGet("big", T0), big);
    await s.stateDelete("agg:a_1");
    await s.stateDelete("agg:never");
    assert.equal(await s.stateGet("agg:a_1", T0), null);
  });

  test("leases: exclusive until expiry, the owner renews, release frees it", async (s) => {
    assert.equal(await s.tryLease("job", "a", 1000, T0), true);
    assert.equal(await s.tryLease("job", "b", 1000, T0 + 500), false);
    assert.equal(await s.tryLease("other", "b", 1000, T0 + 500), true, "names are separate");
    assert.equal(await s.tryLease("job", "a", 1000, T0 + 500), true, "renewed to T0 + 1500");
    assert.equal(await s.tryLease("job", "b", 1000, T0 + 1200), false);
    assert.equal(await s.tryLease("job", "b", 1000, T0 + 1501), true, "taken over after expiry");
    assert.equal(await s.tryLease("job", "a", 1000, T0 + 1600), false);
    await s.releaseLease("job", "a"); // not the holder: no effect
    assert.equal(await s.tryLease("job", "a", 1000, T0 + 1700), false);
    await s.releaseLease("job", "b");
    assert.equal(await s.tryLease("job", "a", 1000, T0 + 1700), true, "free at once");
  });

  test("leases with fences: acquire when free or expired, renew by holder and fence only", async (s) => {
    const f1 = await s.acquireLease("trigger:t", "a", 1000, T0);
    assert.equal(typeof f1, "number");
    assert.equal(await s.acquireLease("trigger:t", "b", 1000, T0 + 500), null, "held by a");
    assert.equal(await s.acquireLease("trigger:t", "a", 1000, T0 + 500), null, "even for a");
    assert.equal(await s.renewLease("trigger:t", "a", f1!, 1000, T0 + 900), true);
    assert.equal(await s.acquireLease("trigger:t", "b", 1000, T0 + 1500), null, "renewed to 1900");
    assert.equal(await s.renewLease("trigger:t", "b", f1!, 1000, T0 + 1500), false, "not b's");
    const f2 = await s.acquireLease("trigger:t", "b", 1000, T0 + 1900);
    assert.ok(f2! > f1!, `the fence grows when the lease changes hands (${f1} -> ${f2})`);
    assert.equal(await s.renewLease("trigger:t", "a", f1!, 1000, T0 + 2000), false, "a lost it");
    await s.releaseLease("trigger:t", "a", f1!); // not the holder: no effect
    assert.equal(await s.acquireLease("trigger:t", "a", 1000, T0 + 2000), null);
    await s.releaseLease("trigger:t", "b", f2!);
    const f3 = await s.acquireLease("trigger:t", "a", 1000, T0 + 2000);
    assert.ok(f3! > f2!, "a released lease is free at once and its fence still grows");
    assert.equal(await s.renewLease("trigger:t", "b", f2!, 1000, T0 + 2100), false);
    assert.equal(await s.acquireLease("trigger:u", "b", 1000, T0 + 2000) !== null, true);
  });

  test("triggers: CRUD scoped by owner; state with fenced cursor, counters, cascade", async (s) => {
    const [ua, ub] = [user("trig-a"), user("trig-b")];
    await s.createUser(ua);
    await s.createUser(ub);
    const A = scope(ua), B = scope(ub);
    const ra = route(ua.id, "ra"), rb = route(ub.id, "rb");
    await s.createRoute(ra);
    await s.createRoute(rb);
    const ta = trigger(ua.id, ra.id, "poll-a", {
      config: { url: "https://example.com", oauth2: { client_secret: "sealed:v1:x" } },
    });
    const tb = trigger(ub.id, rb.id, "cron-b", {
      type: "schedule",
      description: "nightly",
      createdAt: T0 + 1,
      active: false,
    });
    await s.createTrigger(ta);
    await s.createTrigger(tb);
    assert.deepEqual(await s.getTrigger(A, ta.id), ta);
    assert.equal(await s.getTrigger(B, ta.id), null, "another tenant's id reads as absent");
    assert.deepEqual(await s.getTrigger(ADMIN, tb.id), tb);
    assert.deepEqual(await s.getTrigger(null, tb.id), tb);
    assert.deepEqual((await s.listTriggers(A, PAGE)).items, [ta]);
    const all = await s.listTriggers(ADMIN, { limit: 1, offset: 1 });
    assert.deepEqual(all.items.map((t) => t.id), [tb.id]);
    assert.equal(all.total, 2);
    assert.equal((await s.allTriggers()).length, 2);

    const next = { ...ta, name: "poll-a2", config: { url: "https://example.org" }, active: false };
    assert.equal(await s.updateTrigger(B, { ...next, updatedAt: T0 + 9 }), false);
    assert.equal(await s.updateTrigger(A, { ...next, updatedAt: T0 + 9 }), true);
    assert.deepEqual(await s.getTrigger(null, ta.id), { ...next, updatedAt: T0 + 9 });

    // state: absent until written; cursor writes are fenced; counters add up
    assert.equal(await s.getTriggerState(ta.id), null);
    assert.equal(await s.setTriggerCursor(ta.id, '{"etag":"W/1"}', 3, T0), true);
    assert.equal(await s.setTriggerCursor(ta.id, '{"etag":"W/0"}', 2, T0 + 1), false, "older");
    assert.equal(await s.setTriggerCursor(ta.id, '{"etag":"W/2"}', 3, T0 + 2), true, "same");
    await s.updateTriggerState(ta.id, {
      status: { state: "idle", node: "n1" },
      lastRunAt: T0 + 3,
      nextRunAt: T0 + 60_003,
      lastError: "boom",
      addEmitted: 2,
    }, T0 + 3);
    await s.updateTriggerState(ta.id, { addEmitted: 5, lastError: null }, T0 + 4);
    const st = await s.getTriggerState(ta.id);
    assert.deepEqual(st, {
      triggerId: ta.id,
      cursor: '{"etag":"W/2"}',
      fence: 3,
      status: { state: "idle", node: "n1" },
      secrets: {},
      lastRunAt: T0 + 3,
      nextRunAt: T0 + 60_003,
      lastError: null,
      eventsEmitted: 7,
      updatedAt: T0 + 4,
    });
    await s.updateTriggerState(tb.id, { secrets: { refresh_token: "sealed:v1:r" } }, T0);
    const states = await s.triggerStates([ta.id, tb.id, "trigger_none"]);
    assert.deepEqual([...states.keys()].sort(), [ta.id, tb.id].sort());
    assert.deepEqual(states.get(tb.id)?.secrets, { refresh_token: "sealed:v1:r" });
    assert.equal(states.get(tb.id)?.eventsEmitted, 0);
    assert.equal((await s.triggerStates([])).size, 0);
    await s.deleteTriggerState(tb.id);
    assert.equal(await s.getTriggerState(tb.id), null);

    assert.equal(await s.deleteTrigger(B, ta.id), false);
    assert.equal(await s.deleteTrigger(A, ta.id), true);
    assert.equal(await s.getTrigger(null, ta.id), null);
    assert.equal(await s.getTriggerState(ta.id), null, "the state goes with the trigger");
    assert.equal(await s.deleteTrigger(A, ta.id), false);
    // deleting a route deletes its triggers
    assert.equal(await s.deleteRoute(B, rb.id), true);
    assert.equal(await s.getTrigger(null, tb.id), null);
  });

  test("purgeDelivered: removes fully delivered old events, keeps dead letters and open work", async (s) => {
    const old = T0 - 10 * 86400_000;
    const mk = (extra: Partial<Envelope> = {}) =>
      envelope("user_t", "route_1", { receivedAt: old, ...extra });
    const done = mk(),
      withDead = mk(),
      withPending = mk(),
      notProcessed = mk(),
      recent = mk({ receivedAt: T0 });
    const dropped = mk(), discarded = mk();
    await s.accept([done, withDead, withPending, notProcessed, recent, dropped, discarded]);
    const dDone = newDelivery(done, "dest_1", { nextAt: old });
    const dDone2 = newDelivery(done, "dest_2", { nextAt: old });
    const dDead = newDelivery(withDead, "dest_1", { nextAt: old });
    const dPending = newDelivery(withPending, "dest_1", { nextAt: T0 + 86400_000 });
    const dRecent = newDelivery(recent, "dest_1", { nextAt: old });
    const dDiscarded = newDelivery(discarded, "dest_1", { nextAt: old });
    await s.completeEvents([
      { id: done.id, status: "processed", deliveries: [dDone, dDone2] },
      { id: withDead.id, status: "processed", deliveries: [dDead] },
      { id: withPending.id, status: "processed", deliveries: [dPending] },
      { id: recent.id, status: "processed", deliveries: [dRecent] },
      { id: dropped.id, status: "dropped", error: "filtered", deliveries: [] },
      { id: discarded.id, status: "processed", deliveries: [dDiscarded] },
    ]);
    assert.equal((await s.claimDue(T0, 10, "n", 1000)).length, 5);
    await s.settle([
      { id: dDone.id, outcome: "delivered", at: old },
      { id: dDone2.id, outcome: "delivered", at: old },
      { id: dDead.id, outcome: "dead", at: old, error: "nope" },
      { id: dRecent.id, outcome: "delivered", at: T0 },
      { id: dDiscarded.id, outcome: "dead", at: old, error: "nope" },
    ], "n");
    assert.equal(await s.discardDead(ADMIN, { ids: [dDiscarded.id] }, old), 1);

    const n = await s.purgeDelivered(T0 - 86400_000);
    assert.equal(n, 3, "done, dropped and discarded");
    for (const e of [done, dropped, discarded]) assert.equal(await s.getEvent(ADMIN, e.id), null);
    assert.deepEqual(await s.eventDeliveries(done.id), []);
    for (const e of [withDead, withPending, notProcessed, recent]) {
      assert.ok(await s.getEvent(ADMIN, e.id), "kept");
    }
    assert.deepEqual((await s.listDead(ADMIN, {}, PAGE)).items.map((d) => d.id), [dDead.id]);
    assert.equal((await s.eventDeliveries(withDead.id))[0].attemptLog.length, 1);
    assert.equal(await s.purgeDelivered(T0 - 86400_000), 0, "nothing more");
  });

  test("body bytes round-trip exactly, non-UTF-8 and empty included", async (s) => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const invalid = new Uint8Array([
      0xc3,
      0x28,
      0xa0,
      0xa1,
      0xe2,
      0x28,
      0xa1,
      0xf0,
      0x28,
      0x8c,
      0xbc,
      0xff,
      0xfe,
      0x00,
    ]);
    const big = crypto.getRandomValues(new Uint8Array(60_000));
    const bodies = [all, invalid, new Uint8Array(), big, enc.encode("plain ✓ text")];
    const es = bodies.map((body, i) => envelope("user_t", "route_1", { body, receivedAt: T0 + i }));
    await s.accept(es);
    for (const e of es) {
      const got = await s.getEvent(ADMIN, e.id);
      assert.ok(got?.body instanceof Uint8Array, "a Uint8Array");
      assert.deepEqual(got.body, e.body);
    }
    const claimed = await s.claimEvents(T0 + 100, 10, "p", 1000);
    assert.deepEqual(claimed.map((e) => e.body), bodies);
    const listed = await s.listEvents(ADMIN, {}, PAGE);
    assert.deepEqual(listed.items.map((e) => e.body).reverse(), bodies);
    await s.completeEvents(es.map((e) => ({
      id: e.id,
      status: "processed" as const,
      deliveries: [newDelivery(e, "dest_1", { nextAt: T0, body: e.body })],
    })));
    const ds = await s.claimDue(T0, 10, "n", 1000);
    assert.equal(ds.length, bodies.length);
    for (const d of ds) {
      const e = es.find((x) => x.id === d.eventId)!;
      assert.ok(d.body instanceof Uint8Array);
      assert.deepEqual(d.body, e.body);
    }
    const viaEvent = await s.eventDeliveries(es[0].id);
    assert.deepEqual(viaEvent[0].body, all);
  });
}

// ---------------------------------------------------------------------------------------------

const ADMIN: Scope = { userId: "user_root", role: "admin" };
const scope = (u: User): Scope => ({ userId: u.id, role: u.role });
const scopeOf = (userId: string): Scope => ({ userId, role: "user" });

function user(username: string, role: User["role"] = "user", dt = 0): User {
  return {
    id: newId("user"),
    username,
    passwordHash: `pbkdf2-sha256$1000$c2FsdA==$${username}`,
    role,
    mustChangePassword: false,
    createdAt: T0 + dt,
    updatedAt: T0 + dt,
  };
}

function destination(owner: string, name: string, extra: Partial<Destination> = {}): Destination {
  return {
    id: newId("dest"),
    owner,
    name,
    type: "http",
    config: { url: "https://example.com" },
    retry: undefined,
    active: true,
    createdAt: T0,
    updatedAt: T0,
    ...extra,
  };
}

function route(owner: string, name: string, extra: Partial<Route> = {}): Route {
  return {
    id: newId("route"),
    owner,
    name,
    endpoint: `/webhook/wh_${crypto.randomUUID().replaceAll("-", "")}`,
    method: "POST",
    spec: { destinations: [] },
    active: true,
    version: 1,
    createdAt: T0,
    updatedAt: T0,
    ...extra,
  };
}

function trigger(
  owner: string,
  routeId: string,
  name: string,
  extra: Partial<Trigger> = {},
): Trigger {
  return {
    id: newId("trigger"),
    owner,
    name,
    description: null,
    type: "polling",
    routeId,
    config: {},
    active: true,
    createdAt: T0,
    updatedAt: T0,
    ...extra,
  };
}

function envelope(tenant: string, routeId: string | null, extra: Partial<Envelope> = {}): Envelope {
  return {
    id: newId("evt"),
    tenant,
    routeId,
    source: "webhook",
    receivedAt: T0,
    method: "POST",
    path: "/webhook/wh_x",
    query: "",
    ip: "127.0.0.1",
    headers: { "content-type": "application/json" },
    body: enc.encode('{"n":1}'),
    dedupKey: null,
    ...extra,
  };
}

function newDelivery(
  e: Envelope,
  destinationId: string,
  extra: Partial<NewDelivery> = {},
): NewDelivery {
  return {
    id: newId("dlv"),
    eventId: e.id,
    tenant: e.tenant,
    routeId: e.routeId,
    destinationId,
    body: e.body,
    headers: { "x-event-id": e.id },
    key: null,
    fallbackDestinationId: null,
    nextAt: T0,
    ...extra,
  };
}

/** The NewDelivery fields survive the store unchanged. */
function assertDelivery(got: Delivery, want: NewDelivery) {
  assert.equal(got.id, want.id);
  assert.equal(got.eventId, want.eventId);
  assert.equal(got.tenant, want.tenant);
  assert.equal(got.routeId, want.routeId);
  assert.equal(got.destinationId, want.destinationId);
  assert.equal(got.fallbackDestinationId ?? null, want.fallbackDestinationId ?? null);
  assert.equal(got.key ?? null, want.key ?? null);
  assert.deepEqual(got.headers, want.headers);
  assert.deepEqual(got.body, want.body);
}

async function deliveryOf(s: Store, eventId: string, id: string) {
  const d = (await s.eventDeliveries(eventId)).find((x) => x.id === id);
  assert.ok(d, `delivery ${id} of ${eventId}`);
  return d;
}
