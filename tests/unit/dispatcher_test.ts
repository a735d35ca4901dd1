/**
 * The dispatcher's decisions, over the real in-memory store and a real PublisherPool whose
 * factory makes scripted fake publishers: delivered, retry within the destination's schedule
 * (Retry-After honoured), dead on a permanent error or after the last attempt, fallbacks,
 * publishes that throw or hang, and open circuits skipped at claim time.
 */
import assert from "node:assert/strict";
import { openOutbound } from "../../runtimes/deno/outbound.ts";
import { createDispatcher } from "../../core/delivery/dispatcher.ts";
import { createPublisherPool } from "../../core/delivery/publisher_pool.ts";
import {
  type CircuitBreakers,
  createCircuitBreakers,
} from "../../core/delivery/circuit_breaker.ts";
import { createSealer } from "../../core/crypto/sealer.ts";
import { newId } from "../../core/model/ids.ts";
import type { Destination } from "../../core/model/destination.ts";
import type {
  Logger,
  NewDelivery,
  Outgoing,
  PublisherFactory,
  PublishResult,
} from "../../core/ports.ts";
import type { Store } from "../../core/store.ts";
import { openStore } from "../../adapters/store/sqlite/store.ts";

const T0 = 1_700_000_000_000;
const ADMIN = { userId: "user_root", role: "admin" as const };
const PUBLISH_TIMEOUT_MS = 50;

type Script = (batch: readonly Outgoing[], signal: AbortSignal) => Promise<PublishResult[]>;

const silent: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silent,
};
const metrics = { inc() {}, observe() {}, render: () => Promise.resolve("") };

const ok = (n: number): PublishResult[] => Array.from({ length: n }, () => ({ ok: true }));
const fail = (n: number, error: string, permanent = false, retryAfterMs?: number) =>
  Array.from({ length: n }, (): PublishResult => ({ ok: false, permanent, error, retryAfterMs }));

