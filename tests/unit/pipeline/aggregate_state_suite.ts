/**
 * The AggregateState contract as tests. MemoryState runs it here; the SQL store implementation
 * runs the same suite: `aggregateStateSuite("libsql", (now) => makeStoreState(now))`.
 */
import assert from "node:assert/strict";
import type { AggregateState } from "../../../core/pipeline/aggregate_state.ts";

export function aggregateStateSuite(
  name: string,
  make: (now: () => number) => AggregateState | Promise<AggregateState>,
): void {
  const setup = async () => {
    let t = 1_000_000;
    const clock = { now: () => t, set: (v: number) => void (t = v) };
    return { state: await make(clock.now), clock };
  };

  Deno.test(`${name}: values get/set/delete with expiry`, async () => {
    const { state, clock } = await setup();
    assert.equal(await state.get("a"), undefined);
    await state.set("a", { n: 1, list: [1, 2] });
    assert.deepEqual(await state.get("a"), { n: 1, list: [1, 2] });
    await state.set("b", "x", clock.now() + 100);
    assert.equal(await state.get("b"), "x");
    clock.set(clock.now() + 100);
    assert.equal(await state.get("b"), undefined, "expired at expiresAt");
    await state.delete("a");
    await state.delete("never-existed");
    assert.equal(await state.get("a"), undefined);
  });

  Deno.test(`${name}: stored values are copies`, async () => {
    const { state } = await setup();
    const v = { n: 1 };
    await state.set("k", v);
    v.n = 2;
    const got = await state.get("k") as { n: number };
    assert.equal(got.n, 1);
    got.n = 3;
    assert.deepEqual(await state.get("k"), { n: 1 });
  });

  Deno.test(`${name}: setIfAbsent is atomic and honours expiry`, async () => {
    const { state, clock } = await setup();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => state.setIfAbsent("k", i, clock.now() + 50)),
    );
    assert.equal(results.filter(Boolean).length, 1);
    assert.equal(await state.setIfAbsent("k", "again", clock.now() + 50), false);
    clock.set(clock.now() + 50);
    assert.equal(await state.setIfAbsent("k", "later"), true);
    assert.equal(await state.get("k"), "later");
  });

  Deno.test(`${name}: append counts, sums, caps items, is idempotent per id`, async () => {
    const { state, clock } = await setup();
    const now = clock.now();
    const opts = { now, dueAt: now + 1000, maxItems: 2, meta: { m: 1 } };
    assert.deepEqual(await state.append("b1", { id: "e1", value: 2, item: "a" }, opts), {
      count: 1,
      sum: 2,
    });
    await state.append("b1", { id: "e2", value: 3, item: "b" }, { ...opts, meta: { m: 2 } });
    await state.append("b1", { id: "e3", value: 4, item: "c" }, opts);
    assert.deepEqual(await state.append("b1", { id: "e2", value: 3, item: "b" }, opts), {
      count: 3,
      sum: 9,
    });
    const b = (await state.bucket("b1"))!;
    assert.equal(b.count, 3);
    assert.equal(b.sum, 9);
    assert.deepEqual(b.items, ["a", "b"]);
    assert.deepEqual(b.meta, { m: 1 }, "meta from the creating append");
    assert.equal(b.dueAt, now + 1000);
    assert.equal(b.firstAt, now);
    assert.equal(b.sealed, false);
    assert.equal(await state.bucket("nope"), undefined);
  });

  Deno.test(`${name}: concurrent appends lose nothing`, async () => {
    const { state, clock } = await setup();
    await Promise.all(
      Array.from(
        { length: 50 },
        (_, i) => state.append("c", { id: `e${i}`, value: 1, item: i }, { now: clock.now() }),
      ),
    );
    const b = (await state.bucket("c"))!;
    assert.equal(b.count, 50);
    assert.equal(b.items.length, 50);
  });

  Deno.test(`${name}: buckets without dueAt expire and are never due`, async () => {
    const { state, clock } = await setup();
    await state.append("run:x", { id: "e1" }, {
      now: clock.now(),
      dueAt: null,
      expiresAt: clock.now() + 10,
    });
    assert.deepEqual(await state.due("run:", clock.now() + 5, 10), []);
    clock.set(clock.now() + 10);
    assert.equal(await state.bucket("run:x"), undefined);
    const t = await state.append("run:x", { id: "e1" }, { now: clock.now(), dueAt: null });
    assert.equal(t.count, 1, "an expired bucket starts over");
  });

  Deno.test(`${name}: due lists by prefix, oldest first, with a limit`, async () => {
    const { state, clock } = await setup();
    const now = clock.now();
    await state.append("agg:r1:b", { id: "1" }, { now, dueAt: now + 30 });
    await state.append("agg:r1:a", { id: "1" }, { now, dueAt: now + 10 });
    await state.append("agg:r1:c", { id: "1" }, { now, dueAt: now + 99 });
    await state.append("agg:r2:a", { id: "1" }, { now, dueAt: now });
    assert.deepEqual(await state.due("agg:r1:", now + 50, 10), ["agg:r1:a", "agg:r1:b"]);
    assert.deepEqual(await state.due("agg:r1:", now + 50, 1), ["agg:r1:a"]);
    assert.deepEqual(await state.due("agg:r1:", now, 10), []);
  });

  Deno.test(`${name}: seal closes a bucket, frees its key, leases it`, async () => {
    const { state, clock } = await setup();
    const now = clock.now();
    await state.append("agg:r:k", { id: "e1", item: 1 }, { now, dueAt: now });
    const sealed = (await state.seal("agg:r:k", now, now + 100))!;
    assert.notEqual(sealed.key, "agg:r:k");
    assert.ok(sealed.key.startsWith("agg:r:k"), "sealed keys stay under the prefix");
    assert.equal(sealed.sealed, true);
    assert.equal(sealed.dueAt, now + 100);
    assert.deepEqual(sealed.items, [1]);
    // the original key starts a fresh bucket
    const t = await state.append("agg:r:k", { id: "e1", item: 2 }, { now, dueAt: now + 500 });
    assert.equal(t.count, 1);
    // leased: not due, cannot be sealed again
    assert.deepEqual(await state.due("agg:r:", now + 50, 10), []);
    assert.equal(await state.seal(sealed.key, now + 50, now + 150), undefined);
    // after the lease: due again, and re-sealing extends the lease
    assert.deepEqual(await state.due("agg:r:", now + 100, 10), [sealed.key]);
    const again = (await state.seal(sealed.key, now + 100, now + 300))!;
    assert.equal(again.key, sealed.key);
    assert.equal(again.dueAt, now + 300);
    await state.delete(sealed.key);
    assert.equal(await state.bucket(sealed.key), undefined);
    assert.equal(await state.seal("absent", now, now + 1), undefined);
  });

  Deno.test(`${name}: two sealers, one winner`, async () => {
    const { state, clock } = await setup();
    const now = clock.now();
    await state.append("agg:r:z", { id: "e1" }, { now, dueAt: now });
    const [a, b] = await Promise.all([
      state.seal("agg:r:z", now, now + 100),
      state.seal("agg:r:z", now, now + 100),
    ]);
    assert.equal([a, b].filter(Boolean).length, 1);
  });
}
