/**
 * The event path's guarantees, proven on the real process with a real HTTP sink:
 * a SIGKILL mid-stream loses nothing that got a 202; a sink outage delays but loses nothing;
 * permanent errors go dead at once and come back through the DLQ; two nodes on one store
 * never publish a delivery twice at once.
 */
import assert from "node:assert/strict";
import {
  apiClient,
  bootstrapAdmin,
  freePort,
  type RouterProcess,
  startRouter,
} from "../helpers/router_process.ts";
import { type Sink, startSink } from "../helpers/sink.ts";

const FAST_RETRY = {
  schedule_seconds: [0, 0.2, 0.5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
};

async function setup(router: RouterProcess, sink: Sink, retry = FAST_RETRY) {
  const token = await bootstrapAdmin(router.url);
  const api = apiClient(router.url, token);
  const dest = await api("POST", "/api/destinations", {
    name: "sink",
    type: "http",
    config: { url: `${sink.url}/in` },
    retry,
  });
  const route = await api<{ endpoint: string; id: string }>("POST", "/api/routes", {
    name: "guarantees",
    destinations: [{ destination_id: dest.id }],
  });
  return { api, token, destId: dest.id as string, endpoint: route.endpoint };
}

async function send(url: string, i: number): Promise<string | null> {
  try {
    const r = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ i, pad: "x".repeat(200) }),
    });
    const body = await r.json().catch(() => null);
    return r.status === 202 ? body.id : null;
  } catch {
    return null;
  }
}