async function world(opts: { breakers?: CircuitBreakers; leaseMs?: number } = {}) {
  const store: Store = openStore({ path: ":memory:" });
  await store.migrate();
  const owner = newId("user");
  await store.createUser({
    id: owner,
    username: "dispatch-owner",
    passwordHash: "x",
    role: "user",
    mustChangePassword: false,
    createdAt: T0,
    updatedAt: T0,
  });
  const clock = {
    t: T0,
    now() {
      return this.t;
    },
  };
  const scripts = new Map<string, Script>();
  const calls: Array<{ script: string; ids: string[]; attempts: number[]; batch: Outgoing[] }> = [];
  const connects: string[] = [];
  const connectFails = new Set<string>();
  const fake: PublisherFactory<{ script: string }> = {
    type: "log",
    parseConfig: (c) => c as { script: string },
    create: (config) => ({
      connect() {
        connects.push(config.script);
        return connectFails.has(config.script)
          ? Promise.reject(new Error(`cannot connect to ${config.script}`))
          : Promise.resolve();
      },
      publish(batch, signal) {
        calls.push({
          script: config.script,
          ids: batch.map((m) => m.id),
          attempts: batch.map((m) => m.attempt),
          batch: [...batch],
        });
        const s = scripts.get(config.script);
        return s ? s(batch, signal) : Promise.resolve(ok(batch.length));
      },
      close: () => Promise.resolve(),
    }),
  };
  const pool = createPublisherPool({
    store,
    sealer: createSealer(crypto.getRandomValues(new Uint8Array(32))),
    factories: { log: fake as PublisherFactory },
    context: () => ({ ...openOutbound(), log: silent }),
  });
  const breakers = opts.breakers ?? createCircuitBreakers();
  const dispatcher = createDispatcher({
    store,
    pool,
    breakers,
    clock,
    log: silent,
    metrics,
    owner: "dispatcher-1",
    leaseMs: opts.leaseMs ?? 60_000,
    publishTimeoutMs: PUBLISH_TIMEOUT_MS,
  });

  async function destination(script: string, extra: Partial<Destination> = {}) {
    const d: Destination = {
      id: newId("dest"),
      owner,
      name: script,
      type: "log",
      config: { script },
      active: true,
      createdAt: T0,
      updatedAt: T0,
      ...extra,
    };
    await store.createDestination(d);
    return d.id;
  }

  /** One event with one delivery per destination, due now. */
  async function deliver(
    destinationIds: string[],
    extra: Partial<NewDelivery> = {},
  ): Promise<string[]> {
    const e = {
      id: newId("evt"),
      tenant: owner,
      routeId: "route_1",
      source: "webhook",
      receivedAt: clock.t,
      method: "POST",
      path: "/webhook/wh_x",
      query: "",
      ip: "127.0.0.1",
      headers: {},
      body: new TextEncoder().encode('{"n":1}'),
    };
    await store.accept([e]);
    const ds: NewDelivery[] = destinationIds.map((destinationId) => ({
      id: newId("dlv"),
      eventId: e.id,
      tenant: owner,
      routeId: "route_1",
      destinationId,
      body: e.body,
      headers: { "x-event-id": e.id },
      key: "k1",
      nextAt: clock.t,
      ...extra,
    }));
    await store.completeEvents([{ id: e.id, status: "processed", deliveries: ds }]);
    return ds.map((d) => d.id);
  }

  async function delivery(id: string) {
    const all = await store.listEvents(ADMIN, {}, { limit: 500, offset: 0 });
    for (const e of all.items) {
      const d = (await store.eventDeliveries(e.id)).find((x) => x.id === id);
      if (d) return d;
    }
    throw new Error(`no delivery ${id}`);
  }

  async function deliveriesTo(destinationId: string) {
    const all = await store.listEvents(ADMIN, {}, { limit: 500, offset: 0 });
    const out = [];
    for (const e of all.items) {
      out.push(
        ...(await store.eventDeliveries(e.id)).filter((d) => d.destinationId === destinationId),
      );
    }
    return out;
  }

  return {
    store,
    clock,
    scripts,
    calls,
    connects,
    connectFails,
    breakers,
    dispatcher,
    destination,
    deliver,
    delivery,
    deliveriesTo,
    close: async () => {
      await pool.closeAll();
      await store.close();
    },
  };
}

Deno.test("dispatcher: publishes one batch per destination and settles delivered", async () => {
  const w = await world();
  try {
    const d1 = await w.destination("one");
    const d2 = await w.destination("two");
    const a = await w.deliver([d1, d2]);
    const b = await w.deliver([d1]);
    assert.equal(await w.dispatcher.runOnce(), 3);
    assert.equal(w.calls.length, 2, "one publish per destination");
    const one = w.calls.find((c) => c.script === "one")!;
    assert.deepEqual(one.ids.sort(), [a[0], b[0]].sort());
    assert.deepEqual(one.attempts, [1, 1]);
    const m = one.batch.find((x) => x.id === a[0])!;
    assert.deepEqual(m.body, new TextEncoder().encode('{"n":1}'));
    assert.equal(m.key, "k1");
    assert.match(m.eventId, /^evt_/);
    assert.equal(m.headers["x-event-id"], m.eventId);
    for (const id of [...a, ...b]) {
      const d = await w.delivery(id);
      assert.equal(d.status, "delivered");
      assert.equal(d.attempts, 1);
      assert.deepEqual(d.attemptLog.map((l) => l.outcome), ["delivered"]);
    }
    assert.equal(await w.dispatcher.runOnce(), 0, "nothing left");
  } finally {
    await w.close();
  }
});

