/** aggregate: dedupe, windows, batches, flushDue, restart survival, dry runs. */
import assert from "node:assert/strict";
import {
  clearRouteCache,
  compileRoute,
  flushDue,
  MemoryState,
  type PipelineDeps,
  runRoute,
  SEAL_LEASE_MS,
} from "../../../core/pipeline/mod.ts";
import { bodyOf, clock, destinationsOf, event, T0 } from "./helpers.ts";

const MIN = 60_000;
const W0 = Math.floor(T0 / MIN) * MIN; // window start containing T0

let versions = 0;

/** Each setup gets its own route version: compileRoute caches by id and version. */
function setup(stage: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const c = clock();
  const state = new MemoryState(c.now);
  const def = {
    id: "route_agg",
    version: ++versions,
    pipeline: [{ type: "aggregate", name: "agg", ...stage }],
    destinations: [{ destination_id: "dest_a" }],
    ...extra,
  };
  const d = (over: Partial<PipelineDeps> = {}): PipelineDeps => ({
    fetch: fetch,
    state,
    now: c.now,
    ...over,
  });
  return { c, state, def: def as never, d };
}

Deno.test("dedupe: first per key goes on, duplicates dropped until the window ends", async () => {
  const { c, def, d } = setup({ mode: "dedupe", key: "order.id", window_ms: 10 * MIN });
  const r = compileRoute(def);
  const first = await runRoute(r, event({ id: "e1", body: { order: { id: 7 } } }), d());
  assert.deepEqual(destinationsOf(first), ["dest_a"]);
  assert.deepEqual(bodyOf(first), { order: { id: 7 } }, "dedupe does not reshape");
  const dup = await runRoute(r, event({ id: "e2", body: { order: { id: 7 } } }), d());
  assert.deepEqual(dup.dropped, { stage: "agg", reason: 'duplicate key "7" (first: e1)' });
  const other = await runRoute(r, event({ id: "e3", body: { order: { id: 8 } } }), d());
  assert.deepEqual(destinationsOf(other), ["dest_a"]);
  const retry = await runRoute(r, event({ id: "e1", body: { order: { id: 7 } } }), d());
  assert.deepEqual(
    destinationsOf(retry),
    ["dest_a"],
    "the same event retried is not its own duplicate",
  );
  c.advance(10 * MIN);
  const later = await runRoute(r, event({ id: "e4", body: { order: { id: 7 } } }), d());
  assert.deepEqual(destinationsOf(later), ["dest_a"]);
  const missing = await runRoute(r, event({ id: "e5", body: {} }), d());
  assert.match(missing.failed!.error, /aggregate key "order\.id" is missing/);
  assert.equal(missing.failed!.policy, "retry");
});

Deno.test("count with emit each: running totals per window and key", async () => {
  const { def, d } = setup({
    mode: "count",
    window_ms: MIN,
    key: "user",
    emit: "each",
    into: "stats",
  });
  const r = compileRoute(def);
  const run = (id: string, user: string, at = T0) =>
    runRoute(r, event({ id, body: { user }, receivedAt: at }), d());
  await run("e1", "ada");
  await run("e2", "ada");
  const third = await run("e3", "ada");
  const other = await run("e4", "bob");
  const nextWindow = await run("e5", "ada", W0 + MIN);
  assert.deepEqual(bodyOf(third), {
    user: "ada",
    stats: {
      key: "ada",
      window_start: new Date(W0).toISOString(),
      window_end: new Date(W0 + MIN).toISOString(),
      count: 3,
    },
  });
  assert.equal((bodyOf(other) as { stats: { count: number } }).stats.count, 1);
  assert.equal((bodyOf(nextWindow) as { stats: { count: number } }).stats.count, 1);
  const again = await run("e3", "ada");
  assert.equal(
    (bodyOf(again) as { stats: { count: number } }).stats.count,
    3,
    "idempotent per event id",
  );
});

