/**
 * The Store contract on a real PostgreSQL (tests/peers/start.sh; POSTGRES_URL). Every store the
 * suite opens works in its own fresh schema (search_path), dropped when the store closes, so
 * parallel runs and reruns never see each other's rows.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { migratePostgres, openPostgresStore } from "../../adapters/store/postgres/store.ts";
import { openPostgres } from "../../adapters/store/postgres/client.ts";
import { MIGRATIONS } from "../../adapters/store/postgres/migrations.ts";
import { PgAggregateState } from "../../adapters/store/postgres/aggregate_state.ts";
import type { Store } from "../../core/store.ts";
import { mustPeer, needs } from "../helpers/peers.ts";
import { storeSuite } from "./store_suite.ts";
import { aggregateStateSuite } from "./aggregate_state_suite.ts";

const opts = needs("POSTGRES_URL");
const run = `er_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
let n = 0;

/** Runs one statement on a short-lived admin connection (no pool left behind). */
async function admin(text: string) {
  const sql = postgres(mustPeer("POSTGRES_URL"), { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(text);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** A store on a fresh schema of its own; closing it drops the schema. */
async function openFresh(): Promise<Store> {
  const schema = `${run}_${++n}`;
  await admin(`CREATE SCHEMA "${schema}"`);
  const s = await openPostgresStore(mustPeer("POSTGRES_URL"), { schema, max: 4 });
  return {
    ...s,
    async close() {
      try {
        await s.close();
      } finally {
        await admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
    },
  };
}

if (opts.ignore) {
  Deno.test({ name: "store postgres: conformance suites", ignore: true, fn() {} });
} else {
  storeSuite("postgres", openFresh);
  aggregateStateSuite("aggregate state postgres", async (now) => {
    const schema = `${run}_${++n}`;
    await admin(`CREATE SCHEMA "${schema}"`);
    const sql = openPostgres(mustPeer("POSTGRES_URL"), { schema, max: 2 });
    await migratePostgres(sql);
    return {
      state: new PgAggregateState(sql, now),
      async close() {
        try {
          await sql.end({ timeout: 5 });
        } finally {
          await admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        }
      },
    };
  });
}

Deno.test({
  name: "store postgres: the suite runs on the postgres driver",
  ...opts,
  async fn() {
    const s = await openFresh();
    try {
      assert.equal(s.kind, "postgres");
      assert.ok(s.pipelineState?.() instanceof PgAggregateState, "aggregation state on postgres");
      await s.migrate();
      await s.ping();
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "store postgres: nodes migrating at once apply each migration once",
  ...opts,
  async fn() {
    const schema = `${run}_${++n}`;
    await admin(`CREATE SCHEMA "${schema}"`);
    const stores = await Promise.all(
      [1, 2, 3, 4].map(() => openPostgresStore(mustPeer("POSTGRES_URL"), { schema, max: 2 })),
    );
    try {
      await Promise.all(stores.map((s) => s.migrate()));
      await stores[0].migrate();
      assert.equal(await stores[1].countUsers(), 0);
      const check = postgres(mustPeer("POSTGRES_URL"), { max: 1 });
      try {
        const rows = await check.unsafe(`SELECT id FROM "${schema}".schema_migrations`);
        assert.deepEqual(rows.map((r) => Number(r.id)), MIGRATIONS.map((m) => m.id));
      } finally {
        await check.end({ timeout: 5 });
      }
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  },
});

Deno.test({
  name: "store postgres: concurrent claims by several nodes never share a row",
  ...opts,
  async fn() {
    const s = await openFresh();
    const other = await openPostgresStore(mustPeer("POSTGRES_URL"), {
      schema: `${run}_${n}`,
      max: 4,
    });
    try {
      await s.migrate();
      const T0 = 1_700_000_000_000;
      const enc = new TextEncoder();
      const events = Array.from({ length: 200 }, (_, i) => ({
        id: `evt_claim_${i}`,
        tenant: "user_t",
        routeId: "route_1",
        source: "webhook",
        receivedAt: T0 + i,
        method: "POST",
        path: "/webhook/wh_x",
        query: "",
        ip: "127.0.0.1",
        headers: {},
        body: enc.encode(String(i)),
        planned: {
          status: "processed" as const,
          deliveries: [{
            id: `dlv_claim_${i}`,
            eventId: `evt_claim_${i}`,
            tenant: "user_t",
            routeId: "route_1",
            destinationId: "dest_1",
            body: enc.encode(String(i)),
            headers: {},
            nextAt: T0,
          }],
        },
      }));
      await s.accept(events);
      const claims = await Promise.all(
        Array.from(
          { length: 8 },
          (_, i) => (i % 2 ? other : s).claimDue(T0 + 1000, 40, `node-${i}`, 60_000),
        ),
      );
      const ids = claims.flat().map((d) => d.id);
      assert.equal(ids.length, 200, "every delivery claimed");
      assert.equal(new Set(ids).size, 200, "no delivery claimed twice");
      assert.ok(claims.every((c) => c.length <= 40), "each claim within its limit");
    } finally {
      await other.close();
      await s.close();
    }
  },
});

Deno.test({
  name: "store postgres: fallbacks and planned deliveries go in only with what they hang on",
  ...opts,
  async fn() {
    const s = await openFresh();
    try {
      await s.migrate();
      const T0 = 1_700_000_000_000;
      const body = new TextEncoder().encode("{}");
      const dlv = (id: string, eventId: string, destinationId: string) => ({
        id,
        eventId,
        tenant: "user_t",
        routeId: "route_1",
        destinationId,
        body,
        headers: { "x-id": id },
        nextAt: T0,
      });
      const ev = (id: string, dedupKey: string, deliveries: ReturnType<typeof dlv>[]) => ({
        id,
        tenant: "user_t",
        routeId: "route_1",
        source: "webhook",
        receivedAt: T0,
        method: "POST",
        path: "/webhook/wh_x",
        query: "",
        ip: "127.0.0.1",
        headers: {},
        body,
        dedupKey,
        planned: { status: "processed" as const, deliveries },
      });
      const r = await s.accept([
        ev("evt_a", "k", [dlv("dlv_a", "evt_a", "dest_1")]),
        ev("evt_b", "k", [dlv("dlv_b", "evt_b", "dest_1")]),
      ]);
      assert.deepEqual([...r.duplicates], [["evt_b", "evt_a"]]);
      const again = await s.accept([ev("evt_c", "k", [dlv("dlv_c", "evt_c", "dest_1")])]);
      assert.deepEqual([...again.duplicates], [["evt_c", "evt_a"]]);
      assert.deepEqual((await s.eventDeliveries("evt_a")).map((d) => d.id), ["dlv_a"]);
      assert.deepEqual(await s.eventDeliveries("evt_b"), [], "a duplicate brings no delivery");
      assert.deepEqual(await s.eventDeliveries("evt_c"), []);

      // A stale owner's dead settle with a fallback: nothing applies, no fallback inserted.
      assert.deepEqual((await s.claimDue(T0, 10, "old", 1000)).map((d) => d.id), ["dlv_a"]);
      assert.equal((await s.claimDue(T0 + 1001, 10, "new", 1000)).length, 1);
      const fb1 = dlv("dlv_fb1", "evt_a", "dest_fb");
      assert.deepEqual(
        await s.settle([{ id: "dlv_a", outcome: "dead", at: T0 + 1002, fallback: fb1 }], "old"),
        [],
      );
      assert.deepEqual((await s.eventDeliveries("evt_a")).map((d) => d.id), ["dlv_a"]);
      // The holder's dead settle: applied, its attempt logged, the fallback inserted.
      const fb2 = dlv("dlv_fb2", "evt_a", "dest_fb");
      assert.deepEqual(
        await s.settle([{
          id: "dlv_a",
          outcome: "dead",
          at: T0 + 1003,
          error: "gone",
          durationMs: 7,
          fallback: fb2,
        }], "new"),
        ["dlv_a"],
      );
      const ds = await s.eventDeliveries("evt_a");
      assert.deepEqual(ds.map((d) => [d.id, d.status]).sort(), [
        ["dlv_a", "dead"],
        ["dlv_fb2", "pending"],
      ]);
      const a = ds.find((d) => d.id === "dlv_a")!;
      assert.deepEqual(a.attemptLog.map((l) => [l.n, l.outcome, l.error, l.durationMs]), [
        [1, "dead", "gone", 7],
      ]);
      const fb = ds.find((d) => d.id === "dlv_fb2")!;
      assert.deepEqual(fb.body, body);
      assert.deepEqual(fb.headers, { "x-id": "dlv_fb2" });
      assert.equal(fb.createdAt, T0 + 1003);
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "aggregate state postgres: items keep their key order; one of many sealers wins",
  ...opts,
  async fn() {
    const s = await openFresh();
    const other = await openPostgresStore(mustPeer("POSTGRES_URL"), {
      schema: `${run}_${n}`,
      max: 4,
    });
    try {
      await s.migrate();
      const [a, b] = [s.pipelineState!(), other.pipelineState!()];
      const now = Date.now();
      await a.append("w", { id: "e1", value: 1.5, item: { z: 1, a: { y: 2, b: 3 } } }, { now });
      await b.append("w", { id: "e2", value: 2, item: [3, "x"] }, { now });
      const got = await a.bucket("w");
      assert.equal(JSON.stringify(got?.items), '[{"z":1,"a":{"y":2,"b":3}},[3,"x"]]');
      assert.equal(got?.sum, 3.5);
      const seals = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).seal("w", now, now + 60_000)),
      );
      const won = seals.filter((x) => x !== undefined);
      assert.equal(won.length, 1, "exactly one sealer gets the bucket");
      assert.equal(won[0]?.count, 2);
      assert.equal(await a.bucket("w"), undefined);
    } finally {
      await other.close();
      await s.close();
    }
  },
});