Deno.test("dispatcher: retriable failures retry within the schedule, then die at max attempts", async () => {
  const w = await world();
  try {
    const dest = await w.destination("flaky", {
      retry: { max_attempts: 3, schedule_seconds: [0, 10, 60] },
    });
    w.scripts.set("flaky", (b) => Promise.resolve(fail(b.length, "503 service unavailable")));
    const [id] = await w.deliver([dest]);

    assert.equal(await w.dispatcher.runOnce(), 1);
    let d = await w.delivery(id);
    assert.equal(d.status, "pending");
    assert.equal(d.lastError, "503 service unavailable");
    let delay = d.nextAt - w.clock.t;
    assert.ok(delay >= 0 && delay <= 10_000, `first retry within [0, 10 s]: ${delay}`);

    w.clock.t = d.nextAt + 1;
    assert.equal(await w.dispatcher.runOnce(), 1);
    d = await w.delivery(id);
    assert.equal(d.status, "pending");
    delay = d.nextAt - w.clock.t;
    assert.ok(delay >= 10_000 && delay <= 60_000, `second retry within [10 s, 60 s]: ${delay}`);
    w.clock.t = d.nextAt - 1;
    assert.equal(await w.dispatcher.runOnce(), 0, "not before its time");

    w.clock.t = d.nextAt;
    assert.equal(await w.dispatcher.runOnce(), 1);
    d = await w.delivery(id);
    assert.equal(d.status, "dead", "the third attempt was the last");
    assert.equal(d.attempts, 3);
    assert.equal(d.lastError, "503 service unavailable");
    assert.deepEqual(d.attemptLog.map((l) => l.outcome), ["retry", "retry", "dead"]);
    assert.deepEqual(w.calls.map((c) => c.attempts[0]), [1, 2, 3], "attempt numbers sent along");
    w.clock.t += 86400_000;
    assert.equal(await w.dispatcher.runOnce(), 0);
    assert.deepEqual(
      (await w.store.listDead(ADMIN, {}, { limit: 10, offset: 0 })).items.map((x) => x.id),
      [id],
    );
  } finally {
    await w.close();
  }
});

Deno.test("dispatcher: Retry-After is honoured when longer than the backoff", async () => {
  const w = await world();
  try {
    const dest = await w.destination("throttled", {
      retry: { max_attempts: 5, schedule_seconds: [0, 10, 20] },
    });
    let retryAfterMs = 120_000;
    w.scripts.set(
      "throttled",
      (b) => Promise.resolve(fail(b.length, "429 slow down", false, retryAfterMs)),
    );
    const [id] = await w.deliver([dest]);
    await w.dispatcher.runOnce();
    let d = await w.delivery(id);
    assert.equal(d.nextAt, w.clock.t + 120_000, "exactly the Retry-After");

    // a Retry-After shorter than the schedule does not make the retry earlier
    retryAfterMs = 1;
    w.clock.t = d.nextAt;
    await w.dispatcher.runOnce();
    d = await w.delivery(id);
    const delay = d.nextAt - w.clock.t;
    assert.ok(delay >= 10_000 && delay <= 20_000, `the schedule wins: ${delay}`);
  } finally {
    await w.close();
  }
});

Deno.test("dispatcher: a permanent error is dead at once and does not trip the breaker", async () => {
  const w = await world({ breakers: createCircuitBreakers({ threshold: 2 }) });
  try {
    const dest = await w.destination("strict"); // default policy: 8 attempts
    w.scripts.set("strict", (b) => Promise.resolve(fail(b.length, "400 invalid payload", true)));
    const ids = [
      ...await w.deliver([dest]),
      ...await w.deliver([dest]),
      ...await w.deliver([dest]),
    ];
    for (let i = 0; i < 3; i++) {
      await w.dispatcher.runOnce();
      await w.deliver([dest]);
    }
    for (const id of ids) {
      const d = await w.delivery(id);
      assert.equal(d.status, "dead");
      assert.equal(d.attempts, 1);
      assert.equal(d.lastError, "400 invalid payload");
    }
    assert.equal(w.breakers.state(dest, w.clock.t), "closed", "the destination itself is up");
  } finally {
    await w.close();
  }
});

Deno.test("dispatcher: mixed results settle message by message; a missing result retries", async () => {
  const w = await world();
  try {
    const dest = await w.destination("mixed");
    w.scripts.set(
      "mixed",
      () => Promise.resolve([{ ok: true }, { ok: false, permanent: true, error: "too large" }]), // 3rd missing
    );
    const ids = [
      ...await w.deliver([dest]),
      ...await w.deliver([dest]),
      ...await w.deliver([dest]),
    ];
    await w.dispatcher.runOnce();
    const order = w.calls[0].ids;
    assert.deepEqual(order.slice().sort(), ids.slice().sort());
    assert.equal((await w.delivery(order[0])).status, "delivered");
    assert.equal((await w.delivery(order[1])).status, "dead");
    const third = await w.delivery(order[2]);
    assert.equal(third.status, "pending");
    assert.equal(third.lastError, "no result");
  } finally {
    await w.close();
  }
});

