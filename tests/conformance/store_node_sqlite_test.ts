/** The Store contract on the embedded default: Deno's built-in node:sqlite over a temp file. */
import assert from "node:assert/strict";
import { openStore } from "../../adapters/store/sqlite/store.ts";
import { storeSuite } from "./store_suite.ts";

const dir = await Deno.makeTempDir({ prefix: "store-node-sqlite-" });
let n = 0;

storeSuite("node:sqlite", () => Promise.resolve(openStore({ path: `${dir}/${++n}.db` })));

Deno.test("store node-sqlite: the suite runs on the node-sqlite driver", async () => {
  const s = openStore({ path: `${dir}/${++n}.db` });
  try {
    assert.equal(s.kind, "node-sqlite");
    await s.migrate();
    await s.ping();
  } finally {
    await s.close();
  }
});

globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(dir, { recursive: true });
  } catch { /* already gone */ }
});

Deno.test("node-sqlite client: savepoint undo stays in memory (no sub-journal temp files)", async () => {
  const { openNodeSqlite } = await import("../../adapters/store/sqlite/node_sqlite_client.ts");
  const db = openNodeSqlite({ path: `${dir}/${++n}.db` });
  try {
    const [row] = await db.all<{ temp_store: number }>("PRAGMA temp_store");
    assert.equal(Number(row.temp_store), 2, "PRAGMA temp_store = MEMORY");
    // The tick's shape still works: savepoints inside one transaction, one rolled back alone.
    await db.exec("CREATE TABLE t (k INTEGER PRIMARY KEY)");
    const out = await db.together([
      () => db.run("INSERT INTO t VALUES (1)"),
      () => db.run("INSERT INTO t VALUES (1)"),
      () => db.run("INSERT INTO t VALUES (2)"),
    ]);
    assert.deepEqual(out.map((o) => o.ok), [true, false, true]);
    assert.deepEqual((await db.all<{ k: number }>("SELECT k FROM t ORDER BY k")).map((r) => r.k), [
      1,
      2,
    ]);
  } finally {
    await db.close();
  }
});
