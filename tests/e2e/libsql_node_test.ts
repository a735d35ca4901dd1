/**
 * The full node on the libSQL driver (`DATABASE_URL=file:…`, the same `@libsql/client` code a
 * `libsql://` server uses): a webhook goes through to a file destination, and /health names
 * the store.
 */
import assert from "node:assert/strict";
import { apiClient, bootstrapAdmin, startRouter } from "../helpers/router_process.ts";
import { until } from "../helpers/until.ts";

Deno.test("the node on DATABASE_URL=file: (libSQL client): webhook -> file, delivered", async () => {
  const dir = await Deno.makeTempDir({ prefix: "er-libsql-" });
  const router = await startRouter({
    dir,
    env: { DATABASE_URL: `file:${dir}/store.db`, DATA_DIR: dir },
  });
  try {
    const token = await bootstrapAdmin(router.url);
    const api = apiClient(router.url, token);
    const out = `${dir}/out.jsonl`;
    const dest = await api("POST", "/api/destinations", {
      name: "f",
      type: "file",
      config: { path: out },
    });
    const route = await api<{ endpoint: string }>("POST", "/api/routes", {
      name: "in",
      destinations: [{ destination_id: dest.id }],
    });
    const r = await fetch(`${router.url}${route.endpoint}`, { method: "POST", body: '{"a":1}' });
    assert.equal(r.status, 202);
    const { id } = await r.json();
    await until("the delivery", async () => {
      const e = await api<{ deliveries: { status: string }[] }>("GET", `/api/events/${id}`);
      return e.deliveries[0]?.status === "delivered";
    }, 15_000);
    assert.equal(JSON.parse(await Deno.readTextFile(out)).body, '{"a":1}');
    const h = await api<{ store: { kind: string } }>("GET", "/health?verbose=true");
    assert.equal(h.store.kind, "libsql");
    assert.ok((await Deno.stat(`${dir}/store.db`)).size > 0, "the file holds the store");
  } finally {
    await router.kill();
    await Deno.remove(dir, { recursive: true });
  }
});