Deno.test("dispatcher: a dead delivery with a fallback makes a new delivery to the fallback", async () => {
  const w = await world();
  try {
    const primary = await w.destination("primary", {
      retry: { max_attempts: 1, schedule_seconds: [0] },
    });
    const backup = await w.destination("backup");
    const permanent = await w.destination("permanent");
    w.scripts.set("primary", (b) => Promise.resolve(fail(b.length, "connection refused")));
    w.scripts.set("permanent", (b) => Promise.resolve(fail(b.length, "404 no such queue", true)));
    const [p] = await w.deliver([primary], { fallbackDestinationId: backup });
    const [q] = await w.deliver([permanent], { fallbackDestinationId: backup });

    await w.dispatcher.runOnce();
    assert.equal((await w.delivery(p)).status, "dead", "after its last attempt");
    assert.equal((await w.delivery(q)).status, "dead", "at once");
    const fb = await w.deliveriesTo(backup);
    assert.equal(fb.length, 2);
    for (const origId of [p, q]) {
      const orig = await w.delivery(origId);
      const copy = fb.find((x) => x.eventId === orig.eventId)!;
      assert.ok(copy, "one per dead delivery");
      assert.notEqual(copy.id, orig.id);
      assert.equal(copy.status, "pending");
      assert.equal(copy.attempts, 0);
      assert.equal(copy.fallbackDestinationId, null, "no fallback of a fallback");
      assert.deepEqual(copy.body, orig.body);
      assert.deepEqual(copy.headers, orig.headers);
      assert.equal(copy.key, orig.key);
      assert.equal(copy.tenant, orig.tenant);
      assert.equal(copy.routeId, orig.routeId);
    }
    assert.equal(await w.dispatcher.runOnce(), 2);
    assert.deepEqual(w.calls.filter((c) => c.script === "backup").map((c) => c.ids.length), [2]);
    assert.ok((await w.deliveriesTo(backup)).every((d) => d.status === "delivered"));
  } finally {
    await w.close();
  }
});

Deno.test("dispatcher: a publish that throws, or a connect that fails, is retried", async () => {
  const w = await world();
  try {
    const dest = await w.destination("thrower", {
      retry: { max_attempts: 5, schedule_seconds: [0, 0] },
    });
    w.scripts.set("thrower", () => Promise.reject(new Error("socket hang up")));
    const [id] = await w.deliver([dest]);
    await w.dispatcher.runOnce();
    let d = await w.delivery(id);
    assert.equal(d.status, "pending");
    assert.equal(d.lastError, "socket hang up");

    w.scripts.delete("thrower");
    w.connectFails.add("thrower");
    await w.dispatcher.runOnce();
    d = await w.delivery(id);
    assert.equal(d.status, "pending");
    assert.match(d.lastError ?? "", /cannot connect to thrower/);
    assert.equal(w.calls.length, 1, "no publish without a connection");

    w.connectFails.delete("thrower");
    await w.dispatcher.runOnce();
    assert.equal((await w.delivery(id)).status, "delivered");
    assert.equal(w.connects.length, 3, "connect again after a failed publish or connect");
  } finally {
    await w.close();
  }
});

Deno.test("dispatcher: a publish that hangs (honouring its signal) times out and is retried", async () => {
  const w = await world();
  try {
    const dest = await w.destination("slow", {
      retry: { max_attempts: 5, schedule_seconds: [0, 0] },
    });
    w.scripts.set(
      "slow",
      (_b, signal) =>
        new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
    );
    const [id] = await w.deliver([dest]);
    const started = performance.now();
    await w.dispatcher.runOnce();
    assert.ok(performance.now() - started < 2000);
    const d = await w.delivery(id);
    assert.equal(d.status, "pending");
    assert.equal(d.lastError, `publish timed out after ${PUBLISH_TIMEOUT_MS} ms`);
  } finally {
    await w.close();
  }
});

