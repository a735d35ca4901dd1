/**
 * `deno task bench --edge`: requests/s at each edge against the same edge runtime serving a
 * bare 202, side by side in one run: Deno.serve with Deploy's flags vs the Deploy entry, and a
 * bare Worker vs the edge Worker, both in workerd through miniflare. The edges accept into
 * their durable buffer (KV commit, Durable Object write) before each 202 and forward to a
 * real full node meanwhile, on the same machine.
 */
import { Miniflare } from "miniflare";
import {
  apiClient,
  bootstrapAdmin,
  DENO,
  freePort,
  startRouter,
} from "../helpers/router_process.ts";
import { deployCommand, type EdgeKind, startEdge } from "../helpers/edge_process.ts";
import type { WrkResult } from "./run.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const SECRET = "bench-edge-secret-0123456789abcdefghij";

async function waitUp(url: string) {
  for (let i = 0; i < 400; i++) {
    const ok = await fetch(url, { method: "POST", body: "{}" }).then(
      (r) => (r.body?.cancel(), true),
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not come up`);
}

async function bareDeploy(wrk: (url: string) => Promise<WrkResult>): Promise<WrkResult> {
  const dir = await Deno.makeTempDir({ prefix: "bench-bare-deploy-" });
  const port = freePort();
  const args = deployCommand(dir);
  args[args.length - 1] = `${ROOT}tests/bench/bare_server.ts`;
  const child = new Deno.Command(DENO, { args: [...args, String(port)], stdout: "null" }).spawn();
  try {
    await waitUp(`http://127.0.0.1:${port}/`);
    return await wrk(`http://127.0.0.1:${port}/`);
  } finally {
    child.kill("SIGKILL");
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
}

async function bareWorker(wrk: (url: string) => Promise<WrkResult>): Promise<WrkResult> {
  const mf = new Miniflare({
    modules: true,
    scriptPath: `${ROOT}tests/bench/bare_worker.js`,
    modulesRoot: `${ROOT}tests/bench`,
    compatibilityDate: "2026-04-01",
    host: "127.0.0.1",
    port: freePort(),
  });
  try {
    const url = String(await mf.ready);
    await waitUp(url);
    return await wrk(url);
  } finally {
    await mf.dispose();
  }
}

async function edgeIngress(
  kind: EdgeKind,
  nodeUrl: string,
  endpoint: string,
  wrk: (url: string) => Promise<WrkResult>,
): Promise<WrkResult> {
  const edge = await startEdge(kind, {
    fullNodeUrl: nodeUrl,
    secret: SECRET,
    env: { LOG_LEVEL: "error" },
  });
  try {
    await waitUp(`${edge.url}${endpoint}`);
    return await wrk(`${edge.url}${endpoint}`);
  } finally {
    await edge.kill();
    await Deno.remove(edge.dir, { recursive: true }).catch(() => {});
  }
}

export async function runEdgeBench(wrk: (url: string) => Promise<WrkResult>) {
  const node = await startRouter({ env: { LOG_LEVEL: "error", EDGE_SECRET: SECRET } });
  const results: Record<string, unknown> = {};
  try {
    const api = apiClient(node.url, await bootstrapAdmin(node.url));
    const route = await api<{ endpoint: string }>("POST", "/api/routes", { name: "bench-edge" });
    const line = (name: string, r: WrkResult, bare?: WrkResult) =>
      console.log(
        `${name.padEnd(24)} ${r.rps.toFixed(0)} req/s  p50 ${r.p50ms.toFixed(2)} ms  p99 ${
          r.p99ms.toFixed(2)
        } ms` + (bare ? `  ratio ${(r.rps / bare.rps * 100).toFixed(1)}% of bare` : "") +
          (r.non2xx ? `  non-2xx ${r.non2xx}` : ""),
      );
    const pairs: [EdgeKind, (w: typeof wrk) => Promise<WrkResult>][] = [
      ["deploy", bareDeploy],
      ["cloudflare", bareWorker],
    ];
    for (const [kind, bareRun] of pairs) {
      const bare = await bareRun(wrk);
      line(`${kind} bare 202`, bare);
      const edge = await edgeIngress(kind, node.url, route.endpoint, wrk);
      line(`${kind} edge ingress`, edge, bare);
      results[kind] = { bare, edge: { ...edge, ratio_to_bare: edge.rps / bare.rps } };
    }
  } finally {
    await node.kill("SIGTERM");
    await Deno.remove(node.dir, { recursive: true }).catch(() => {});
  }
  return results;
}
