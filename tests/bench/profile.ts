/**
 * Where the time goes: the router process under wrk (64 connections, 1 KiB bodies), with the
 * CPU each of its threads used per request (from /proc/<pid>/task/<tid>/schedstat, so a loaded
 * machine inflates it far less than wall-clock figures), the same for a bare Deno.serve in the
 * same run, and with `--cpu-prof` the functions that took the most of the main and the SQLite
 * threads' samples (self and inclusive):
 *   deno run -A tests/bench/profile.ts [ingest|e2e|bare] [--seconds=10] [--cpu-prof] [--top=40]
 *     [--env=NAME=value,...]
 * `ingest` posts to a route without destinations, `e2e` to one with an HTTP destination (a sink
 * in this process; its CPU is not counted), reported over the run and again once every
 * accepted event reached the sink. Prints the router's /metrics stage histograms too.
 */
import {
  apiClient,
  bootstrapAdmin,
  DENO,
  freePort,
  START_FLAGS,
} from "../helpers/router_process.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const arg = (name: string) => Deno.args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const mode = Deno.args.find((a) => !a.startsWith("--")) ?? "ingest";
const seconds = Number(arg("seconds") ?? 10);
const top = Number(arg("top") ?? 40);
const profiling = Deno.args.includes("--cpu-prof");
const extraEnv = Object.fromEntries(
  (Deno.args.find((a) => a.startsWith("--env="))?.slice(6) ?? "").split(",").filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
);
/** Exactly 1 KiB of valid JSON. */
const BODY = (() => {
  const head = '{"action":"opened","pad":"';
  return head + "x".repeat(1024 - head.length - 2) + '"}';
})();

/** CPU nanoseconds per thread of `pid`, by thread name (tokio and V8 workers summed by kind). */
export function threadCpu(pid: number): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const comm = Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/comm`).trim();
      const ns = Number(
        Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/schedstat`).split(" ")[0],
      );
      const kind = comm === "deno" && Number(t.name) === pid
        ? "main"
        : comm.replace(/[-#\d]+$/, "");
      m.set(kind, (m.get(kind) ?? 0) + ns);
    } catch { /* the thread ended */ }
  }
  return m;
}

function cpuReport(before: Map<string, number>, after: Map<string, number>, requests: number) {
  const rows: string[] = [];
  let total = 0;
  for (const [k, v] of [...after].sort((a, b) => b[1] - a[1])) {
    const d = v - (before.get(k) ?? 0);
    total += d;
    if (d > 1e6) {
      rows.push(`  ${k.padEnd(18)} ${(d / 1e3 / requests).toFixed(1).padStart(7)} µs/req`);
    }
  }
  rows.push(
    `  ${"all threads".padEnd(18)} ${(total / 1e3 / requests).toFixed(1).padStart(7)} µs/req`,
  );
  return { text: rows.join("\n"), perRequestUs: total / 1e3 / requests };
}

async function wrk(url: string) {
  const lua = await Deno.makeTempFile({ suffix: ".lua" });
  await Deno.writeTextFile(
    lua,
    `wrk.method="POST"\nwrk.body=${JSON.stringify(BODY)}\n` +
      `wrk.headers["content-type"]="application/json"\n`,
  );
  const out = await new Deno.Command("wrk", {
    args: ["-t2", "-c64", `-d${seconds}s`, "--latency", "-s", lua, url],
    stdout: "piped",
  }).output();
  await Deno.remove(lua);
  const text = new TextDecoder().decode(out.stdout);
  return {
    text,
    requests: Number(text.match(/(\d+) requests in/)?.[1] ?? 0),
    non2xx: Number(text.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0),
    rps: Number(text.match(/Requests\/sec:\s+([\d.]+)/)?.[1] ?? 0),
  };
}