Deno.test("dispatcher: a publish that hangs and ignores its signal still times out", async () => {
  const w = await world();
  try {
    const dest = await w.destination("stuck", {
      retry: { max_attempts: 5, schedule_seconds: [0, 0] },
    });
    w.scripts.set("stuck", () => new Promise<never>(() => {})); // a broken client library
    const [id] = await w.deliver([dest]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      w.dispatcher.runOnce().then(() => "settled"),
      new Promise<string>((r) => timer = setTimeout(() => r("hung"), 2000)),
    ]);
    clearTimeout(timer);
    assert.equal(outcome, "settled", "runOnce must not wait past publishTimeoutMs");
    const d = await w.delivery(id);
    assert.equal(d.status, "pending");
    assert.equal(d.lastError, `publish timed out after ${PUBLISH_TIMEOUT_MS} ms`);
  } finally {
    await w.close();
  }
});

Deno.test("dispatcher: an open circuit skips the destination at claim time", async () => {
  const w = await world({
    breakers: createCircuitBreakers({ threshold: 2, openMs: 10_000 }),
  });
  try {
    const down = await w.destination("down", {
      retry: { max_attempts: 50, schedule_seconds: [0, 0] },
    });
    const up = await w.destination("up");
    w.scripts.set("down", (b) => Promise.resolve(fail(b.length, "ECONNREFUSED")));
    const stuck = await w.deliver([down]);
    await w.dispatcher.runOnce();
    await w.dispatcher.runOnce();
    assert.equal(w.breakers.state(down, w.clock.t), "open");
    const downCalls = w.calls.filter((c) => c.script === "down").length;
    assert.equal(downCalls, 2);

    const [other] = await w.deliver([up]);
    assert.equal(await w.dispatcher.runOnce(), 1, "only the healthy destination's work");
    assert.equal((await w.delivery(other)).status, "delivered");
    assert.equal(w.calls.filter((c) => c.script === "down").length, downCalls, "no publish to it");
    const waiting = await w.delivery(stuck[0]);
    assert.equal(waiting.attempts, 2, "not even claimed: no attempt spent");
    assert.equal(waiting.status, "pending");

    w.clock.t += 10_000; // half-open: one probe goes through
    w.scripts.delete("down");
    assert.equal(await w.dispatcher.runOnce(), 1);
    assert.equal((await w.delivery(stuck[0])).status, "delivered");
    assert.equal(w.breakers.state(down, w.clock.t), "closed");
  } finally {
    await w.close();
  }
});

Deno.test("dispatcher: a deleted destination's work is dead; an inactive one's waits", async () => {
  const w = await world();
  try {
    const paused = await w.destination("paused", { active: false });
    const [p] = await w.deliver([paused]);
    const [g] = await w.deliver(["dest_deleted000000000000000"]);
    await w.dispatcher.runOnce();
    const pd = await w.delivery(p);
    assert.equal(pd.status, "pending");
    assert.equal(pd.lastError, "destination is inactive");
    const gd = await w.delivery(g);
    assert.equal(gd.status, "dead");
    assert.equal(gd.lastError, "destination no longer exists");
    assert.equal(w.calls.length, 0);
  } finally {
    await w.close();
  }
});

