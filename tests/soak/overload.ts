/**
 * `deno task soak --overload`: the node at twice what it sustains. First the sustainable rate:
 * 10 s of wrk (64 connections) against a route with an HTTP sink, counted from the first
 * request until the sink has every acknowledged event (ingest and delivery together). Then an
 * open-loop load at twice that rate for 60 s (tests/soak/paced.lua: wrk on a clock, many
 * connections), sampling the router's resident memory. Reports the share of 503/429 answers,
 * the peak RSS (VmHWM), whether every 2xx reached the sink, and how soon a webhook is accepted
 * again once the load stops. Writes bench/results/overload-<time>.json.
 *   deno task soak --overload [--seconds=60] [--factor=2] [--connections=1000]
 */
import { apiClient, bootstrapAdmin, startRouter } from "../helpers/router_process.ts";
import { startSink } from "../helpers/sink.ts";
import { hmacHex } from "../helpers/sign.ts";

const arg = (name: string, def: number) =>
  Number(Deno.args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? def);
const SECONDS = arg("seconds", 60);
const FACTOR = arg("factor", 2);
const CONNECTIONS = arg("connections", 1000);
const SECRET = "overload-secret-0123456789abcdef";
/** Exactly 1 KiB of valid JSON. */
const BODY = (() => {
  const head = '{"action":"opened","pad":"';
  return head + "x".repeat(1024 - head.length - 2) + '"}';
})();
const PACED = new URL("./paced.lua", import.meta.url).pathname;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
const log = (m: string) => console.log(`[overload ${new Date().toISOString().slice(11, 19)}] ${m}`);

