/**
 * `deno task edge:cloudflare`: the Worker edge in workerd through miniflare (npm), locally on
 * PORT, with the edge variables from the environment as bindings and the Durable Object
 * storage persisted under EDGE_PERSIST_DIR (default ./data/edge-cloudflare), so a restart
 * keeps buffered events, as Cloudflare does.
 */
import { Miniflare } from "miniflare";
import { bundleForWorkerd } from "./build.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const VARS = [
  "FULL_NODE_URL",
  "EDGE_SECRET",
  "EDGE_ID",
  "ROUTES_REFRESH_SECONDS",
  "EDGE_BATCH_SIZE",
  "EDGE_RETRY_MAX_SECONDS",
  "EDGE_SHARDS",
  "LOG_LEVEL",
];

const env = Deno.env.toObject();
const persist = env.EDGE_PERSIST_DIR || `${ROOT}data/edge-cloudflare`;
// each edge builds its own bundle beside its storage: several may start at once (tests)
const scriptPath = `${persist}/bundle/worker.js`;
await bundleForWorkerd(`${ROOT}runtimes/cloudflare/worker.ts`, scriptPath);
const bindings = Object.fromEntries(
  VARS.filter((v) => env[v] !== undefined).map((v) => [v, env[v]]),
);
const mf = new Miniflare({
  modules: true,
  scriptPath,
  modulesRoot: `${persist}/bundle`,
  compatibilityDate: "2026-04-01",
  bindings,
  durableObjects: { EDGE_BUFFER: { className: "EdgeBuffer", useSQLite: true } },
  durableObjectsPersist: persist,
  host: env.HOST || "127.0.0.1",
  port: Number(env.PORT || 8787),
});
const url = await mf.ready;
console.error(JSON.stringify({ level: "info", msg: "edge listening (workerd)", url: String(url) }));
// wakes the buffers: one left with events by a stopped process schedules their forwarding
await (await mf.dispatchFetch(new URL("/health", url).href)).text();

const stop = async () => {
  await mf.dispose();
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