Deno.test("dispatcher: a delivery taken over after its lease ran out gets no fallback from the old owner", async () => {
  const w = await world({ leaseMs: 1000 });
  try {
    const primary = await w.destination("primary");
    const backup = await w.destination("backup");
    let release!: () => void;
    const gate = new Promise<void>((r) => release = r);
    w.scripts.set("primary", async (b) => {
      await gate;
      return fail(b.length, "404 no such queue", true);
    });
    const [id] = await w.deliver([primary], { fallbackDestinationId: backup });
    const run = w.dispatcher.runOnce();
    await new Promise((r) => setTimeout(r, 10)); // publishing, under a lease until t + 1000
    // the lease runs out; another node takes the delivery over and delivers it
    const other = await w.store.claimDue(w.clock.t + 2000, 10, "dispatcher-2", 60_000);
    assert.deepEqual(other.map((d) => d.id), [id]);
    await w.store.settle([{ id, outcome: "delivered", at: w.clock.t + 2001 }], "dispatcher-2");
    release();
    await run;
    assert.equal((await w.delivery(id)).status, "delivered", "the stale outcome is ignored");
    assert.deepEqual(
      (await w.deliveriesTo(backup)).map((d) => d.id),
      [],
      "the work was delivered, so nothing may go to the fallback",
    );
  } finally {
    await w.close();
  }
});

Deno.test("dispatcher: offered deliveries publish without a claim and settle once imported", async () => {
  const w = await world();
  try {
    const dest = await w.destination("handed");
    const e = {
      id: newId("evt"),
      tenant: "user_x",
      routeId: "route_1",
      source: "webhook",
      receivedAt: w.clock.t,
      method: "POST",
      path: "/webhook/wh_x",
      query: "",
      ip: "127.0.0.1",
      headers: {},
      body: new TextEncoder().encode('{"n":2}'),
    };
    const mk = (): NewDelivery => ({
      id: newId("dlv"),
      eventId: e.id,
      tenant: e.tenant,
      routeId: e.routeId,
      destinationId: dest,
      body: e.body,
      headers: {},
      nextAt: w.clock.t,
    });
    const ds = [mk(), mk()];
    let imported!: (ok: boolean) => void;
    const until = w.clock.t + 60_000;
    const taken = w.dispatcher.offer(ds, until, new Promise((r) => (imported = r)));
    assert.deepEqual(taken, ds.map((d) => d.id));
    // the store does not have them yet: the run publishes from memory, then waits for the import
    const run = w.dispatcher.runOnce();
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(w.calls.map((c) => c.ids), [ds.map((d) => d.id)], "published before import");
    assert.deepEqual(w.calls[0].attempts, [1, 1]);
    await w.store.accept([{ ...e, planned: { status: "processed", deliveries: ds } }], {
      lease: { owner: "dispatcher-1", until, deliveryIds: taken },
    });
    imported(true);
    assert.equal(await run, 2);
    for (const d of ds) assert.equal((await w.delivery(d.id)).status, "delivered");
    assert.equal(w.dispatcher.offered(), 0);
  } finally {
    await w.close();
  }
});

Deno.test("dispatcher: offers skip open circuits and stop when full; a failed import drops the settle", async () => {
  const breakers = createCircuitBreakers({ threshold: 1 });
  const w = await world({ breakers });
  try {
    const open = await w.destination("down");
    const fine = await w.destination("fine");
    breakers.failure(open, w.clock.t);
    const mk = (destinationId: string): NewDelivery => ({
      id: newId("dlv"),
      eventId: "evt_x",
      tenant: "user_x",
      routeId: null,
      destinationId,
      body: new Uint8Array([1]),
      headers: {},
      nextAt: w.clock.t,
    });
    const failed = Promise.resolve(false);
    const until = w.clock.t + 60_000;
    assert.deepEqual(w.dispatcher.offer([mk(open)], until, failed), [], "open circuit: declined");
    const many = Array.from({ length: 2500 }, () => mk(fine));
    assert.equal(w.dispatcher.offer(many, until, failed).length, 2000, "four batches at most");
    // published, but the import failed: nothing is settled (the journal imports them again)
    assert.equal(await w.dispatcher.runOnce(), 500);
    assert.equal(w.calls.length, 1);
    assert.equal(w.dispatcher.offered(), 1500);
    // an offer whose lease no longer covers a publish is left to expire and be claimed
    w.clock.t = until - PUBLISH_TIMEOUT_MS;
    assert.equal(await w.dispatcher.runOnce(), 0);
    assert.equal(w.dispatcher.offered(), 0);
    assert.equal(w.calls.length, 1);
  } finally {
    await w.close();
  }
});
