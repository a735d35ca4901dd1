/**
 * Two full nodes on one PostgreSQL database, coordinated by store leases, by Redis and by one
 * Deno KV file:
 * every schedule slot becomes exactly one event, the API is polled by one node once per
 * interval, and killing the node that holds the triggers moves them to the other within two
 * lease periods (the missed slots caught up once).
 */
import assert from "node:assert/strict";
import {
  apiClient,
  bootstrapAdmin,
  type RouterProcess,
  startRouter,
} from "../helpers/router_process.ts";
import { startJsonApi } from "../helpers/json_api.ts";
import { mustPeer, needs } from "../helpers/peers.ts";
import { freshDatabase } from "../helpers/fresh_database.ts";

const LEASE_MS = 2000;
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await wait(50);
  }
}

interface Ev {
  source: string;
  headers: Record<string, string>;
}

async function cluster(extraEnv: Record<string, string>, expectCoordinator: string) {
  const db = await freshDatabase("er_cluster");
  const env = {
    DATABASE_URL: db.url,
    JWT_SECRET: "cluster-test-jwt-secret-0123456789abcdef",
    ENCRYPTION_KEY: "ab".repeat(32),
    LEASE_MS: String(LEASE_MS),
    LOG_LEVEL: "info",
    ...extraEnv,
  };
  const nodes: Record<string, RouterProcess> = {};
  nodes["node-a"] = await startRouter({ env: { ...env, NODE_ID: "node-a" } });
  nodes["node-b"] = await startRouter({ env: { ...env, NODE_ID: "node-b" } });
  for (const p of Object.values(nodes)) {
    assert.match(p.logs(), new RegExp(`"coordinator":"${expectCoordinator}"`));
  }
  return {
    nodes,
    async close() {
      await Promise.allSettled(Object.values(nodes).map((p) => p.kill()));
      await db.drop();
    },
  };
}

async function runCluster(extraEnv: Record<string, string>, coordinator: string) {
  const c = await cluster(extraEnv, coordinator);
  const pollApi = startJsonApi({ content: { ok: true } });
  try {
    const urlA = c.nodes["node-a"].url, urlB = c.nodes["node-b"].url;
    const token = await bootstrapAdmin(urlA);
    const apiA = apiClient(urlA, token), apiB = apiClient(urlB, token);
    const routeId = (await apiA("POST", "/api/routes", { name: "cluster" })).id as string;
    const sched = await apiA("POST", "/api/triggers", {
      name: "every-second",
      type: "schedule",
      route_id: routeId,
      config: { cron: "* * * * * *", catch_up: `${4 * LEASE_MS}ms` },
    });
    const poll = await apiB("POST", "/api/triggers", {
      name: "poll",
      type: "polling",
      route_id: routeId,
      config: { url: pollApi.url, interval: "1s", change_detection: "none" },
    });
    let via = apiA;
    const holder = async (id: unknown) =>
      ((await via("GET", `/api/triggers/${id}`)).status as { node?: string }).node;
    await until(
      "both triggers running",
      async () => (await holder(sched.id)) && (await holder(poll.id)) ? 1 : undefined,
    );
    await wait(4000);

    // kill whichever node holds the schedule
    const victim = (await holder(sched.id))!;
    const survivor = victim === "node-a" ? "node-b" : "node-a";
    const api = survivor === "node-a" ? apiA : apiB;
    via = api;
    const killedAt = Date.now();
    await c.nodes[victim].kill("SIGKILL");
    const movedAt = await until(
      "the schedule on the survivor",
      async () =>
        (await holder(sched.id).catch(() => undefined)) === survivor ? Date.now() : undefined,
    );
    await until(
      "the poll on the survivor",
      async () => (await holder(poll.id).catch(() => undefined)) === survivor ? 1 : undefined,
    );
    const moved = movedAt - killedAt;
    console.log(`${coordinator}: the triggers moved ${moved} ms after the holder was killed`);
    assert.ok(moved < 2 * LEASE_MS + 500, `moved after ${moved} ms (lease ${LEASE_MS} ms)`);
    await wait(3000);

    const evs = (await api<{ items: Ev[] }>(
      "GET",
      `/api/events?route_id=${routeId}&limit=500`,
    )).items;
    const slots = evs.filter((e) => e.source === `trigger:${sched.id}`)
      .map((e) => Date.parse(e.headers["x-schedule-slot"])).sort((a, b) => a - b);
    assert.equal(new Set(slots).size, slots.length, "no slot twice");
    // every second from the first slot to the last is there: the handover's slots caught up
    const expected = (slots.at(-1)! - slots[0]) / 1000 + 1;
    assert.equal(slots.length, expected, `slots ${slots.map((s) => new Date(s).toISOString())}`);

    // one poll per interval: two nodes polling would put requests far closer than the interval
    // (arrival times jitter by the requests' own latency, hence the margin)
    const times = pollApi.requests.map((r) => r.at);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    assert.ok(times.length >= 6, `polls: ${times.length}`);
    assert.ok(Math.min(...gaps) >= 700, `two polls ${Math.min(...gaps)} ms apart: ${gaps}`);
    const span = (times.at(-1)! - times[0]) / 1000;
    assert.ok(times.length <= span + 2, `${times.length} polls in ${span} s`);
    const polled = evs.filter((e) => e.source === `trigger:${poll.id}`).length;
    assert.equal(polled, times.length, "each poll one event");
  } finally {
    await pollApi.close();
    await c.close();
  }
}

const PG = needs("POSTGRES_URL");

Deno.test({
  name: "cluster on one PostgreSQL (store leases): each slot once, one poll per interval, takeover",
  ...PG,
  fn: () => runCluster({}, "store"),
});

Deno.test({
  name:
    "cluster on one PostgreSQL with Redis coordination: each slot once, one poll per interval, takeover",
  ...needs("POSTGRES_URL", "REDIS_ADDRESS"),
  fn: () => runCluster({ REDIS_ADDRESS: mustPeer("REDIS_ADDRESS") }, "redis"),
});

Deno.test({
  name: "cluster on one PostgreSQL with Deno KV coordination (one KV file): same guarantees",
  ...PG,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "er-kv-" });
    try {
      await runCluster({ KV_PATH: `${dir}/leases.kv` }, "kv");
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
