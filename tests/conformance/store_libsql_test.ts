/** The Store contract through @libsql/client on a local file (the driver for libSQL/Turso). */
import { openStore } from "../../adapters/store/sqlite/store.ts";
import { storeSuite } from "./store_suite.ts";

const dir = await Deno.makeTempDir({ prefix: "store-libsql-" });
let n = 0;

storeSuite("libsql", () => Promise.resolve(openStore({ url: `file:${dir}/${++n}.db` })));

globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(dir, { recursive: true });
  } catch { /* already gone */ }
});