function memory(pid: number): { rss: number; hwm: number } {
  const s = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = (k: string) => Number(s.match(new RegExp(`${k}:\\s+(\\d+) kB`))?.[1] ?? 0) * 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

/** wrk: closed loop (`rate` unset) or paced at `rate` requests/s; 2xx event ids and statuses. */
async function wrk(
  url: string,
  seconds: number,
  connections: number,
  headers: string,
  rate?: number,
) {
  const dir = await Deno.makeTempDir({ prefix: "overload-wrk-" });
  const ids = `${dir}/ids`;
  const script = `${dir}/run.lua`;
  await Deno.writeTextFile(
    script,
    `RATE = ${rate ? rate / 2 : 1e9}\nIDS = ${JSON.stringify(ids)}\nBODY = ${
      JSON.stringify(BODY)
    }\ndofile(${JSON.stringify(PACED)})\n${headers}\n`,
  );
  try {
    const out = await new Deno.Command("wrk", {
      args: ["-t2", `-c${connections}`, `-d${seconds}s`, "--timeout", "10s", "-s", script, url],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (!out.success) throw new Error(`wrk failed: ${new TextDecoder().decode(out.stderr)}`);
    const statuses: Record<string, number> = {};
    for (const m of text.matchAll(/^status (\d+) (\d+)$/gm)) {
      statuses[m[1]] = (statuses[m[1]] ?? 0) + Number(m[2]);
    }
    const errs = text.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
    return {
      requests: Number(text.match(/(\d+) requests in/)?.[1] ?? 0),
      statuses,
      socketErrors: errs ? errs.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
      acked: (await Deno.readTextFile(ids)).split("\n").filter(Boolean),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function drained(seen: Map<string, number>, ids: string[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let missing = ids.filter((id) => !seen.has(id));
  while (missing.length && Date.now() < deadline) {
    await sleep(500);
    missing = missing.filter((id) => !seen.has(id));
  }
  return missing;
}

export async function runOverload() {
  log(`load average ${load()}`);
  const sink = await startSink();
  const router = await startRouter({ env: { LOG_LEVEL: "error" } });
  try {
    const api = apiClient(router.url, await bootstrapAdmin(router.url));
    const dest = await api<{ id: string }>("POST", "/api/destinations", {
      name: "overload-sink",
      type: "http",
      config: { url: `${sink.url}/in` },
    });
    const route = await api<{ endpoint: string }>("POST", "/api/routes", {
      name: "overload",
      destinations: [{ destination_id: dest.id }],
      signature_config: { enabled: true, preset: "github", secret: SECRET },
    });
    const hook = `${router.url}${route.endpoint}`;
    const sig = `wrk.headers["x-hub-signature-256"] = "sha256=${await hmacHex(SECRET, BODY)}"`;

    // The sustainable rate: accepted and delivered, first request to last delivery.
    const t0 = Date.now();
    const probe = await wrk(hook, 10, 64, sig);
    const lost0 = await drained(sink.events, probe.acked, 120_000);
    const sustained = probe.acked.length / ((Date.now() - t0) / 1000);
    if (lost0.length) throw new Error(`${lost0.length} acknowledged events never arrived`);
    const rate = Math.round(sustained * FACTOR);
    log(
      `sustainable ${sustained.toFixed(0)} events/s end to end; offering ${rate}/s for ` +
        `${SECONDS} s on ${CONNECTIONS} connections`,
    );

    const base = memory(router.child.pid);
    let peak = base.rss;
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, memory(router.child.pid).rss);
      } catch { /* exited */ }
    }, 250);
    const t1 = Date.now();
    const run = await wrk(hook, SECONDS, CONNECTIONS, sig, rate);
    const loadEnd = Date.now();
    clearInterval(sampler);
    const mem = memory(router.child.pid);
    // Recovers by itself: the first webhook accepted after the load stopped.
    let recoveredMs = -1;
    for (let i = 0; i < 600; i++) {
      const r = await fetch(hook, {
        method: "POST",
        body: BODY,
        headers: { "x-hub-signature-256": `sha256=${await hmacHex(SECRET, BODY)}` },
      }).catch(() => null);
      await r?.body?.cancel();
      if (r?.status === 202) {
        recoveredMs = Date.now() - loadEnd;
        break;
      }
      await sleep(100);
    }
    const lost = await drained(sink.events, run.acked, 300_000);
    const count = (p: (s: number) => boolean) =>
      Object.entries(run.statuses).filter(([s]) => p(Number(s))).reduce((a, [, n]) => a + n, 0);
    const answered = count(() => true);
    const shed = count((s) => s === 503 || s === 429);
    const result = {
      when: new Date().toISOString(),
      load_average: load(),
      sustainable_per_s: Math.round(sustained),
      offered_per_s: rate,
      seconds: SECONDS,
      connections: CONNECTIONS,
      sent: run.requests,
      sent_per_s: Math.round(run.requests / ((loadEnd - t1) / 1000)),
      statuses: run.statuses,
      socket_errors: run.socketErrors,
      accepted: run.acked.length,
      accepted_per_s: Math.round(run.acked.length / ((loadEnd - t1) / 1000)),
      shed_share: answered ? shed / answered : 0,
      rss_before_mb: Math.round(base.rss / 2 ** 20),
      rss_peak_sampled_mb: Math.round(peak / 2 ** 20),
      rss_peak_mb: Math.round(mem.hwm / 2 ** 20),
      recovered_ms: recoveredMs,
      lost: lost.length,
      drained_s: Math.round((Date.now() - loadEnd) / 1000),
    };
    console.log(
      `\noverload: offered ${rate}/s (${FACTOR}x the sustainable ${result.sustainable_per_s}/s) ` +
        `for ${SECONDS} s; sent ${result.sent} (${result.sent_per_s}/s), answered ` +
        `${JSON.stringify(run.statuses)}, socket errors ${run.socketErrors}\n` +
        `503/429 share ${(result.shed_share * 100).toFixed(1)}%; accepted ${result.accepted} ` +
        `(${result.accepted_per_s}/s); RSS ${result.rss_before_mb} MB before, peak ` +
        `${result.rss_peak_mb} MB; accepting again ${recoveredMs} ms after the load stopped; ` +
        `every 2xx delivered: ${lost.length === 0 ? "yes" : `NO, ${lost.length} lost`} ` +
        `(drained ${result.drained_s} s after the load)`,
    );
    return result;
  } finally {
    await router.kill("SIGTERM");
    await sink.stop();
    await Deno.remove(router.dir, { recursive: true }).catch(() => {});
  }
}
