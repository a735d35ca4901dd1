/**
 * The AggregateState contract (core/pipeline/aggregate_state.ts), run by the in-memory state
 * and by the SQL store's, so aggregation behaves the same wherever its state lives.
 */
import assert from "node:assert/strict";
import type { AggregateState } from "../../core/pipeline/aggregate_state.ts";

export function aggregateStateSuite(
  name: string,
  open: (now: () => number) => Promise<{ state: AggregateState; close(): Promise<void> }>,
) {
  const withState =
    (fn: (s: AggregateState, clock: { t: number }) => Promise<void>) => async () => {
      const clock = { t: 1_000_000 };
      const h = await open(() => clock.t);
      try {
        await fn(h.state, clock);
      } finally {
        await h.close();
      }
    };

  Deno.test(
    `${name}: values with expiry, setIfAbsent, delete`,
    withState(async (s, clock) => {
      assert.equal(await s.get("a"), undefined);
      await s.set("a", { x: 1 });
      assert.deepEqual(await s.get("a"), { x: 1 });
      assert.equal(await s.setIfAbsent("a", 2), false);
      assert.equal(await s.setIfAbsent("b", 2, clock.t + 100), true);
      assert.equal(await s.setIfAbsent("b", 3, clock.t + 100), false);
      clock.t += 100;
      assert.equal(await s.get("b"), undefined, "expired at expiresAt");
      assert.equal(await s.setIfAbsent("b", 4), true, "an expired key is absent");
      assert.equal(await s.get("b"), 4);
      await s.delete("a");
      assert.equal(await s.get("a"), undefined);
    }),
  );

  Deno.test(
    `${name}: append counts, sums, caps items, and is idempotent per id`,
    withState(
      async (s, clock) => {
        const o = { now: clock.t, dueAt: clock.t + 1000, maxItems: 2, meta: { route: "r" } };
        assert.deepEqual(await s.append("k", { id: "e1", value: 2, item: { n: 1 } }, o), {
          count: 1,
          sum: 2,
        });
        assert.deepEqual(await s.append("k", { id: "e2", value: 3, item: { n: 2 } }, o), {
          count: 2,
          sum: 5,
        });
        assert.deepEqual(await s.append("k", { id: "e2", value: 3, item: { n: 2 } }, o), {
          count: 2,
          sum: 5,
        }, "same id counts once");
        await s.append("k", { id: "e3", value: 1, item: { n: 3 } }, { ...o, dueAt: 5 });
        const b = await s.bucket("k");
        assert.ok(b);
        assert.equal(b.count, 3);
        assert.equal(b.sum, 6);
        assert.deepEqual(b.items, [{ n: 1 }, { n: 2 }], "items capped at maxItems");
        assert.equal(b.dueAt, clock.t + 1000, "dueAt kept from creation");
        assert.deepEqual(b.meta, { route: "r" });
        assert.equal(b.sealed, false);
        assert.equal(b.firstAt, clock.t);
      },
    ),
  );

  Deno.test(
    `${name}: due lists buckets by dueAt under a prefix`,
    withState(async (s, clock) => {
      const now = clock.t;
      await s.append("p:1", { id: "a" }, { now, dueAt: now + 20 });
      await s.append("p:2", { id: "a" }, { now, dueAt: now + 10 });
      await s.append("q:1", { id: "a" }, { now, dueAt: now });
      await s.append("p:3", { id: "a" }, { now, dueAt: null });
      assert.deepEqual(await s.due("p:", now + 5, 10), []);
      assert.deepEqual(await s.due("p:", now + 30, 10), ["p:2", "p:1"]);
      assert.deepEqual(await s.due("p:", now + 30, 1), ["p:2"]);
    }),
  );

  Deno.test(
    `${name}: seal moves the open bucket away, leases it, and re-leases after expiry`,
    withState(
      async (s, clock) => {
        const now = clock.t;
        await s.append("w", { id: "a", value: 1 }, { now, dueAt: now });
        const sealed = await s.seal("w", now, now + 500);
        assert.ok(sealed);
        assert.notEqual(sealed.key, "w");
        assert.equal(sealed.sealed, true);
        assert.equal(sealed.count, 1);
        assert.equal(sealed.dueAt, now + 500);
        assert.equal(await s.bucket("w"), undefined, "the key is free again");
        assert.deepEqual(await s.append("w", { id: "a", value: 1 }, { now }), { count: 1, sum: 1 });
        assert.equal(await s.seal(sealed.key, now + 100, now + 600), undefined, "still leased");
        assert.deepEqual(await s.due("w", now + 100, 10), []);
        assert.deepEqual(await s.due("w", now + 600, 10), [sealed.key], "lease ran out: due");
        const again = await s.seal(sealed.key, now + 600, now + 1100);
        assert.ok(again, "a dead emitter's bucket is re-leased to one caller");
        assert.equal(again.dueAt, now + 1100);
        assert.equal(await s.seal(sealed.key, now + 600, now + 1100), undefined);
        await s.delete(sealed.key);
        assert.equal(await s.bucket(sealed.key), undefined);
        assert.equal(await s.seal("missing", now, now + 1), undefined);
      },
    ),
  );

  Deno.test(
    `${name}: an expired bucket starts over on append`,
    withState(async (s, clock) => {
      const now = clock.t;
      await s.append("x", { id: "a", value: 5 }, { now, expiresAt: now + 10 });
      clock.t += 10;
      assert.equal(await s.bucket("x"), undefined);
      assert.deepEqual(await s.append("x", { id: "a", value: 1 }, { now: clock.t }), {
        count: 1,
        sum: 1,
      });
    }),
  );
}
