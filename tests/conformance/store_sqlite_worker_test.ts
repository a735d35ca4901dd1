/** The Store contract as the full node runs it: node:sqlite on its own thread (ticks). */
import assert from "node:assert/strict";
import { openStoreAsync } from "../../adapters/store/sqlite/store.ts";
import {
  openWorkerSqlite,
  startSqliteWorker,
} from "../../adapters/store/sqlite/worker_sqlite_client.ts";
import { storeSuite } from "./store_suite.ts";

const dir = await Deno.makeTempDir({ prefix: "store-sqlite-worker-" });
let n = 0;
// One thread for all the stores of this file, opened one after the other: `deno test` would
// type-check the worker's modules again for every new one (seconds each).
const worker = startSqliteWorker();

storeSuite("node:sqlite worker", () => openStoreAsync({ path: `${dir}/${++n}.db`, worker }));

Deno.test("sqlite worker: calls made together share a tick; one failing call fails alone", async () => {
  const c = await openWorkerSqlite({ path: `${dir}/${++n}.db` }, worker);
  try {
    await c.exec("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)");
    const before = c.stats().ticks;
    const results = await Promise.allSettled([
      c.run("INSERT INTO t VALUES ('a', 1)"),
      c.batch([
        { sql: "INSERT INTO t VALUES ('b', 2)" },
        { sql: "INSERT INTO t VALUES ('a', 3)" }, // conflicts: this whole batch rolls back
      ]),
      c.run("INSERT INTO t VALUES ('c', 3)"),
      c.all<{ k: string }>("SELECT k FROM t ORDER BY k"),
    ]);
    assert.equal(c.stats().ticks - before, 1, "one tick for the four calls");
    assert.equal(results[0].status, "fulfilled");
    assert.equal(results[1].status, "rejected");
    assert.match(String((results[1] as PromiseRejectedResult).reason), /UNIQUE/);
    assert.equal(results[2].status, "fulfilled");
    assert.deepEqual(
      (results[3] as PromiseFulfilledResult<{ k: string }[]>).value.map((r) => r.k),
      ["a", "c"],
      "a read in the tick sees the writes before it, not the rolled-back batch",
    );
    assert.deepEqual((await c.all<{ k: string }>("SELECT k FROM t ORDER BY k")).map((r) => r.k), [
      "a",
      "c",
    ]);
  } finally {
    await c.close();
  }
});

globalThis.addEventListener("unload", () => {
  worker.terminate();
  try {
    Deno.removeSync(dir, { recursive: true });
  } catch { /* already gone */ }
});
