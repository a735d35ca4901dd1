/**
 * /health and /metrics tell the truth about a real node on real servers: a private PostgreSQL
 * (the store) and a private Redis (the coordinator), each stopped and started again under it,
 * and an HTTP destination whose port is closed, so its circuit opens.
 *
 * - a destination's open circuit: 200 "degraded", verbose names it with its last error
 * - Redis down: 200 "degraded", the coordinator named; back up: ok again
 * - PostgreSQL down: 503 "unavailable", the store named; back up: 200 again
 * - /metrics: real memory and open descriptors, backlog, lag and attempts by outcome
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { apiClient, bootstrapAdmin, startRouter } from "../helpers/router_process.ts";
import { privateInstance } from "../helpers/broker_instances.ts";
import { closedPort } from "../helpers/broker_instances.ts";
import { needs } from "../helpers/peers.ts";
import { until } from "../helpers/until.ts";

const PG = { PEER_INSTANCE: "health-postgres", POSTGRES_PORT: "5452" };
const REDIS = { PEER_INSTANCE: "health-redis", REDIS_PORT: "6405" };

async function health(url: string, token?: string) {
  const r = await fetch(`${url}/health${token ? "?verbose=true" : ""}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { code: r.status, body: await r.json() };
}

/** The value of one sample in a Prometheus exposition, or undefined. */
function sample(text: string, name: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l === name);
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

Deno.test({
  name: "health and metrics of a real node: open circuit, Redis down, PostgreSQL down",
  // the private instances install from the same packages as the shared servers
  ...needs("POSTGRES_URL", "REDIS_ADDRESS"),
  async fn() {
    const pg = privateInstance("postgres.sh", PG);
    const redis = privateInstance("redis.sh", REDIS);
    const dir = await Deno.makeTempDir({ prefix: "er-health-" });
    let router: Awaited<ReturnType<typeof startRouter>> | null = null;
    let dropDb = () => Promise.resolve();
    try {
      await Promise.all([pg("start"), redis("start")]);
      // A database of its own: the instance outlives the test, its data must not.
      const base = `postgres://postgres:postgres@127.0.0.1:${PG.POSTGRES_PORT}`;
      const db = `er_health_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
      const admin = postgres(`${base}/postgres`, { max: 1, onnotice: () => {} });
      await admin.unsafe(`CREATE DATABASE "${db}"`);
      dropDb = async () => {
        await pg("start");
        await admin.unsafe(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
        await admin.end({ timeout: 5 });
      };
      router = await startRouter({
        dir,
        env: {
          DATABASE_URL: `${base}/${db}`,
          REDIS_ADDRESS: `127.0.0.1:${REDIS.REDIS_PORT}`,
        },
      });
      const url = router.url;
      const token = await bootstrapAdmin(url);
      const api = apiClient(url, token);

      const first = await health(url);
      assert.equal(first.code, 200);
      assert.deepEqual(first.body.checks, {
        store: "ok",
        coordinator: "ok",
        publishers: "ok",
        destinations: "ok",
        triggers: "ok",
      });

      // An HTTP destination on a closed port, retried at once: five failed publishes open it.
      const dest = await api("POST", "/api/destinations", {
        name: "crm",
        type: "http",
        config: { url: `http://127.0.0.1:${closedPort()}/hook` },
        retry: { max_attempts: 50, schedule_seconds: [0] },
      });
      const route = await api<{ endpoint: string }>("POST", "/api/routes", {
        name: "orders",
        destinations: [{ destination_id: dest.id }],
      });
      const sent = await fetch(`${url}${route.endpoint}`, { method: "POST", body: '{"n":1}' });
      assert.equal(sent.status, 202);
      const open = await until("the destination's circuit to open", async () => {
        const h = await health(url, token);
        const d = h.body.destinations?.find((x: { id: string }) => x.id === dest.id);
        return d?.circuit === "open" ? h : null;
      }, 30_000);
      assert.equal(open.code, 200, "an open circuit does not stop ingest");
      assert.equal(open.body.status, "degraded");
      assert.equal(open.body.checks.destinations, "degraded");
      const crm = open.body.destinations.find((x: { id: string }) => x.id === dest.id);
      assert.equal(crm.name, "crm");
      assert.equal(crm.status, "degraded");
      assert.match(crm.last_error ?? "", /refused|connect/i);
      assert.ok(crm.pending >= 1);
      const pub = await health(url);
      assert.equal(pub.body.checks.destinations, "degraded");
      assert.equal(pub.body.destinations, undefined, "names and errors only for admins");

      const metrics = await (await fetch(`${url}/metrics`)).text();
      assert.ok(sample(metrics, "event_router_process_resident_memory_bytes")! > 10_000_000);
      assert.ok(sample(metrics, "event_router_process_heap_bytes")! > 1_000_000);
      assert.ok(sample(metrics, "event_router_process_open_fds")! > 5, "open fds are counted");
      assert.ok(sample(metrics, "event_router_process_max_fds")! > 0);
      assert.equal(sample(metrics, "event_router_deliveries_pending"), 1, "the queue depth");
      assert.ok(sample(metrics, "event_router_delivery_lag_seconds")! >= 0);
      assert.equal(sample(metrics, "event_router_events_unprocessed"), 0);
      assert.match(metrics, /^event_router_delivery_attempts_total\{outcome="retry"\} [1-9]/m);
      assert.match(metrics, /^event_router_webhook_requests_total\{status="202"\} 1$/m);

      // The coordinator goes away: degraded, named; the store still answers.
      await redis("stop");
      const noRedis = await until("the coordinator to be reported down", async () => {
        const h = await health(url, token);
        return h.body.checks.coordinator === "degraded" ? h : null;
      }, 15_000);
      assert.equal(noRedis.code, 200);
      assert.equal(noRedis.body.status, "degraded");
      assert.equal(noRedis.body.coordinator.kind, "redis");
      assert.ok(noRedis.body.coordinator.error, "the reason is shown");
      await redis("start");
      await until("the coordinator to answer again", async () => {
        return (await health(url)).body.checks.coordinator === "ok";
      }, 30_000);

      // The store goes away: 503, the store named; back, 200 again.
      await pg("stop");
      const down = await until("the store to be reported down", async () => {
        const h = await health(url);
        return h.code === 503 ? h : null;
      }, 15_000);
      assert.equal(down.body.status, "unavailable");
      assert.equal(down.body.checks.store, "unavailable");
      const verbose = await health(url, token);
      assert.equal(verbose.code, 503, "the token cannot be checked; the summary says why");
      await pg("start");
      await until(
        "the store to answer again",
        async () => (await health(url)).code === 200,
        30_000,
      );
    } finally {
      await router?.kill();
      await dropDb().catch(() => {});
      await Promise.allSettled([pg("stop"), redis("stop")]);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
