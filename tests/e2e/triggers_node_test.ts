/**
 * The trigger runtime in the real process: a schedule trigger's events go through the route to
 * its destination like webhooks; deactivating stops it; a SIGKILL and restart resumes from the
 * durable state without firing any slot twice.
 */
import assert from "node:assert/strict";
import { apiClient, bootstrapAdmin, startRouter } from "../helpers/router_process.ts";

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Ev {
  id: string;
  source: string;
  status: string;
  headers: Record<string, string>;
  body: string;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await wait(100);
  }
}

async function setup(url: string, dir: string) {
  const api = apiClient(url, await bootstrapAdmin(url));
  const dest = await api("POST", "/api/destinations", {
    name: "out",
    type: "file",
    config: { path: `${dir}/ticks.jsonl` },
  });
  const route = await api("POST", "/api/routes", {
    name: "ticks",
    destinations: [{ destination_id: dest.id }],
  });
  return { api, routeId: route.id as string };
}

const events = async (api: ReturnType<typeof apiClient>, routeId: string) =>
  (await api<{ items: Ev[] }>("GET", `/api/events?route_id=${routeId}&limit=500`)).items;

Deno.test("triggers e2e: a schedule fires into its route, is delivered, and stops when deactivated", async () => {
  const node = await startRouter({ env: { LEASE_MS: "2000" } });
  try {
    const { api, routeId } = await setup(node.url, node.dir);
    const t = await api("POST", "/api/triggers", {
      name: "tick",
      type: "schedule",
      route_id: routeId,
      config: { cron: "* * * * * *", payload: { tick: true } },
    });
    const got = await until("3 events", async () => {
      const evs = await events(api, routeId);
      return evs.length >= 3 ? evs : undefined;
    });
    for (const e of got) {
      assert.equal(e.source, `trigger:${t.id}`);
      assert.equal(e.headers["x-trigger-type"], "schedule");
      assert.deepEqual(JSON.parse(e.body), { tick: true });
    }
    const ev = await until("a delivered event", async () => {
      const full = await api<{ deliveries: Array<{ status: string }> }>(
        "GET",
        `/api/events/${got[0].id}`,
      );
      return full.deliveries[0]?.status === "delivered" ? full : undefined;
    });
    assert.equal(ev.deliveries.length, 1);
    const lines = (await Deno.readTextFile(`${node.dir}/ticks.jsonl`)).trim().split("\n");
    assert.ok(lines.length >= 1);

    const state = await api("GET", `/api/triggers/${t.id}`);
    assert.ok((state.events_emitted as number) >= 3, JSON.stringify(state));
    assert.ok(Date.parse(state.next_run_at as string) > Date.parse(state.last_run_at as string));
    assert.equal((state.status as Record<string, unknown>).state, "idle");

    // changed and run at once: the run uses the new config, on the node that holds it
    await api("PUT", `/api/triggers/${t.id}`, {
      name: "tick",
      type: "schedule",
      route_id: routeId,
      config: { cron: "0 0 1 1 *", payload: { tick: "changed" } },
    });
    const run = await api<{ emitted: number; ids: string[] }>("POST", `/api/triggers/${t.id}/run`);
    assert.equal(run.emitted, 1);
    const manual = await api<Ev>("GET", `/api/events/${run.ids[0]}`);
    assert.deepEqual(JSON.parse(manual.body), { tick: "changed" });

    await api("PUT", `/api/triggers/${t.id}`, {
      name: "tick",
      type: "schedule",
      route_id: routeId,
      config: { cron: "* * * * * *", payload: { tick: true } },
      active: false,
    });
    await wait(1500); // a slot in progress may still commit
    const before = (await events(api, routeId)).length;
    await wait(2500);
    assert.equal((await events(api, routeId)).length, before, "no events after deactivation");
    const stopped = await api("GET", `/api/triggers/${t.id}`);
    assert.equal((stopped.status as Record<string, unknown>).state, "stopped");
  } finally {
    await node.kill();
  }
});

Deno.test("triggers e2e: SIGKILL and restart resume from the durable state; no slot fires twice", async () => {
  let node = await startRouter({ env: { LEASE_MS: "1000" } });
  const dir = node.dir;
  const port = Number(new URL(node.url).port);
  try {
    const { api, routeId } = await setup(node.url, node.dir);
    const t = await api("POST", "/api/triggers", {
      name: "tick",
      type: "schedule",
      route_id: routeId,
      config: { cron: "* * * * * *", catch_up: "1m" },
    });
    await until("2 events", async () => (await events(api, routeId)).length >= 2 ? 1 : undefined);
    await node.kill("SIGKILL");
    await wait(1500);
    node = await startRouter({ dir, port, env: { LEASE_MS: "1000" } });
    const api2 = apiClient(node.url, await bootstrapAdmin(node.url));
    const before = (await events(api2, routeId)).length;
    await until(
      "events after the restart",
      async () => (await events(api2, routeId)).length >= before + 2 ? 1 : undefined,
    );
    // Stopped first, so the events and the counter are read from the same, settled state
    // (a schedule firing every second would otherwise tick between the two reads).
    await api2("PUT", `/api/triggers/${t.id}`, {
      name: "tick",
      type: "schedule",
      route_id: routeId,
      config: { cron: "* * * * * *", catch_up: "1m" },
      active: false,
    });
    await until("the trigger stopped", async () => {
      const s = await api2("GET", `/api/triggers/${t.id}`);
      return (s.status as Record<string, unknown>).state === "stopped" ? 1 : undefined;
    });
    const evs = await events(api2, routeId);
    const slots = evs.map((e) => e.headers["x-schedule-slot"]);
    assert.equal(new Set(slots).size, slots.length, `a slot fired twice: ${slots.sort()}`);
    const state = await api2("GET", `/api/triggers/${t.id}`);
    // Counters are written after each run: a kill between a commit and that write may lose one.
    const counted = state.events_emitted as number;
    assert.ok(counted <= evs.length && counted >= evs.length - 1, `${counted} vs ${evs.length}`);
  } finally {
    await node.kill();
  }
});
