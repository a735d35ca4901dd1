/** The full node's edge endpoints through app.request: hop signature, routes document, batches. */
import assert from "node:assert/strict";
import { harness } from "../helpers/app.ts";
import {
  ADMIN_SCOPE,
  createDestination,
  createRoute,
  expectError,
  expectJson,
} from "./_helpers.ts";
import { hopKey } from "../../core/edge/hop.ts";
import { routesDocSchema } from "../../core/edge/routes_doc.ts";
import { toWire } from "../../core/edge/wire.ts";
import { newId } from "../../core/model/ids.ts";
import type { Envelope } from "../../core/ports.ts";

const SECRET = "edge-secret-for-tests-0123456789abcdef";
const hop = hopKey(SECRET);
const enc = new TextEncoder();

async function signedGet(h: Awaited<ReturnType<typeof harness>>, path: string, extra = {}) {
  const headers = await hop.sign(new Uint8Array(), Date.now());
  return await h.app.request(path, { headers: { ...headers, ...extra } });
}

async function postBatch(
  h: Awaited<ReturnType<typeof harness>>,
  batch: unknown,
  opts: { secret?: string; now?: number } = {},
) {
  const body = enc.encode(JSON.stringify(batch));
  const key = opts.secret ? hopKey(opts.secret) : hop;
  const headers = await key.sign(body, opts.now ?? Date.now());
  return await h.app.request("/edge/v1/events", {
    method: "POST",
    body,
    headers: { ...headers, "content-type": "application/json" },
  });
}

function edgeEvent(route: { id: string; endpoint: string }, tenant: string, body = '{"n":1}') {
  return {
    id: newId("evt"),
    tenant,
    routeId: route.id,
    source: "webhook",
    receivedAt: Date.now() - 1000,
    method: "POST",
    path: route.endpoint,
    query: "x=1",
    ip: "198.51.100.7",
    headers: { "content-type": "application/json", "x-sender": "s" },
    body: enc.encode(body),
    dedupKey: null,
  } satisfies Envelope;
}

Deno.test("edge endpoints: without EDGE_SECRET they answer 404", async () => {
  const h = await harness();
  try {
    await expectError(signedGet(h, "/edge/v1/routes"), 404, undefined, "not_found");
    await expectError(postBatch(h, { edge_id: "e", events: [] }), 404);
  } finally {
    await h.close();
  }
});

Deno.test("edge routes: signed GET gets the sealed document with opened secrets; 304 on its ETag", async () => {
  const h = await harness({ edge: { secret: SECRET } });
  try {
    const { token, id: owner } = await h.tenant("edge-routes");
    const gh = await createRoute(h, token, {
      name: "gh",
      signature_config: { enabled: true, preset: "github", secret: "gh-secret-1" },
      limits: { max_body_bytes: 100, rate_per_second: 5 },
      response: { status: 200, body: "{{body.challenge}}" },
    });
    await createRoute(h, token, { name: "off", active: false });

    await expectError(h.app.request("/edge/v1/routes"), 401, undefined, "unauthorized");
    const forged = await hopKey("another-secret-of-enough-length-0000").sign(
      new Uint8Array(),
      Date.now(),
    );
    await expectError(h.app.request("/edge/v1/routes", { headers: forged }), 401);

    const res = await signedGet(h, "/edge/v1/routes");
    assert.equal(res.status, 200);
    const etag = res.headers.get("etag")!;
    const text = await res.text();
    assert.ok(text.startsWith("sealed:v1:"), "the document travels sealed");
    assert.ok(!text.includes("gh-secret-1"));
    const ok = await hop.verify(res.headers, enc.encode(text), Date.now());
    assert.ok(ok.ok, "the answer is signed by the node");
    const doc = routesDocSchema.parse(JSON.parse(await hop.sealer.open(text)));
    assert.equal(etag, `"${doc.version}"`);
    assert.equal(doc.max_body_bytes, 1024 * 1024);
    assert.deepEqual(doc.routes.map((r) => r.id), [gh.id], "inactive routes are not listed");
    const r = doc.routes[0];
    assert.equal(r.owner, owner);
    assert.equal(r.endpoint, gh.endpoint);
    assert.deepEqual(r.limits, { max_body_bytes: 100, rate_per_second: 5 });
    assert.equal((r.signature_config as { secret: string }).secret, "gh-secret-1");
    assert.deepEqual(r.response, { status: 200, body: "{{body.challenge}}" });

    const again = await signedGet(h, "/edge/v1/routes", { "if-none-match": etag });
    assert.equal(again.status, 304);
    await again.body?.cancel();

    // a change gives a new version
    await expectJson(
      h.call("PUT", `/api/routes/${gh.id}`, { name: "gh", active: false }, token),
      200,
    );
    const changed = await signedGet(h, "/edge/v1/routes", { "if-none-match": etag });
    assert.equal(changed.status, 200);
    const doc2 = JSON.parse(await hop.sealer.open(await changed.text()));
    assert.deepEqual(doc2.routes, []);
  } finally {
    await h.close();
  }
});

