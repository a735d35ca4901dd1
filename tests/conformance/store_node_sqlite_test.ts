/** The Store contract on the embedded default: Deno's built-in node:sqlite over a temp file. */
import { openStore } from "../../adapters/store/sqlite/store.ts";
import { storeSuite } from "./store_suite.ts";

const dir = await Deno.makeTempDir({ prefix: "store-node-sqlite-" });
let n = 0;

storeSuite("node:sqlite", () => Promise.resolve(openStore({ path: `${dir}/${++n}.db` })));

globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(dir, { recursive: true });
  } catch { /* already gone */ }
});
