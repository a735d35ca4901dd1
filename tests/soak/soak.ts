/**
 * `deno task soak`: the crash harness. Signed webhooks arrive at a fixed open-loop rate
 * (tests/soak/load.ts) while the real router process is SIGKILLed and restarted at random
 * moments (100 times by default), with two destinations on its one route: an HTTP sink in this
 * process and a queue on a private RabbitMQ instance, each also stopped for a while, more than
 * once. At the end every request is accounted for: each one answered 2xx must have reached each
 * destination at least once. Prints `acked`, `delivered`, `duplicates`, `lost` (must be 0) and
 * the p50/p99/p999 ack latency from each request's scheduled time; writes
 * bench/results/soak-<time>.json; exits 1 when anything acknowledged was lost.
 *
 *   deno task soak [--quick] [--kills=100] [--rate=300] [--min-up=0.5] [--max-up=4]
 *     [--drain-timeout=240] [--env=NAME=value,...]
 *
 * `--quick` (CI, about a minute): 5 kills at 100 requests/s, one outage of each destination.
 * `--overload` runs tests/soak/overload.ts instead (twice the sustainable rate for 60 s).
 */
import amqp from "amqplib";
import { startLoad } from "./load.ts";
import { runOverload } from "./overload.ts";
import { account, type Summary } from "./accounting.ts";
import {
  apiClient,
  bootstrapAdmin,
  freePort,
  type RouterProcess,
  startRouter,
} from "../helpers/router_process.ts";
import { startSink } from "../helpers/sink.ts";
import { privateInstance } from "../helpers/broker_instances.ts";

const args = Deno.args;
const arg = (name: string, def: number) =>
  Number(args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? def);
