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
