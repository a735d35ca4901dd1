/**
 * Rules and pipelines on the real node: rule-chosen destinations get the transformed body;
 * a batch aggregate keeps its state in the store across a restart; the dry run shows each
 * stage and delivers nothing.
 */
import assert from "node:assert/strict";
import { apiClient, bootstrapAdmin, freePort, startRouter } from "../helpers/router_process.ts";

async function lines(path: string): Promise<Array<Record<string, unknown>>> {
  try {
    return (await Deno.readTextFile(path)).trim().split("\n").filter(Boolean).map((l) =>
      JSON.parse(l)
    );
  } catch {
    return [];
  }
}

async function waitFor<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms: number, what: string) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v)) return v;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const post = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const j = await r.json();
  assert.equal(r.status, 202, JSON.stringify(j));
  return j.id as string;
};

Deno.test("rules choose destinations and the pipeline reshapes the body", async () => {
  const router = await startRouter();
  try {
    const api = apiClient(router.url, await bootstrapAdmin(router.url));
    const file = (n: string) => `${router.dir}/${n}.jsonl`;
    const orders = await api("POST", "/api/destinations", {
      name: "orders",
      type: "file",
      config: { path: file("orders") },
    });
    const audit = await api("POST", "/api/destinations", {
      name: "audit",
      type: "file",
      config: { path: file("audit") },
    });
    const route = await api<{ id: string; endpoint: string }>("POST", "/api/routes", {
      name: "shop",
      rules: [
        {
          name: "big",
          when: { field: "body.total", range: { gte: 100 } },
          destinations: [audit.id],
        },
        { name: "all", destinations: [orders.id] },
      ],
      pipeline: [{
        type: "transform",
        operations: [
          { op: "pick", paths: ["order_id", "total", "customer"] },
          { op: "upper", path: "customer" },
          { op: "copy", from: "$event.id", to: "event_id" },
        ],
      }],
      destinations: [{ destination_id: orders.id }, { destination_id: audit.id }],
    });
    const url = `${router.url}${route.endpoint}`;
    const small = await post(url, { order_id: 1, total: 20, customer: "ada", secret: "x" });
    const big = await post(url, { order_id: 2, total: 500, customer: "bob", secret: "y" });
    const o = await waitFor(() => lines(file("orders")), (l) => l.length === 2, 15_000, "orders");
    const a = await waitFor(() => lines(file("audit")), (l) => l.length === 1, 15_000, "audit");
    const bodies = o.map((r) => JSON.parse(r.body as string)).sort((x, y) =>
      x.order_id - y.order_id
    );
    assert.deepEqual(bodies, [
      { order_id: 1, total: 20, customer: "ADA", event_id: small },
      { order_id: 2, total: 500, customer: "BOB", event_id: big },
    ]);
    assert.equal(a[0].event_id, big, "only the big order reaches the audit destination");

    const dry = await api<Record<string, unknown>>("POST", `/api/routes/${route.id}/test`, {
      body: { order_id: 3, total: 150, customer: "cy" },
    });
    assert.equal(dry.delivered, false);
    assert.deepEqual((dry.destinations as string[]).sort(), [orders.id, audit.id].sort());
    assert.equal((dry.stages as unknown[]).length, 1);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await lines(file("orders"))).length, 2, "the dry run delivered nothing");
  } finally {
    await router.kill("SIGTERM");
    await Deno.remove(router.dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("a batch aggregate keeps its state across a restart", async () => {
  const port = freePort();
  let router = await startRouter({ port });
  const dir = router.dir;
  try {
    const api = apiClient(router.url, await bootstrapAdmin(router.url));
    const out = `${dir}/batches.jsonl`;
    const dest = await api("POST", "/api/destinations", {
      name: "batches",
      type: "file",
      config: { path: out },
    });
    const route = await api<{ endpoint: string }>("POST", "/api/routes", {
      name: "batcher",
      pipeline: [{ type: "aggregate", name: "three", mode: "batch", max_count: 3 }],
      destinations: [{ destination_id: dest.id }],
    });
    await post(`${router.url}${route.endpoint}`, { n: 1 });
    await post(`${router.url}${route.endpoint}`, { n: 2 });
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await lines(out)).length, 0, "nothing emitted before the batch is full");
    await router.kill("SIGKILL");
    router = await startRouter({ port, dir });
    await post(`${router.url}${route.endpoint}`, { n: 3 });
    const got = await waitFor(() => lines(out), (l) => l.length >= 1, 20_000, "the batch");
    const batch = JSON.parse(got[0].body as string);
    assert.deepEqual(batch.map((b: { n: number }) => b.n).sort(), [1, 2, 3]);
  } finally {
    await router.kill("SIGTERM");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("a validate stage that rejects answers 422 with the reason and stores nothing", async () => {
  const router = await startRouter();
  try {
    const api = apiClient(router.url, await bootstrapAdmin(router.url));
    const dest = await api("POST", "/api/destinations", {
      name: "f",
      type: "file",
      config: { path: `${router.dir}/f.jsonl` },
    });
    const route = await api<{ id: string; endpoint: string }>("POST", "/api/routes", {
      name: "strict",
      pipeline: [{
        type: "validate",
        name: "shape",
        schema: { type: "object", required: ["order_id"] },
        on_failure: "reject",
      }],
      destinations: [{ destination_id: dest.id }],
    });
    const bad = await fetch(`${router.url}${route.endpoint}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ nope: true }),
    });
    assert.equal(bad.status, 422);
    const err = await bad.json();
    assert.equal(err.error.code, "rejected");
    assert.match(err.error.message, /shape/);
    assert.match(err.error.message, /order_id/);
    await post(`${router.url}${route.endpoint}`, { order_id: 7 });
    const events = await api<{ total: number }>("GET", `/api/events?route_id=${route.id}`);
    assert.equal(events.total, 1, "only the valid event was stored");
  } finally {
    await router.kill("SIGTERM");
    await Deno.remove(router.dir, { recursive: true }).catch(() => {});
  }
});