Deno.test("sum with emit each into $meta by default", async () => {
  const { def, d } = setup({ mode: "sum", window_ms: MIN, field: "amount", emit: "each" }, {
    pipeline: [
      {
        type: "aggregate",
        name: "agg",
        mode: "sum",
        window_ms: MIN,
        field: "amount",
        emit: "each",
      },
      {
        type: "transform",
        operations: [{ op: "copy", from: "$meta.aggregate.sum", to: "running" }],
      },
    ],
  });
  const r = compileRoute(def);
  await runRoute(r, event({ id: "e1", body: { amount: 5 } }), d());
  const out = await runRoute(r, event({ id: "e2", body: { amount: "7.5" } }), d());
  assert.deepEqual(bodyOf(out), { amount: "7.5", running: 12.5 });
  const bad = await runRoute(r, event({ id: "e3", body: { amount: "lots" } }), d());
  assert.match(bad.failed!.error, /sum field "amount" is "lots", not a number/);
});

Deno.test("collect window_end: events held, one summary per window and key at flush", async () => {
  const s = setup({ mode: "collect", window_ms: MIN, key: "user", field: "n" });
  const r = compileRoute(s.def);
  const a = await runRoute(r, event({ id: "e1", body: { user: "ada", n: 1 } }), s.d());
  await runRoute(r, event({ id: "e2", body: { user: "ada", n: 2 } }), s.d());
  await runRoute(r, event({ id: "e3", body: { user: "bob", n: 3 } }), s.d());
  assert.equal(a.held, true);
  assert.deepEqual(a.deliveries, []);
  assert.equal(a.stages[0].held, true);
  assert.deepEqual(await flushDue(r, s.d()), [], "nothing before the window ends");
  s.c.set(W0 + MIN);
  const flushed = await flushDue(r, s.d());
  assert.equal(flushed.length, 2);
  const byKey = Object.fromEntries(
    flushed.map((f) => [(bodyOf(f.outcome) as { key: string }).key, f]),
  );
  assert.deepEqual(bodyOf(byKey.ada.outcome), {
    key: "ada",
    window_start: new Date(W0).toISOString(),
    window_end: new Date(W0 + MIN).toISOString(),
    count: 2,
    items: [1, 2],
  });
  assert.equal(byKey.ada.eventId, "e1");
  assert.equal(byKey.ada.count, 2);
  assert.equal(byKey.ada.tenant, "user_1");
  assert.deepEqual(destinationsOf(byKey.bob.outcome), ["dest_a"]);
  for (const f of flushed) await f.commit();
  assert.equal(s.state.size, 0, "committed buckets are gone");
  assert.deepEqual(await flushDue(r, s.d()), []);
});

Deno.test("batch by count: the filling event emits the batch; commit removes it", async () => {
  const { def, d, state } = setup({ mode: "batch", max_count: 3 });
  const r = compileRoute(def);
  const outs = [];
  for (const i of [1, 2, 3, 4]) {
    outs.push(await runRoute(r, event({ id: `e${i}`, body: { i } }), d()));
  }
  assert.deepEqual(outs.map((o) => o.held ?? false), [true, true, false, true]);
  assert.deepEqual(bodyOf(outs[2]), [{ i: 1 }, { i: 2 }, { i: 3 }]);
  assert.equal(typeof outs[2].commit, "function");
  assert.equal(state.size, 2, "sealed batch + new open batch");
  await outs[2].commit!();
  await outs[2].commit!(); // idempotent
  assert.equal(state.size, 1);
});

Deno.test("batch by time: flushDue emits after max_wait_ms", async () => {
  const { c, def, d } = setup({ mode: "batch", max_count: 100, max_wait_ms: 5000, key: "tenant" }, {
    pipeline: [
      { type: "transform", operations: [{ op: "set", path: "seen", value: true }] },
      {
        type: "aggregate",
        name: "agg",
        mode: "batch",
        max_count: 100,
        max_wait_ms: 5000,
        key: "tenant",
      },
      { type: "transform", expression: "{ 'count': $count($), 'items': $ }" },
    ],
  });
  const r = compileRoute(def);
  await runRoute(r, event({ id: "e1", body: { tenant: "a", n: 1 } }), d());
  c.advance(1000);
  await runRoute(r, event({ id: "e2", body: { tenant: "a", n: 2 } }), d());
  await runRoute(r, event({ id: "e3", body: { tenant: "b", n: 3 } }), d());
  c.advance(3999);
  assert.deepEqual(await flushDue(r, d()), []);
  c.advance(1);
  const [f] = await flushDue(r, d());
  assert.deepEqual(bodyOf(f.outcome), {
    count: 2,
    items: [{ tenant: "a", n: 1, seen: true }, { tenant: "a", n: 2, seen: true }],
  });
  assert.equal(f.outcome.stages[0].name, "transform#3", "resumes after the aggregate stage");
  await f.commit();
  c.advance(1000);
  const [g] = await flushDue(r, d());
  assert.equal((bodyOf(g.outcome) as { count: number }).count, 1);
});