Deno.test("edge events: a signed batch is committed under the edge's ids, planned like a direct webhook; a re-forward is a duplicate", async () => {
  const h = await harness({ edge: { secret: SECRET } });
  try {
    const { token, id: owner } = await h.tenant("edge-events");
    const dest = await createDestination(h, token, { name: "log-out" });
    const route = await createRoute(h, token, { destinations: [{ destination_id: dest.id }] });
    const a = edgeEvent(route, owner), b = edgeEvent(route, owner, '{"n":2}');
    const batch = { edge_id: "fra-1", events: [toWire(a), toWire(b)] };

    const res = await postBatch(h, batch);
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.ok((await hop.verify(res.headers, enc.encode(text), Date.now())).ok, "signed answer");
    assert.deepEqual(JSON.parse(text), {
      results: [{ id: a.id, status: "committed" }, { id: b.id, status: "committed" }],
    });

    const stored = await h.store.getEvent(ADMIN_SCOPE, a.id);
    assert.ok(stored, "stored under the edge's id");
    assert.equal(stored.source, "edge:fra-1");
    assert.equal(stored.tenant, owner);
    assert.equal(stored.routeId, route.id);
    assert.equal(stored.receivedAt, a.receivedAt);
    assert.equal(stored.ip, "198.51.100.7");
    assert.equal(stored.query, "x=1");
    assert.equal(stored.headers["x-sender"], "s");
    assert.deepEqual(stored.body, a.body);
    assert.equal(stored.status, "processed", "planned at once, like a direct webhook");
    const deliveries = await h.store.eventDeliveries(a.id);
    assert.equal(deliveries.length, 1);
    assert.equal(deliveries[0].destinationId, dest.id);

    const api = await expectJson(h.call("GET", `/api/events/${a.id}`, undefined, token), 200);
    assert.equal(api.source, "edge:fra-1", "the API shows it came through an edge");

    // forwarded again (the edge never saw the answer): duplicates, nothing new stored
    const again = await expectJson(postBatch(h, batch), 200);
    assert.deepEqual(again.results, [
      { id: a.id, status: "duplicate", duplicate_of: a.id },
      { id: b.id, status: "duplicate", duplicate_of: b.id },
    ]);
    assert.equal((await h.store.eventDeliveries(a.id)).length, 1, "no second delivery");
    assert.equal((await h.store.listEvents(ADMIN_SCOPE, {}, { limit: 50, offset: 0 })).total, 2);

    // a sender's retry through the edge (same dedup key, new edge id) is a duplicate too
    const sig = await createRoute(h, token, {
      name: "sw",
      signature_config: {
        enabled: true,
        preset: "standard_webhooks",
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      },
    });
    const first = { ...edgeEvent(sig, owner), dedupKey: "msg_1" };
    const retry = { ...edgeEvent(sig, owner), dedupKey: "msg_1" };
    await expectJson(postBatch(h, { edge_id: "fra-1", events: [toWire(first)] }), 200);
    const dup = await expectJson(postBatch(h, { edge_id: "fra-1", events: [toWire(retry)] }), 200);
    assert.deepEqual(dup.results, [{ id: retry.id, status: "duplicate", duplicate_of: first.id }]);
  } finally {
    await h.close();
  }
});

Deno.test("edge events: forged, stale and malformed batches are refused and store nothing", async () => {
  const h = await harness({ edge: { secret: SECRET } });
  try {
    const { token, id: owner } = await h.tenant("edge-refused");
    const route = await createRoute(h, token);
    const e = edgeEvent(route, owner);
    const batch = { edge_id: "e1", events: [toWire(e)] };
    await expectError(
      postBatch(h, batch, { secret: "not-the-edge-secret-but-long-enough" }),
      401,
      undefined,
      "unauthorized",
    );
    await expectError(postBatch(h, batch, { now: Date.now() - 10 * 60_000 }), 401);
    const unsigned = await h.app.request("/edge/v1/events", {
      method: "POST",
      body: JSON.stringify(batch),
    });
    await expectError(unsigned, 401);
    await expectError(
      postBatch(h, { ...batch, extra: 1 }),
      400,
      "extra",
      "invalid_body",
    );
    await expectError(
      postBatch(h, { edge_id: "e1", events: [{ ...toWire(e), id: "nope" }] }),
      400,
      "events.0.id",
    );
    assert.equal((await h.store.listEvents(ADMIN_SCOPE, {}, { limit: 50, offset: 0 })).total, 0);
  } finally {
    await h.close();
  }
});