const quick = args.includes("--quick");
const KILLS = arg("kills", quick ? 5 : 100);
const RATE = arg("rate", quick ? 100 : 300);
const MIN_UP_MS = arg("min-up", quick ? 2 : 0.5) * 1000;
const MAX_UP_MS = arg("max-up", quick ? 5 : 4) * 1000;
const DRAIN_MS = arg("drain-timeout", quick ? 120 : 240) * 1000;
const extraEnv = Object.fromEntries(
  (args.find((a) => a.startsWith("--env="))?.slice(6) ?? "").split(",").filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
);
const SECRET = "soak-secret-0123456789abcdef";
// A private broker (its own node name and port), so stopping it disturbs no other test.
const RABBIT = { PEER_INSTANCE: "soak-rabbitmq", RABBITMQ_PORT: "5712" };
const RABBIT_URL = `amqp://guest:guest@127.0.0.1:${RABBIT.RABBITMQ_PORT}/`;
// Enough attempts, close together, to outlast every outage here without going dead.
const RETRY = { schedule_seconds: [0, 0.2, 0.5, 1, 2, 5], max_attempts: 50 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const load = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");

/** Every message on the queue, by event id (the publisher's correlationId), across outages. */
function rabbitCounter(queue: string) {
  const seen = new Map<string, number>();
  let stopped = false;
  let conn: amqp.ChannelModel | null = null;
  const run = (async () => {
    while (!stopped) {
      try {
        conn = await amqp.connect(RABBIT_URL);
        const closed = new Promise((r) => (conn!.on("close", r), conn!.on("error", r)));
        const ch = await conn.createChannel();
        await ch.assertQueue(queue, { durable: true });
        await ch.prefetch(500);
        await ch.consume(queue, (m) => {
          if (!m) return;
          const id = String(m.properties.correlationId);
          seen.set(id, (seen.get(id) ?? 0) + 1);
          ch.ack(m);
        });
        await closed;
      } catch { /* the broker is down: try again */ }
      conn = null;
      if (!stopped) await sleep(500);
    }
  })();
  return {
    seen,
    async stop() {
      stopped = true;
      await conn?.close().catch(() => {});
      await run;
    },
  };
}

export interface SoakResult {
  when: string;
  quick: boolean;
  kills: number;
  rate_per_s: number;
  seconds: number;
  load_average: { start: string; end: string };
  restart_ms: { median: number; max: number };
  outages: { sink: number; rabbitmq: number };
  generator_saturated: number;
  summary: Summary;
  drained: boolean;
}

async function main(): Promise<SoakResult> {
  const rabbit = privateInstance("rabbitmq.sh", RABBIT);
  log(`load average ${load()}; starting a private RabbitMQ on ${RABBIT.RABBITMQ_PORT}`);
  await rabbit("start");
  const sink = await startSink();
  const dir = await Deno.makeTempDir({ prefix: "er-soak-" });
  const port = freePort();
  const env = { LOG_LEVEL: "warn", ...extraEnv };
  let router: RouterProcess = await startRouter({ dir, port, env, timeoutMs: 60_000 });
  const queue = `soak-${Date.now().toString(36)}`;
  const counter = rabbitCounter(queue);
  const startedAt = Date.now();
  const restarts: number[] = [];
  const outages = { sink: 0, rabbitmq: 0 };
  let result: SoakResult | null = null;
  try {
    const api = apiClient(router.url, await bootstrapAdmin(router.url));
    const dest = async (name: string, type: string, config: Record<string, unknown>) =>
      (await api<{ id: string }>("POST", "/api/destinations", { name, type, config, retry: RETRY }))
        .id;
    const sinkId = await dest("soak-sink", "http", { url: `${sink.url}/in`, timeout_ms: 5000 });
    const rabbitId = await dest("soak-rabbitmq", "rabbitmq", {
      url: RABBIT_URL,
      queue,
      declare: { queue_type: "classic", durable: true },
      timeout_ms: 5000,
    });
    const route = await api<{ endpoint: string }>("POST", "/api/routes", {
      name: "soak",
      destinations: [{ destination_id: sinkId }, { destination_id: rabbitId }],
      signature_config: { enabled: true, preset: "github", secret: SECRET },
    });
    const hook = `http://127.0.0.1:${port}${route.endpoint}`;
    log(`route ${route.endpoint}: ${RATE} signed webhooks/s, ${KILLS} SIGKILLs`);
    const gen = startLoad({ url: () => hook, secret: SECRET, ratePerSecond: RATE });

    let chaos = true;
    // The sink goes away for 2-5 s every 10-25 s; RabbitMQ stops for 3-6 s every 20-40 s (it
    // takes several seconds to come back, which is part of the outage).
    const sinkOutages = (async () => {
      while (chaos) {
        await sleep(quick ? 8_000 : 10_000 + Math.random() * 15_000);
        if (!chaos) break;
        await sink.stop();
        outages.sink++;
        await sleep(2_000 + Math.random() * 3_000);
        await sink.start();
        if (quick) break;
      }
    })();
    const rabbitOutages = (async () => {
      while (chaos) {
        await sleep(quick ? 15_000 : 20_000 + Math.random() * 20_000);
        if (!chaos) break;
        await rabbit("stop");
        outages.rabbitmq++;
        await sleep(3_000 + Math.random() * 3_000);
        await rabbit("start");
        if (quick) break;
      }
    })();

    for (let k = 1; k <= KILLS; k++) {
      await sleep(MIN_UP_MS + Math.random() * (MAX_UP_MS - MIN_UP_MS));
      await router.kill("SIGKILL");
      const t = Date.now();
      router = await startRouter({ dir, port, env, timeoutMs: 60_000 });
      restarts.push(Date.now() - t);
      if (k % 10 === 0 || quick) {
        log(
          `kill ${k}/${KILLS}: back in ${restarts.at(-1)} ms; ${gen.records.length} sent, ` +
            `${gen.inFlight()} in flight; load ${load()}`,
        );
      }
    }
    chaos = false;
    await Promise.all([sinkOutages, rabbitOutages]);
    await gen.stop();
    log(`load stopped after ${gen.records.length} requests; draining`);

    const summarize = () =>
      account(gen.records, gen.extraAcks, { http: sink.events, rabbitmq: counter.seen });
    const deadline = Date.now() + DRAIN_MS;
    let s = summarize();
    while (Object.values(s.destinations).some((d) => d.lost > 0) && Date.now() < deadline) {
      await sleep(1000);
      s = summarize();
    }
    const drained = Object.values(s.destinations).every((d) => d.lost === 0);
    if (!drained) {
      for (const [name, d] of Object.entries(s.destinations)) {
        for (const id of d.lostSample.slice(0, 3)) {
          const e = await api("GET", `/api/events/${id}`).catch((err) => String(err));
          log(`lost at ${name}: ${id}: ${JSON.stringify(e).slice(0, 600)}`);
        }
      }
    }
    const sorted = [...restarts].sort((a, b) => a - b);
    result = {
      when: new Date().toISOString(),
      quick,
      kills: KILLS,
      rate_per_s: RATE,
      seconds: Math.round((Date.now() - startedAt) / 1000),
      load_average: { start: "", end: load() },
      restart_ms: { median: sorted[Math.floor(sorted.length / 2)] ?? 0, max: sorted.at(-1) ?? 0 },
      outages,
      generator_saturated: gen.saturated(),
      summary: s,
      drained,
    };
    return result;
  } finally {
    await router.kill("SIGTERM").catch(() => {});
    await counter.stop();
    await sink.stop();
    await rabbit("stop").catch((e) => log(String(e)));
    if (result?.drained) await Deno.remove(dir, { recursive: true }).catch(() => {});
    else log(`router data kept in ${dir}; last logs:\n${router.logs().slice(-2000)}`);
  }
}

function print(r: SoakResult) {
  const s = r.summary;
  const ms = (v: number) => (Number.isNaN(v) ? "-" : `${v.toFixed(1)} ms`);
  console.log(
    `\nsoak: ${r.kills} SIGKILLs in ${r.seconds} s at ${r.rate_per_s} req/s (restart median ` +
      `${r.restart_ms.median} ms, max ${r.restart_ms.max} ms); outages: sink ${r.outages.sink}, ` +
      `rabbitmq ${r.outages.rabbitmq}; load average at the end ${r.load_average.end}`,
  );
  console.log(
    `requests ${s.requests}  acked ${s.acked}  not acked ${s.notAcked}  retried ${s.retried}` +
      (r.generator_saturated ? `  generator saturated ${r.generator_saturated}` : ""),
  );
  console.log(
    `ack latency from the scheduled time: p50 ${ms(s.latency.p50)}  p99 ${ms(s.latency.p99)}  ` +
      `p999 ${ms(s.latency.p999)}  max ${ms(s.latency.max)}`,
  );
  for (const [name, d] of Object.entries(s.destinations)) {
    console.log(
      `${name.padEnd(9)} acked ${s.ackedEvents}  delivered ${d.delivered}  duplicates ` +
        `${d.duplicates}  lost ${d.lost}  (delivered without an ack: ${d.unacknowledged})`,
    );
  }
}

if (import.meta.main && args.includes("--overload")) {
  const r = await runOverload();
  const root = new URL("../../", import.meta.url).pathname;
  await Deno.mkdir(`${root}bench/results`, { recursive: true });
  const file = `${root}bench/results/overload-${Date.now()}.json`;
  await Deno.writeTextFile(file, JSON.stringify(r, null, 2));
  console.log(`written ${file}`);
  if (r.lost > 0 || r.recovered_ms < 0) Deno.exit(1);
} else if (import.meta.main) {
  const start = load();
  const r = await main();
  r.load_average.start = start;
  print(r);
  const root = new URL("../../", import.meta.url).pathname;
  await Deno.mkdir(`${root}bench/results`, { recursive: true });
  const file = `${root}bench/results/soak-${Date.now()}.json`;
  await Deno.writeTextFile(file, JSON.stringify(r, null, 2));
  console.log(`written ${file}`);
  const lost = Object.values(r.summary.destinations).reduce((a, d) => a + d.lost, 0);
  if (lost > 0 || r.summary.acked === 0) {
    console.log(lost ? `FAILED: ${lost} acknowledged deliveries lost` : "FAILED: nothing acked");
    Deno.exit(1);
  }
}