Deno.test("aggregation survives a restart: new compiled route, new deps, same state", async () => {
  const c = clock();
  const state = new MemoryState(c.now);
  const def = {
    id: "route_restart",
    version: 3,
    pipeline: [
      { type: "aggregate", name: "batch", mode: "batch", max_count: 4, max_wait_ms: 60_000 },
    ],
    destinations: [{ destination_id: "dest_a" }],
  };
  const depsFor = () => ({ fetch, state, now: c.now });
  const before = compileRoute(def);
  for (const i of [1, 2]) await runRoute(before, event({ id: `e${i}`, body: { i } }), depsFor());

  clearRouteCache(); // "restart": nothing compiled survives, only the state
  const after = compileRoute(def);
  assert.notEqual(after, before);
  const third = await runRoute(after, event({ id: "e3", body: { i: 3 } }), depsFor());
  assert.equal(third.held, true);
  const fourth = await runRoute(after, event({ id: "e4", body: { i: 4 } }), depsFor());
  assert.deepEqual(bodyOf(fourth), [{ i: 1 }, { i: 2 }, { i: 3 }, { i: 4 }]);
  await fourth.commit!();

  // windows too: counted before the restart, flushed after it
  const wdef = {
    id: "route_restart_w",
    version: 1,
    pipeline: [{ type: "aggregate", name: "per-minute", mode: "count", window_ms: MIN }],
    destinations: [{ destination_id: "dest_a" }],
  };
  await runRoute(compileRoute(wdef), event({ id: "w1" }), depsFor());
  await runRoute(compileRoute(wdef), event({ id: "w2" }), depsFor());
  clearRouteCache();
  c.set(W0 + MIN);
  const [f] = await flushDue(compileRoute(wdef), depsFor());
  assert.equal((bodyOf(f.outcome) as { count: number }).count, 2);
});

Deno.test("a crash before commit re-emits the same bucket after the lease", async () => {
  const { c, def, d } = setup({ mode: "count", window_ms: MIN });
  const r = compileRoute(def);
  await runRoute(r, event({ id: "e1" }), d());
  c.set(W0 + MIN);
  const [first] = await flushDue(r, d());
  // no commit: the process "died"
  assert.deepEqual(await flushDue(r, d()), [], "leased");
  c.advance(SEAL_LEASE_MS);
  const [again] = await flushDue(r, d());
  assert.equal(again.bucket, first.bucket);
  assert.deepEqual(bodyOf(again.outcome), bodyOf(first.outcome));
  await again.commit();
  c.advance(SEAL_LEASE_MS);
  assert.deepEqual(await flushDue(r, d()), []);
});

Deno.test("held buckets remember destinations (weighted split) and fallbacks", async () => {
  const { c, def, d } = setup({ mode: "count", window_ms: MIN }, {
    rules: [{ name: "split", select: "weighted" }],
    destinations: [
      { destination_id: "dest_a", weight: 1, fallback_destination_id: "dest_fb" },
      { destination_id: "dest_b", weight: 1 },
    ],
  });
  const r = compileRoute(def);
  const seen = { dest_a: 0, dest_b: 0 } as Record<string, number>;
  for (let i = 0; i < 40; i++) {
    const ev = event({ id: `e${i}` });
    const dry = await runRoute(r, ev, d({ dryRun: true }));
    assert.equal(dry.held, true);
    await runRoute(r, ev, d());
  }
  c.set(W0 + MIN);
  const flushed = await flushDue(r, d());
  assert.equal(flushed.length, 2, "one bucket per destination set");
  for (const f of flushed) {
    const [dl] = f.outcome.deliveries;
    seen[dl.destinationId] = (bodyOf(f.outcome) as { count: number }).count;
    if (dl.destinationId === "dest_a") assert.equal(dl.fallbackDestinationId, "dest_fb");
  }
  assert.equal(seen.dest_a + seen.dest_b, 40);
  assert.ok(seen.dest_a > 5 && seen.dest_b > 5);
});

