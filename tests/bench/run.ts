/**
 * `deno task bench`: side-by-side throughput on this machine, in one run, so ratios survive a
 * noisy shared host. Each scenario is driven by wrk (64 connections, 1 KiB POST body) against:
 *   bare      a bare Deno.serve answering 202 (the ceiling)
 *   floor     the same plus the router's journal append (group commit, write + fdatasync)
 *             before the 202 and nothing else: what any durable ingest pays here
 *   ingest    the router's durable ingest (committed before 202), route with no destination
 *   verified  the same with GitHub-style HMAC verification on the route
 *   e2e       ingest with an HTTP destination: requests/s at the door plus delivered/s at a sink
 *   e2e floor the journal floor POSTing each durable body to a sink over undici: the least any
 *             durable webhook -> HTTP path costs here (the e2e goal row's ceiling)
 *   front     ingest through the node's head-guarding TCP front (the default) against the same
 *             node with HEADER_TIMEOUT_MS=0 (Deno.serve alone), alternating runs
 * Prints a table and writes JSON to bench/results/. `--quick` runs 3 s per scenario (CI smoke).
 * `--edge` runs tests/bench/edge.ts instead: each edge runtime against the same runtime
 * serving a bare 202.
 * `--brokers[=rabbitmq,kafka,...]` adds tests/bench/brokers.ts (raw client vs router per broker,
 * about 2-3 minutes more, so not in a plain run). `--consumers[=redis,kafka,...]` adds
 * tests/bench/consumers.ts (raw consume rate vs broker-to-committed-event rate per broker).
 */
import { apiClient, bootstrapAdmin, freePort, startRouter } from "../helpers/router_process.ts";
import { startSink } from "../helpers/sink.ts";
import { benchPipeline } from "../unit/pipeline/pipeline_bench.ts";
import { hmacHex } from "../helpers/sign.ts";
import { type BrokerResult, runBrokerBench, wantsBrokers } from "./brokers.ts";
import { runConsumerBench, wantsConsumers } from "./consumers.ts";
import { runEdgeBench } from "./edge.ts";

const quick = Deno.args.includes("--quick");
const seconds = Number(
  Deno.args.find((a) => a.startsWith("--seconds="))?.split("=")[1] ?? (quick ? 3 : 10),
);
const connections = Number(
  Deno.args.find((a) => a.startsWith("--connections="))?.split("=")[1] ?? 64,
);
const only = Deno.args.find((a) => a.startsWith("--only="))?.split("=")[1]?.split(",");
const ROOT = new URL("../../", import.meta.url).pathname;

const BODY = JSON.stringify({
  action: "opened",
  repository: { full_name: "acme/widgets", id: 1296269 },
  pad: "x".repeat(1024 - 90),
}).slice(0, 1024);

export interface WrkResult {
  rps: number;
  p50ms: number;
  p99ms: number;
  requests: number;
  errors: number;
  non2xx: number;
}

function ms(v: string, unit: string) {
  const n = Number(v);
  return unit === "us" ? n / 1000 : unit === "s" ? n * 1000 : n;
}

export async function wrk(url: string, headers: Record<string, string> = {}): Promise<WrkResult> {
  const lua = await Deno.makeTempFile({ suffix: ".lua" });
  const hdrs = Object.entries({ "content-type": "application/json", ...headers })
    .map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`).join("\n");
  await Deno.writeTextFile(
    lua,
    `wrk.method = "POST"\nwrk.body = ${JSON.stringify(BODY)}\n${hdrs}\n`,
  );
  const out = await new Deno.Command("wrk", {
    args: ["-t2", `-c${connections}`, `-d${seconds}s`, "--latency", "-s", lua, url],
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(lua);
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`wrk failed: ${new TextDecoder().decode(out.stderr)}`);
  const num = (re: RegExp) => Number(text.match(re)?.[1] ?? 0);
  const lat = (p: string) => {
    const m = text.match(new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`));
    return m ? ms(m[1], m[2]) : NaN;
  };
  const errs = text.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50ms: lat("50"),
    p99ms: lat("99"),
    requests: num(/(\d+) requests in/),
    errors: errs ? errs.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
  };
}

/** A reference server (bare, or the journal floor), kept running so its runs can alternate
 * with the router's. */
