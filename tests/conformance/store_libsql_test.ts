/** The Store contract through @libsql/client on a local file (the driver for libSQL/Turso). */
import assert from "node:assert/strict";
import { openStore } from "../../adapters/store/sqlite/store.ts";
import { storeSuite } from "./store_suite.ts";

const dir = await Deno.makeTempDir({ prefix: "store-libsql-" });
let n = 0;

storeSuite("libsql", () => Promise.resolve(openStore({ url: `file:${dir}/${++n}.db` })));

Deno.test("store libsql: the suite runs on the libsql driver", async () => {
  const s = openStore({ url: `file:${dir}/${++n}.db` });
  try {
    assert.equal(s.kind, "libsql");
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
