/**
 * The real router process on PostgreSQL (DATABASE_TYPE=postgres with the POSTGRES_* variables)
 * against a fresh database: first start migrates it, a webhook goes through to a `file`
 * destination, and the event and its delivery are rows in that database.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { apiClient, bootstrapAdmin, startRouter } from "../helpers/router_process.ts";
import { mustPeer, needs } from "../helpers/peers.ts";
import { freshDatabase } from "../helpers/fresh_database.ts";
import { startSink } from "../helpers/sink.ts";

const NEEDS = needs("POSTGRES_URL", "POSTGRES_HOST", "POSTGRES_USER", "POSTGRES_PASSWORD");

async function waitUntil(cond: () => Promise<boolean>, ms: number, what: string) {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

Deno.test({
  name: "the node runs on PostgreSQL: webhook -> file destination, rows in the database",
  ...NEEDS,
  async fn() {
    const fresh = await freshDatabase();
    const db = fresh.name;
    const dir = await Deno.makeTempDir({ prefix: "er-postgres-" });
    try {
      const router = await startRouter({
        dir,
        env: {
          DATABASE_TYPE: "postgres",
          POSTGRES_HOST: mustPeer("POSTGRES_HOST"),
          POSTGRES_PORT: mustPeer("POSTGRES_PORT"),
          POSTGRES_USER: mustPeer("POSTGRES_USER"),
          POSTGRES_PASSWORD: mustPeer("POSTGRES_PASSWORD"),
          POSTGRES_DB: db,
        },
      });
      try {
        const api = apiClient(router.url, await bootstrapAdmin(router.url));
        const out = `${dir}/out/orders.jsonl`;
        const dest = await api("POST", "/api/destinations", {
          name: "orders-file",
          type: "file",
          config: { path: out },
        });
        const route = await api<{ endpoint: string }>("POST", "/api/routes", {
          name: "orders",
          destinations: [{ destination_id: dest.id }],
        });
        const r = await fetch(`${router.url}${route.endpoint}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ order_id: 42, total: 19.99 }),
        });
        assert.equal(r.status, 202);
        const { id } = await r.json();
        await waitUntil(
          () => Deno.readTextFile(out).then((t) => t.trim() !== "", () => false),
          20_000,
          "the file destination's first line",
        );
        const rec = JSON.parse((await Deno.readTextFile(out)).trim().split("\n")[0]);
        assert.equal(rec.event_id, id);
        assert.deepEqual(JSON.parse(rec.body), { order_id: 42, total: 19.99 });

        const check = postgres(fresh.url, { max: 1 });
        try {
          const [ev] = await check`SELECT id, status FROM events WHERE id = ${id}`;
          assert.deepEqual({ ...ev }, { id, status: "processed" });
          await waitUntil(
            async () => {
              const ds = await check`SELECT status FROM deliveries WHERE event_id = ${id}`;
              return ds.length === 1 && ds[0].status === "delivered";
            },
            10_000,
            "the delivery row marked delivered",
          );
          const users = await check`SELECT username FROM users`;
          assert.deepEqual(users.map((u) => u.username), ["admin"]);
        } finally {
          await check.end({ timeout: 5 });
        }
      } finally {
        const status = await router.kill("SIGTERM");
        assert.equal(
          status.code,
          0,
          `clean shutdown exits 0; logs:\n${router.logs().slice(-2000)}`,
        );
      }
    } finally {
      await fresh.drop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "two nodes on one PostgreSQL database: each delivery published once, all delivered",
  ...NEEDS,
  async fn() {
    const fresh = await freshDatabase();
    const sink = await startSink();
    // One data folder for both: they share the JWT and encryption keys kept there.
    const env = { DATABASE_TYPE: "postgres", DATABASE_URL: fresh.url };
    const a = await startRouter({ env: { ...env, NODE_ID: "node-a" } });
    const b = await startRouter({ dir: a.dir, env: { ...env, NODE_ID: "node-b" } });
    try {
      const api = apiClient(a.url, await bootstrapAdmin(a.url));
      const dest = await api("POST", "/api/destinations", {
        name: "sink",
        type: "http",
        config: { url: `${sink.url}/in` },
      });
      const route = await api<{ endpoint: string }>("POST", "/api/routes", {
        name: "two-nodes",
        destinations: [{ destination_id: dest.id }],
      });
      const ids: string[] = [];
      await Promise.all(Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; i < 25; i++) {
          const r = await fetch(`${(i + w) % 2 ? a.url : b.url}${route.endpoint}`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ w, i }),
          });
          assert.equal(r.status, 202);
          ids.push((await r.json()).id);
        }
      }));
      assert.equal(new Set(ids).size, 200);
      await waitUntil(
        () => Promise.resolve(ids.every((id) => sink.events.has(id))),
        60_000,
        "all delivered",
      );
      const twice = [...sink.deliveries.entries()].filter(([, n]) => n > 1);
      assert.deepEqual(twice, [], "no delivery id published twice");
    } finally {
      const sa = await a.kill("SIGTERM");
      const sb = await b.kill("SIGTERM");
      await sink.stop();
      await fresh.drop();
      await Deno.remove(a.dir, { recursive: true }).catch(() => {});
      assert.equal(sa.code, 0, `node a exits 0; logs:\n${a.logs().slice(-2000)}`);
      assert.equal(sb.code, 0, `node b exits 0; logs:\n${b.logs().slice(-2000)}`);
    }
  },
});