async function startReference(
  kind: "bare" | "floor",
  forward?: string,
): Promise<{ url: string; stop(): Promise<void> }> {
  const port = freePort();
  const dir = kind === "floor" ? await Deno.makeTempDir({ prefix: "bench-floor-" }) : null;
  const child = new Deno.Command(Deno.execPath(), {
    args: kind === "bare"
      ? ["run", "--allow-net", `${ROOT}tests/bench/bare_server.ts`, String(port)]
      : [
        "run",
        "--allow-net",
        `--allow-read=${dir}`,
        `--allow-write=${dir}`,
        ...(forward ? ["--allow-env"] : []), // undici reads a few settings
        `${ROOT}tests/bench/journal_floor_server.ts`,
        String(port),
        dir!,
        ...(forward ? [`--forward=${forward}`] : []),
      ],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  await waitFor(`http://127.0.0.1:${port}/`);
  return {
    url: `http://127.0.0.1:${port}/`,
    async stop() {
      child.kill("SIGKILL");
      await child.status;
      if (dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

async function waitFor(url: string) {
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(url, { method: "POST", body: "{}" });
      await r.body?.cancel();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`${url} did not come up`);
}

/** Webhook in, HTTP sink out: requests/s at the door and delivered/s until the sink has all. */
async function endToEnd(): Promise<WrkResult & { delivered_per_s: number; drained_s: number }> {
  const router = await startRouter({ env: { LOG_LEVEL: "error" } });
  const sink = await startSink();
  try {
    const api = apiClient(router.url, await bootstrapAdmin(router.url));
    const d = await api("POST", "/api/destinations", {
      name: "sink",
      type: "http",
      config: { url: `${sink.url}/in` },
    });
    const route = await api<{ endpoint: string }>("POST", "/api/routes", {
      name: "bench-e2e",
      destinations: [{ destination_id: d.id }],
    });
    const t0 = performance.now();
    const r = await wrk(`${router.url}${route.endpoint}`);
    // Keep going until everything accepted reached the sink (bounded).
    const accepted = r.requests - r.non2xx;
    const deadline = Date.now() + 120_000;
    while (sink.total() < accepted && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 100));
    }
    const drained = (performance.now() - t0) / 1000;
    return { ...r, delivered_per_s: sink.total() / drained, drained_s: drained };
  } finally {
    await router.kill("SIGTERM");
    await sink.stop();
    await Deno.remove(router.dir, { recursive: true }).catch(() => {});
  }
}

/**
 * The HTTP-sink row's floor: the journal floor POSTing each durable body to a sink over undici
 * (16 at a time), timed like `endToEnd`: what any durable webhook -> HTTP path reaches here.
 */
async function floorEndToEnd(): Promise<WrkResult & { delivered_per_s: number }> {
  const sink = await startSink();
  const floor = await startReference("floor", `${sink.url}/in`);
  try {
    const t0 = performance.now();
    const r = await wrk(floor.url);
    const accepted = r.requests - r.non2xx;
    const deadline = Date.now() + 120_000;
    while (sink.total() < accepted && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 100));
    }
    return { ...r, delivered_per_s: sink.total() / ((performance.now() - t0) / 1000) };
  } finally {
    await floor.stop();
    await sink.stop();
  }
}

const ROUNDS = 3;
const middle = <T>(xs: T[], by: (x: T) => number) =>
  [...xs].sort((a, b) => by(a) - by(b))[Math.floor(xs.length / 2)];
const median = (rs: WrkResult[]) => middle(rs, (r) => r.rps);

/**
 * Plain and GitHub-verified ingest on one router process, alternating runs with each other
 * and with the bare server, so all three see the same machine load (on a shared VM the bare
 * rate alone moved by half between runs minutes apart); the median run of each is reported,
 * and ingest's ratio is the median of each round's ratio to that round's bare run.
 */
async function ingestPair(bareUrl: string, floorUrl: string): Promise<
  {
    plain: WrkResult;
    verified: WrkResult;
    bare: WrkResult;
    floor: WrkResult;
    ratio: number;
    floorRatio: number;
    ratioToFloor: number;
  }
> {
  const router = await startRouter({ env: { LOG_LEVEL: "error" } });
  try {
    const api = apiClient(router.url, await bootstrapAdmin(router.url));
    const secret = "bench-secret-0123456789abcdef";
    const plain = await api<{ endpoint: string }>("POST", "/api/routes", { name: "plain" });
    const signed = await api<{ endpoint: string }>("POST", "/api/routes", {
      name: "verified",
      signature_config: { enabled: true, preset: "github", secret },
    });
    const sig = { "x-hub-signature-256": `sha256=${await hmacHex(secret, BODY)}` };
    const p: WrkResult[] = [], v: WrkResult[] = [], b: WrkResult[] = [], f: WrkResult[] = [];
    const ratios: number[] = [], floorRatios: number[] = [], toFloor: number[] = [];
    // The order flips every round: the database grows with each run, so whichever ran
    // second would otherwise always see the larger tables.
    for (let i = 0; i < ROUNDS * 2; i++) {
      if (i % 2 === 0) {
        b.push(await wrk(bareUrl));
        f.push(await wrk(floorUrl));
        p.push(await wrk(`${router.url}${plain.endpoint}`));
        v.push(await wrk(`${router.url}${signed.endpoint}`, sig));
      } else {
        v.push(await wrk(`${router.url}${signed.endpoint}`, sig));
        p.push(await wrk(`${router.url}${plain.endpoint}`));
        f.push(await wrk(floorUrl));
        b.push(await wrk(bareUrl));
      }
      ratios.push(p[i].rps / b[i].rps);
      floorRatios.push(f[i].rps / b[i].rps);
      toFloor.push(p[i].rps / f[i].rps);
    }
    if (v.some((r) => r.non2xx > 0)) throw new Error("verified requests were refused");
    return {
      plain: median(p),
      verified: median(v),
      bare: median(b),
      floor: median(f),
      ratio: middle(ratios, (r) => r),
      floorRatio: middle(floorRatios, (r) => r),
      ratioToFloor: middle(toFloor, (r) => r),
    };
  } finally {
    await router.kill("SIGTERM");
    await Deno.remove(router.dir, { recursive: true }).catch(() => {});
  }
}

/** Plain ingest with the TCP front (default) and without it, alternating, medians reported. */
async function frontPair(): Promise<{ front: WrkResult; direct: WrkResult }> {
  const routers = await Promise.all([
    startRouter({ env: { LOG_LEVEL: "error" } }),
    startRouter({ env: { LOG_LEVEL: "error", HEADER_TIMEOUT_MS: "0" } }),
  ]);
  try {
    const endpoints = await Promise.all(routers.map(async (r) => {
      const api = apiClient(r.url, await bootstrapAdmin(r.url));
      return (await api<{ endpoint: string }>("POST", "/api/routes", { name: "plain" })).endpoint;
    }));
    const f: WrkResult[] = [], d: WrkResult[] = [];
    for (let i = 0; i < ROUNDS * 2; i++) {
      const order = i % 2 === 0 ? [0, 1] : [1, 0];
      for (const k of order) (k === 0 ? f : d).push(await wrk(`${routers[k].url}${endpoints[k]}`));
    }
    return { front: median(f), direct: median(d) };
  } finally {
    for (const r of routers) {
      await r.kill("SIGTERM");
      await Deno.remove(r.dir, { recursive: true }).catch(() => {});
    }
  }
}

export interface GoalRow {
  scenario: string;
  /** What the figure is measured against. */
  against: string;
  /** The share reached (router / reference), or null when the row did not run. */
  share: number | null;
  /** The figure behind it, e.g. "3,830 req/s". */
  figure: string;
  goal: number;
  met: boolean | null;
  note?: string;
}

const BROKER_GOALS: Record<string, { scenario: string; goal: number }> = {
  rabbitmq: { scenario: "webhook → RabbitMQ confirmed, end to end", goal: 0.75 },
  kafka: { scenario: "webhook → Kafka, end to end", goal: 0.5 },
  redis: { scenario: "webhook → Redis, end to end", goal: 0.5 },
  pubsub: { scenario: "webhook → Pub/Sub, end to end", goal: 0.5 },
};

/** The issue's table (#15): every row with its goal, from what this run measured. */
export function goalTable(results: Record<string, unknown>): GoalRow[] {
  const n = (v: number) => Math.round(v).toLocaleString("en-US");
  const row = (
    scenario: string,
    against: string,
    goal: number,
    share: number | null,
    figure: string,
    note?: string,
  ): GoalRow => ({
    scenario,
    against,
    share,
    figure,
    goal,
    met: share === null ? null : share >= goal,
    ...(note ? { note } : {}),
  });
  const ing = results.ingest as
    | (WrkResult & { ratio_to_bare: number; ratio_to_floor: number })
    | undefined;
  const floor = results.floor as (WrkResult & { ratio_to_bare: number }) | undefined;
  /** The floor beside a row: the goal may lie above what a durable write allows here. */
  const vsFloor = (share: number) =>
    floor
      ? `${Math.round(share * 100)}% of the journal floor, itself ${
        Math.round(floor.ratio_to_bare * 100)
      }% of bare`
      : undefined;
  const e2e = results.e2e as
    | (WrkResult & { ratio_to_bare: number; delivered_per_s: number })
    | undefined;
  const e2eFloor = results.e2e_floor as (WrkResult & { ratio_to_bare: number }) | undefined;
  const rows: GoalRow[] = [
    ing
      ? row(
        "durable ingest, route without destinations",
        "bare Deno.serve",
        0.5,
        ing.ratio_to_bare,
        `${n(ing.rps)} req/s`,
        vsFloor(ing.ratio_to_floor),
      )
      : row("durable ingest, route without destinations", "bare Deno.serve", 0.5, null, "not run"),
    e2e
      ? row(
        "ingest while delivering to an HTTP sink",
        "bare Deno.serve",
        0.3,
        e2e.ratio_to_bare,
        `${n(e2e.rps)} req/s, delivered ${n(e2e.delivered_per_s)}/s`,
        e2eFloor
          ? `the journal floor forwarding each body over undici: ${
            Math.round(e2eFloor.ratio_to_bare * 100)
          }% of bare; the router ${Math.round((e2e.rps / e2eFloor.rps) * 100)}% of that`
          : vsFloor(floor ? e2e.rps / floor.rps : 0),
      )
      : row("ingest while delivering to an HTTP sink", "bare Deno.serve", 0.3, null, "not run"),
  ];
  const brokers = (results.brokers ?? []) as BrokerResult[];
  for (const [name, g] of Object.entries(BROKER_GOALS)) {
    const b = brokers.find((r) => r.broker === name);
    const against = name === "rabbitmq" ? "raw amqplib confirms" : `raw ${name} client`;
    if (!b) rows.push(row(g.scenario, against, g.goal, null, "not run (add --brokers)"));
    else if (b.error || b.ratio === undefined) {
      rows.push(row(g.scenario, against, g.goal, null, "failed", b.error ?? "no ratio"));
    } else {
      rows.push(
        row(
          g.scenario,
          against,
          g.goal,
          b.ratio,
          `${n(b.router?.delivered_per_s ?? 0)} msg/s vs raw ${n(b.raw?.msgs_per_s ?? 0)}/s`,
          b.floor_ratio === undefined ? undefined : `the journal floor publishing with the raw ` +
            `client: ${Math.round(b.floor_ratio * 100)}% of raw; the router ` +
            `${Math.round((b.ratio / b.floor_ratio) * 100)}% of that`,
        ),
      );
    }
  }
  return rows;
}

function printGoals(rows: GoalRow[]) {
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  const cells = rows.map((r) => [
    r.scenario,
    r.share === null ? "-" : `${pct(r.share)} of ${r.against}`,
    r.figure,
    `≥ ${pct(r.goal).replace(".0%", "%")}`,
    r.met === null ? "-" : r.met ? "met" : "NOT met",
  ]);
  const head = ["scenario", "now", "figure", "goal", ""];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  console.log(
    `\nissue #15 goals (load average ${
      Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ")
    })`,
  );
  console.log(line(head));
  cells.forEach((c, i) => {
    console.log(line(c));
    if (rows[i].note) console.log(`  (${rows[i].note})`);
  });
}

if (import.meta.main && Deno.args.includes("--edge")) {
  const results = {
    when: new Date().toISOString(),
    seconds,
    connections,
    body_bytes: BODY.length,
    cpus: navigator.hardwareConcurrency,
    edge: await runEdgeBench((url) => wrk(url)),
  };
  await Deno.mkdir(`${ROOT}bench/results`, { recursive: true });
  const file = `${ROOT}bench/results/bench-edge-${Date.now()}.json`;
  await Deno.writeTextFile(file, JSON.stringify(results, null, 2));
  console.log(`written ${file}`);
} else if (import.meta.main) {
  const results: Record<string, unknown> = {
    when: new Date().toISOString(),
    seconds,
    connections,
    body_bytes: BODY.length,
    cpus: navigator.hardwareConcurrency,
  };
  const want = (k: string) => !only || only.includes(k);
  const bareServer = await startReference("bare");
  const floorServer = await startReference("floor");
  const pair = want("ingest") || want("verified")
    ? await ingestPair(bareServer.url, floorServer.url)
    : null;
  // With ingest run, bare and floor are the medians of the runs alternating with it; else one.
  const b = pair ? pair.bare : await wrk(bareServer.url);
  const fl = pair ? pair.floor : await wrk(floorServer.url);
  await bareServer.stop();
  await floorServer.stop();
  results.bare = b;
  results.floor = { ...fl, ratio_to_bare: pair ? pair.floorRatio : fl.rps / b.rps };
  console.log(
    `bare Deno.serve      ${b.rps.toFixed(0)} req/s  p50 ${b.p50ms.toFixed(2)} ms  p99 ${
      b.p99ms.toFixed(2)
    } ms${pair ? ` (median of ${ROUNDS * 2}, alternating with ingest)` : ""}`,
  );
  const floorRatio = (results.floor as { ratio_to_bare: number }).ratio_to_bare;
  console.log(
    `journal floor        ${fl.rps.toFixed(0)} req/s  p50 ${fl.p50ms.toFixed(2)} ms  p99 ${
      fl.p99ms.toFixed(2)
    } ms  ratio ${(floorRatio * 100).toFixed(1)}% of bare (Deno.serve + fdatasync'd append)`,
  );
  if (pair) {
    for (const [kind, r] of [["ingest", pair.plain], ["verified", pair.verified]] as const) {
      const ratio = kind === "ingest" ? pair.ratio : r.rps / b.rps;
      const ratioToFloor = kind === "ingest" ? pair.ratioToFloor : r.rps / fl.rps;
      results[kind] = { ...r, ratio_to_bare: ratio, ratio_to_floor: ratioToFloor };
      console.log(
        `${kind.padEnd(20)} ${r.rps.toFixed(0)} req/s  p50 ${r.p50ms.toFixed(2)} ms  p99 ${
          r.p99ms.toFixed(2)
        } ms  ratio ${(ratio * 100).toFixed(1)}% of bare, ${
          (ratioToFloor * 100).toFixed(1)
        }% of the floor (median of ${ROUNDS * 2}${kind === "ingest" ? " rounds' ratios" : ""})`,
      );
    }
  }
  if (want("pipeline")) {
    const p = await benchPipeline(quick ? 5_000 : 20_000);
    results.pipeline = p;
    console.log(`pipeline             ${JSON.stringify(p)}`);
  }
  for (const kind of ["e2e"] as const) {
    if (!want(kind)) continue;
    const r = await endToEnd();
    const f = await floorEndToEnd();
    results[kind] = { ...r, ratio_to_bare: r.rps / b.rps };
    results.e2e_floor = { ...f, ratio_to_bare: f.rps / b.rps };
    console.log(
      `e2e floor            ${f.rps.toFixed(0)} req/s  p99 ${f.p99ms.toFixed(2)} ms  ratio ${
        (f.rps / b.rps * 100).toFixed(1)
      }% of bare  delivered ${f.delivered_per_s.toFixed(0)}/s (journal floor + undici POSTs)`,
    );
    console.log(
      `${kind.padEnd(20)} ${r.rps.toFixed(0)} req/s  p50 ${r.p50ms.toFixed(2)} ms  p99 ${
        r.p99ms.toFixed(2)
      } ms  ratio ${(r.rps / b.rps * 100).toFixed(1)}% of bare` +
        (r.non2xx ? `  non-2xx ${r.non2xx}` : "") +
        ("delivered_per_s" in r && r.delivered_per_s
          ? `  delivered ${r.delivered_per_s.toFixed(0)}/s (drained in ${
            r.drained_s?.toFixed(1)
          } s)`
          : ""),
    );
  }
  if (want("front")) {
    const { front, direct } = await frontPair();
    results.front = { front, direct, front_vs_direct: front.rps / direct.rps };
    console.log(
      `ingest via front     ${front.rps.toFixed(0)} req/s  p99 ${front.p99ms.toFixed(2)} ms; ` +
        `direct ${direct.rps.toFixed(0)} req/s  p99 ${direct.p99ms.toFixed(2)} ms: front ${
          (front.rps / direct.rps * 100).toFixed(1)
        }% of direct (median of ${ROUNDS * 2})`,
    );
  }
  const ing = results.ingest as WrkResult | undefined,
    ver = results.verified as WrkResult | undefined;
  if (ing && ver) {
    results.verified_vs_unverified = ver.rps / ing.rps;
    console.log(`verified / unverified ingest: ${(ver.rps / ing.rps * 100).toFixed(1)}%`);
  }
  if (wantsBrokers(Deno.args)) results.brokers = await runBrokerBench(Deno.args);
  if (wantsConsumers(Deno.args)) results.consumers = await runConsumerBench(Deno.args);
  results.goals = goalTable(results);
  printGoals(results.goals as GoalRow[]);
  await Deno.mkdir(`${ROOT}bench/results`, { recursive: true });
  const file = `${ROOT}bench/results/bench-${Date.now()}.json`;
  await Deno.writeTextFile(file, JSON.stringify(results, null, 2));
  console.log(`written ${file}`);
}