async function waitUntil(cond: () => boolean | Promise<boolean>, ms: number, what: string) {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

Deno.test("SIGKILL mid-stream: every event that got a 202 reaches the sink", async () => {
  const sink = await startSink();
  const port = freePort();
  const env = { PUBLISH_TIMEOUT_MS: "2000" };
  let router = await startRouter({ port, env });
  const dir = router.dir;
  try {
    const { endpoint } = await setup(router, sink);
    const url = `${router.url}${endpoint}`;
    const accepted: string[] = [];
    let i = 0, stop = false;
    const workers = Array.from({ length: 32 }, async () => {
      while (!stop && i < 5000) {
        const id = await send(url, i++);
        if (id) accepted.push(id);
      }
    });
    await waitUntil(() => accepted.length >= 300, 30_000, "300 accepted webhooks");
    await router.kill("SIGKILL");
    stop = true;
    await Promise.all(workers);
    const before = sink.total();
    router = await startRouter({ port, dir, env });
    await waitUntil(
      () => accepted.every((id) => sink.events.has(id)),
      60_000,
      "every accepted event at the sink",
    );
    const duplicates = [...sink.events.values()].reduce((a, n) => a + n - 1, 0);
    console.log(
      `crash test: ${accepted.length} accepted before SIGKILL, ${before} delivered before it, ` +
        `all ${accepted.length} delivered after restart, ${duplicates} duplicate deliveries`,
    );
  } finally {
    await router.kill("SIGTERM");
    await sink.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("sink outage: events wait and all arrive when it is back", async () => {
  const sink = await startSink();
  const router = await startRouter();
  try {
    const { endpoint } = await setup(router, sink);
    await sink.stop();
    const ids = (await Promise.all(
      Array.from({ length: 40 }, (_, i) => send(`${router.url}${endpoint}`, i)),
    )).filter((x): x is string => !!x);
    assert.equal(ids.length, 40);
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(sink.total(), 0);
    await sink.start();
    await waitUntil(
      () => ids.every((id) => sink.events.has(id)),
      60_000,
      "all events after outage",
    );
  } finally {
    await router.kill("SIGTERM");
    await sink.stop();
    await Deno.remove(router.dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("a sink answering 400: dead at once, retried from the DLQ after the fix, delivered", async () => {
  const sink = await startSink();
  sink.respond = () => 400;
  const router = await startRouter();
  try {
    const { api, endpoint, destId } = await setup(router, sink);
    const ids = (await Promise.all(
      Array.from({ length: 10 }, (_, i) => send(`${router.url}${endpoint}`, i)),
    )).filter((x): x is string => !!x);
    assert.equal(ids.length, 10);
    await waitUntil(
      async () => {
        const s = await api<{ total: number }>("GET", "/api/dlq/stats");
        return s.total === 10;
      },
      20_000,
      "10 dead letters",
    );
    const dead = await api<{ items: Array<{ attempts: number; last_error: string }> }>(
      "GET",
      `/api/dlq/messages?destination_id=${destId}`,
    );
    assert.equal(dead.items.length, 10);
    for (const d of dead.items) {
      assert.equal(d.attempts, 1, "a permanent error is not retried");
      assert.match(d.last_error, /400/);
    }
    sink.respond = () => 200;
    const r = await api<{ retried: number }>("POST", "/api/dlq/retry", { destination_id: destId });
    assert.equal(r.retried, 10);
    await waitUntil(() => ids.every((id) => sink.events.has(id)), 20_000, "redelivery");
    const after = await api<{ total: number }>("GET", "/api/dlq/stats");
    assert.equal(after.total, 0);
  } finally {
    await router.kill("SIGTERM");
    await sink.stop();
    await Deno.remove(router.dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("two router processes on one store: each delivery published once, all delivered", async () => {
  const sink = await startSink();
  const a = await startRouter({ env: { NODE_ID: "node-a" } });
  const b = await startRouter({ dir: a.dir, env: { NODE_ID: "node-b" } });
  try {
    const { endpoint } = await setup(a, sink);
    const ids: string[] = [];
    await Promise.all(Array.from({ length: 16 }, async (_, w) => {
      for (let i = 0; i < 25; i++) {
        const target = (i + w) % 2 ? a.url : b.url;
        const id = await send(`${target}${endpoint}`, w * 100 + i);
        if (id) ids.push(id);
      }
    }));
    assert.equal(ids.length, 400);
    await waitUntil(() => ids.every((id) => sink.events.has(id)), 60_000, "all delivered");
    const twice = [...sink.deliveries.entries()].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], "no delivery id published twice");
  } finally {
    await a.kill("SIGTERM");
    await b.kill("SIGTERM");
    await sink.stop();
    await Deno.remove(a.dir, { recursive: true }).catch(() => {});
  }
});

const JOURNAL = new URL("../../adapters/journal/file_journal.ts", import.meta.url).href;
const CODEC = new URL("../../core/ingress/envelope_codec.ts", import.meta.url).href;

Deno.test("a node on the same store that died with events in its ingest journal: a live node imports and delivers them, no restart", async () => {
  const sink = await startSink();
  const a = await startRouter({ env: { NODE_ID: "node-a" } });
  let writer: Deno.ChildProcess | null = null;
  try {
    const { api } = await setup(a, sink);
    const route = (await api<{ items: { id: string; owner: string; endpoint: string }[] }>(
      "GET",
      "/api/routes",
    )).items[0];
    // Another process writes one acknowledged batch to the same journal folder, holds its
    // segment (as a node does) and is SIGKILLed before any import.
    const id = `evt_neighbour${Date.now()}`;
    const event = {
      id,
      tenant: route.owner,
      routeId: route.id,
      source: "webhook",
      receivedAt: Date.now(),
      method: "POST",
      path: route.endpoint,
      query: "",
      ip: "127.0.0.1",
      headers: { "content-type": "application/json" },
      dedupKey: null,
    };
    const code = `
      import { openFileJournal } from ${JSON.stringify(JOURNAL)};
      import { encodeEnvelopes } from ${JSON.stringify(CODEC)};
      const j = await openFileJournal({ dir: ${
      JSON.stringify(`${a.dir}/event-router.db.ingest-journal`)
    } });
      const e = { ...${
      JSON.stringify(event)
    }, body: new TextEncoder().encode('{"from":"neighbour"}') };
      await j.append(encodeEnvelopes([e]));
      console.log("ready");
      setInterval(() => {}, 1000);`;
    writer = new Deno.Command(Deno.execPath(), {
      args: ["eval", "--ext=ts", code],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = writer.stdout.getReader();
    assert.match(new TextDecoder().decode((await reader.read()).value), /ready/);
    reader.releaseLock();
    await new Promise((r) => setTimeout(r, 6_000));
    assert.ok(!sink.events.has(id), "a live writer's segment is left alone");
    writer.kill("SIGKILL");
    await writer.status;
    writer = null;
    await waitUntil(() => sink.events.has(id), 30_000, "the dead neighbour's event delivered");
    const e = await api<{ id: string; status: string }>("GET", `/api/events/${id}`);
    assert.equal(e.id, id);
  } finally {
    try {
      writer?.kill("SIGKILL");
    } catch { /* gone */ }
    await a.kill("SIGTERM");
    await sink.stop();
    await Deno.remove(a.dir, { recursive: true }).catch(() => {});
  }
});