Deno.test("per-destination aggregate: only that destination waits", async () => {
  const { c, def, d } = setup({}, {
    pipeline: [],
    destinations: [
      { destination_id: "dest_now" },
      {
        destination_id: "dest_batch",
        pipeline: [
          { type: "aggregate", name: "b", mode: "batch", max_wait_ms: 1000 },
          {
            type: "transform",
            operations: [{ op: "set", path: "$headers.x-batch", value: "yes" }],
          },
        ],
      },
    ],
  });
  const r = compileRoute(def);
  const out = await runRoute(r, event({ id: "e1", body: { a: 1 } }), d());
  assert.deepEqual(destinationsOf(out), ["dest_now"]);
  assert.equal(out.held, true);
  c.advance(1000);
  const [f] = await flushDue(r, d());
  assert.deepEqual(destinationsOf(f.outcome), ["dest_batch"]);
  assert.deepEqual(bodyOf(f.outcome), [{ a: 1 }]);
  assert.equal(f.outcome.deliveries[0].headers["x-batch"], "yes");
});

Deno.test("dry run never mutates aggregate state", async () => {
  for (
    const stage of [
      { mode: "dedupe", key: "k", window_ms: MIN },
      { mode: "count", window_ms: MIN },
      { mode: "count", window_ms: MIN, emit: "each" },
      { mode: "sum", window_ms: MIN, field: "n", emit: "each" },
      { mode: "collect", window_ms: MIN },
      { mode: "batch", max_count: 2 },
    ]
  ) {
    const { def, d, state } = setup(stage);
    const r = compileRoute({ ...(def as object), version: JSON.stringify(stage) } as never);
    await runRoute(r, event({ id: "seed", body: { k: 1, n: 1 } }), d());
    const before = state.size;
    const snapshot = JSON.stringify(await state.due("", Number.MAX_SAFE_INTEGER, 100));
    for (let i = 0; i < 3; i++) {
      await runRoute(r, event({ id: `dry${i}`, body: { k: 1, n: 2 } }), d({ dryRun: true }));
    }
    assert.equal(state.size, before, JSON.stringify(stage));
    assert.equal(JSON.stringify(await state.due("", Number.MAX_SAFE_INTEGER, 100)), snapshot);
  }
});

Deno.test("dry run reports what aggregation would do", async () => {
  const { def, d } = setup({ mode: "batch", max_count: 2 });
  const r = compileRoute(def);
  await runRoute(r, event({ id: "e1", body: { a: 1 } }), d());
  const dry = await runRoute(r, event({ id: "e2", body: { a: 2 } }), d({ dryRun: true }));
  assert.deepEqual(bodyOf(dry), [{ a: 1 }, { a: 2 }]);
  assert.match(dry.stages[0].note!, /would be emitted \(dry run\)/);
  assert.equal(dry.commit, undefined);
  const dd = setup({ mode: "dedupe", key: "k", window_ms: MIN });
  const rr = compileRoute(dd.def);
  await runRoute(rr, event({ id: "e1", body: { k: 1 } }), dd.d());
  const dup = await runRoute(rr, event({ id: "e2", body: { k: 1 } }), dd.d({ dryRun: true }));
  assert.match(dup.dropped!.reason, /duplicate key "1" \(first: e1\)/);
});

Deno.test("aggregate config checks", async () => {
  const { validateRouteDefinition } = await import("../../../core/pipeline/mod.ts");
  const check = (stage: unknown) => {
    const r = validateRouteDefinition({ id: "x", version: 1, pipeline: [stage], destinations: [] });
    return r.ok ? "" : r.issues.map((i) => `${i.path}: ${i.message}`).join("\n");
  };
  assert.match(
    check({ type: "aggregate", mode: "dedupe" }),
    /pipeline\[0\]\.key: key is required for mode dedupe/,
  );
  assert.match(
    check({ type: "aggregate", mode: "sum", window_ms: 1 }),
    /pipeline\[0\]\.field: field is required/,
  );
  assert.match(
    check({ type: "aggregate", mode: "batch" }),
    /mode batch needs max_count, max_wait_ms or both/,
  );
  assert.match(check({ type: "aggregate", mode: "average" }), /pipeline\[0\]\.mode/);
  assert.equal(check({ type: "aggregate", mode: "count", window_ms: 1000 }), "");
});