async function waitUp(url: string, method = "GET") {
  for (let i = 0; i < 300; i++) {
    try {
      const r = await fetch(url, { method, body: method === "POST" ? "{}" : undefined });
      await r.body?.cancel();
      if (r.ok || method === "POST") return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

async function bare() {
  const port = freePort();
  const child = new Deno.Command(DENO, {
    args: ["run", "--allow-net", `${ROOT}tests/bench/bare_server.ts`, String(port)],
    stdout: "null",
  }).spawn();
  try {
    await waitUp(`http://127.0.0.1:${port}/`, "POST");
    const before = threadCpu(child.pid);
    const w = await wrk(`http://127.0.0.1:${port}/`);
    const cpu = cpuReport(before, threadCpu(child.pid), w.requests);
    console.log(`bare Deno.serve: ${w.rps.toFixed(0)} req/s\n${cpu.text}`);
    return { rps: w.rps, cpu_us_per_request: cpu.perRequestUs };
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
}

/** Self and inclusive time per function of one .cpuprofile, idle left out. */
function summarize(file: string) {
  const p = JSON.parse(Deno.readTextFileSync(file)) as {
    nodes: {
      id: number;
      callFrame: { functionName: string; url: string; lineNumber: number };
      children?: number[];
    }[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const dt = new Map<number, number>();
  p.samples.forEach((s, i) => dt.set(s, (dt.get(s) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const name = (id: number) => {
    const cf = byId.get(id)!.callFrame;
    const where = cf.url.replace(/.*node_modules\//, "npm:").replace(`file://${ROOT}`, "");
    return `${cf.functionName || "(anonymous)"} ${where}:${cf.lineNumber}`;
  };
  const self = new Map<string, number>(), incl = new Map<string, number>();
  let busy = 0;
  for (const [id, t] of dt) {
    if (byId.get(id)!.callFrame.functionName === "(idle)") continue;
    busy += t;
    self.set(name(id), (self.get(name(id)) ?? 0) + t);
    const seen = new Set<string>();
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
      const k = name(x);
      if (!seen.has(k)) (seen.add(k), incl.set(k, (incl.get(k) ?? 0) + t));
    }
  }
  const list = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) =>
      `  ${(v / 1e3).toFixed(0).padStart(7)} ms ${(v / busy * 100).toFixed(1).padStart(5)}%  ${k}`
    ).join("\n");
  return `busy ${(busy / 1e3).toFixed(0)} ms\n self:\n${list(self)}\n inclusive:\n${list(incl)}`;
}

async function router() {
  const dir = await Deno.makeTempDir({ prefix: "er-profile-" });
  const port = freePort();
  const args = [...START_FLAGS];
  if (profiling) args.splice(1, 0, "--cpu-prof", `--cpu-prof-dir=${dir}/prof`);
  const child = new Deno.Command(DENO, {
    args,
    cwd: ROOT,
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_PATH: `${dir}/event-router.db`,
      LOG_LEVEL: "error",
      ALLOW_PRIVATE_NETWORKS: "true",
      ...extraEnv,
    },
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  let sink: Deno.HttpServer | null = null;
  try {
    await waitUp(`${url}/health`);
    const api = apiClient(url, await bootstrapAdmin(url));
    let delivered = 0;
    let route: Record<string, unknown> = { name: "profile" };
    if (mode === "e2e") {
      sink = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
        await req.arrayBuffer();
        delivered++;
        return new Response(null, { status: 200 });
      });
      const d = await api("POST", "/api/destinations", {
        name: "sink",
        type: "http",
        config: { url: `http://127.0.0.1:${(sink.addr as Deno.NetAddr).port}/in` },
      });
      route = { name: "profile", destinations: [{ destination_id: d.id }] };
    }
    const { endpoint } = await api<{ endpoint: string }>("POST", "/api/routes", route);
    const before = threadCpu(child.pid);
    const w = await wrk(`${url}${endpoint}`);
    const cpu = cpuReport(before, threadCpu(child.pid), w.requests);
    console.log(w.text);
    console.log(
      `router ${mode}: ${w.rps.toFixed(0)} req/s` +
        (mode === "e2e" ? `, ${delivered} delivered during the run` : "") + `\n${cpu.text}`,
    );
    if (mode === "e2e") {
      // Deliveries lag the door: CPU per event counts only once every accepted event arrived,
      // so a client that accepts faster by delivering slower does not look cheaper.
      const accepted = w.requests - w.non2xx;
      const deadline = Date.now() + 120_000;
      while (delivered < accepted && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const drained = cpuReport(before, threadCpu(child.pid), accepted);
      console.log(
        `until all ${accepted} accepted were delivered (${delivered} arrived), per event:\n` +
          drained.text,
      );
    }
    const metrics = await (await fetch(`${url}/metrics`)).text();
    console.log(
      metrics.split("\n").filter((l) =>
        /^event_router_(ingest|journal|store|dispatch|publish|group)/.test(l) && !/_bucket/.test(l)
      ).join("\n"),
    );
    return { rps: w.rps, cpu_us_per_request: cpu.perRequestUs };
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await sink?.shutdown();
    if (profiling) {
      for (const f of [...Deno.readDirSync(`${dir}/prof`)].map((e) => e.name).sort()) {
        console.log(`\n== ${f.includes("worker") ? "worker thread" : "main thread"} (${f})`);
        console.log(summarize(`${dir}/prof/${f}`));
      }
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const load = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  console.log(`load average ${load()}`);
  const b = await bare();
  if (mode !== "bare") {
    const r = await router();
    console.log(
      `\n${mode}: ${(r.rps / b.rps * 100).toFixed(1)}% of bare req/s; CPU per request ` +
        `${(r.cpu_us_per_request / b.cpu_us_per_request).toFixed(1)}x bare's ` +
        `(${r.cpu_us_per_request.toFixed(0)} vs ${b.cpu_us_per_request.toFixed(0)} µs)`,
    );
  }
  console.log(`load average ${load()}`);
}
