/** Webhook ingress through app.request: limits -> verify -> durable accept -> respond. */
import assert from "node:assert/strict";
import { harness } from "../helpers/app.ts";
import {
  ADMIN_SCOPE,
  b64,
  createRoute,
  expectError,
  expectJson,
  hex,
  hmacSha256,
  post,
  silentLogger,
} from "./_helpers.ts";

Deno.test("webhook: 202 with an evt_ id; raw bytes, headers, query and ip are stored", async () => {
  const h = await harness();
  try {
    const { token, id: owner } = await h.tenant("hook-owner");
    const route = await createRoute(h, token);
    const body = new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0x0a, 0x7d]);
    const res = await post(h, `${route.endpoint}?a=1&b=two%20words`, body, {
      "Content-Type": "application/octet-stream",
      "X-Custom-Thing": "Value-1",
      Authorization: "Bearer sender-session",
      Cookie: "sid=1",
      "X-Front-Peer": "203.0.113.5",
    }, { remoteAddr: "203.0.113.5", hiddenHeader: "x-front-peer" });
    assert.match(res.headers.get("x-request-id") ?? "", /^[\w.:-]+$/, "the request id is echoed");
    const out = await expectJson(res, 202);
    assert.match(out.id, /^evt_[a-z0-9]+$/);
    assert.deepEqual(Object.keys(out), ["id"]);

    const e = await h.store.getEvent(ADMIN_SCOPE, out.id);
    assert.ok(e, "the event is committed before the 202");
    assert.deepEqual(e.body, body, "the body bytes exactly as sent");
    assert.equal(e.tenant, owner);
    assert.equal(e.routeId, route.id);
    assert.equal(e.source, "webhook");
    assert.equal(e.method, "POST");
    assert.equal(e.path, route.endpoint);
    assert.equal(e.query, "a=1&b=two%20words");
    assert.equal(e.ip, "203.0.113.5");
    // accepted for the processor, or already planned at ingest for a route without async stages
    assert.ok(["accepted", "processed"].includes(e.status), e.status);
    assert.equal(e.headers["content-type"], "application/octet-stream");
    assert.equal(e.headers["x-custom-thing"], "Value-1");
    assert.equal(e.headers["authorization"], undefined, "the sender's credentials are dropped");
    assert.equal(e.headers["cookie"], undefined);
    assert.equal(e.headers["x-front-peer"], undefined, "the runtime's own header is not stored");

    // the API shows it, as base64 since it is not UTF-8
    const api = await expectJson(h.call("GET", `/api/events/${out.id}`, undefined, token), 200);
    assert.equal(api.body_encoding, "base64");
    assert.deepEqual(Uint8Array.from(atob(api.body), (c) => c.charCodeAt(0)), body);
    assert.equal(api.source_ip, "203.0.113.5");

    // an empty body is an event too
    const empty = await expectJson(post(h, route.endpoint, null), 202);
    assert.deepEqual((await h.store.getEvent(ADMIN_SCOPE, empty.id))?.body, new Uint8Array());
  } finally {
    await h.close();
  }
});

Deno.test("webhook: unknown and inactive endpoints 404, wrong method 405 with Allow", async () => {
  const h = await harness();
  try {
    const { token } = await h.tenant("hook-404");
    await expectError(
      post(h, "/webhook/wh_doesnotexist00000000000000", "{}"),
      404,
      undefined,
      "not_found",
    );
    const inactive = await createRoute(h, token, { active: false });
    await expectError(post(h, inactive.endpoint, "{}"), 404);

    const live = await createRoute(h, token, { name: "live", method: "PUT" });
    const wrong = await post(h, live.endpoint, "{}");
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get("allow"), "PUT");
    assert.equal((await wrong.json()).error.code, "method_not_allowed");
    await expectJson(post(h, live.endpoint, "{}", {}, { method: "PUT" }), 202);

    // deactivating takes effect at once (the route cache is dropped on change)
    await expectJson(
      h.call(
        "PUT",
        `/api/routes/${live.id}`,
        { name: "live", method: "PUT", active: false },
        token,
      ),
      200,
    );
    await expectError(post(h, live.endpoint, "{}", {}, { method: "PUT" }), 404);
    // and deleting too
    const gone = await createRoute(h, token, { name: "gone", method: "ANY" });
    await expectJson(post(h, gone.endpoint, null, {}, { method: "GET" }), 202);
    await expectJson(h.call("DELETE", `/api/routes/${gone.id}`, undefined, token), 200);
    await expectError(post(h, gone.endpoint, "x"), 404);

    assert.equal((await h.store.listEvents(ADMIN_SCOPE, {}, { limit: 50, offset: 0 })).total, 2);
  } finally {
    await h.close();
  }
});

Deno.test("webhook: a body over the route's limit is 413, with or without Content-Length", async () => {
  const h = await harness();
  try {
    const { token } = await h.tenant("hook-413");
    const route = await createRoute(h, token, { limits: { max_body_bytes: 100 } });
    await expectJson(post(h, route.endpoint, "x".repeat(100)), 202);
    await expectError(post(h, route.endpoint, "x".repeat(101)), 413, "100", "payload_too_large");

    let pulled = 0;
    const chunks = 50;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (pulled++ >= chunks) return c.close();
        c.enqueue(new Uint8Array(40).fill(0x61));
      },
    });
    const req = new Request(`http://localhost${route.endpoint}`, {
      method: "POST",
      body: stream,
      duplex: "half",
    } as RequestInit);
    assert.equal(req.headers.get("content-length"), null, "no declared length to go by");
    const res = await Promise.resolve(h.app.request(req, undefined, { remoteAddr: "127.0.0.1" }));
    await expectError(res, 413, undefined, "payload_too_large");
    assert.ok(pulled < chunks, `reading stopped early (pulled ${pulled} of ${chunks} chunks)`);

    // a small streamed body without a length is fine
    const small = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode("ab"));
        c.enqueue(new TextEncoder().encode("cd"));
        c.close();
      },
    });
    const ok = await expectJson(
      Promise.resolve(h.app.request(route.endpoint, {
        method: "POST",
        body: small,
        duplex: "half",
      } as RequestInit, { remoteAddr: "127.0.0.1" })),
      202,
    );
    const e = await h.store.getEvent(ADMIN_SCOPE, ok.id);
    assert.equal(new TextDecoder().decode(e?.body), "abcd");
    assert.equal((await h.store.listEvents(ADMIN_SCOPE, {}, { limit: 50, offset: 0 })).total, 2);
  } finally {
    await h.close();
  }
});

Deno.test("webhook: per-route rate limit answers 429 with Retry-After", async () => {
  const h = await harness();
  try {
    const { token } = await h.tenant("hook-429");
    const limited = await createRoute(h, token, { limits: { rate_per_second: 0.1, burst: 2 } });
    const free = await createRoute(h, token, { name: "free" });
    await expectJson(post(h, limited.endpoint, "1"), 202);
    await expectJson(post(h, limited.endpoint, "2"), 202);
    const res = await post(h, limited.endpoint, "3");
    assert.equal(res.status, 429);
    const retryAfter = Number(res.headers.get("retry-after"));
    assert.ok(retryAfter >= 1 && retryAfter <= 10, `Retry-After ${retryAfter}`);
    assert.equal((await res.json()).error.code, "rate_limited");
    // other routes are not affected
    for (let i = 0; i < 5; i++) await expectJson(post(h, free.endpoint, "x"), 202);
    assert.equal(
      (await h.store.listEvents(ADMIN_SCOPE, { routeId: limited.id }, { limit: 50, offset: 0 }))
        .total,
      2,
    );
  } finally {
    await h.close();
  }
});

Deno.test("webhook: github preset: 401 on a bad or missing signature, 202 on a good one", async () => {
  const h = await harness();
  try {
    const { token } = await h.tenant("hook-github");
    const secret = "It's a Secret to Everybody";
    const route = await createRoute(h, token, {
      signature_config: { enabled: true, preset: "github", secret },
    });
    const body = '{"action":"opened","number":1}';
    const good = `sha256=${hex(await hmacSha256(secret, body))}`;
    const bad = `sha256=${hex(await hmacSha256("not the secret", body))}`;

    const refused = await expectError(
      post(h, route.endpoint, body, { "x-hub-signature-256": bad, "x-github-delivery": "d-1" }),
      401,
      undefined,
      "unauthorized",
    );
    assert.equal(refused.message, "signature verification failed", "no detail leaked");
    await expectError(post(h, route.endpoint, body), 401);
    // a good signature over other bytes
    await expectError(
      post(h, route.endpoint, body + " ", { "x-hub-signature-256": good }),
      401,
    );
    const ok = await expectJson(
      post(h, route.endpoint, body, {
        "x-hub-signature-256": good,
        "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
      }),
      202,
    );
    const e = await h.store.getEvent(ADMIN_SCOPE, ok.id);
    assert.equal(new TextDecoder().decode(e?.body), body);
    assert.equal(e?.dedupKey, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    assert.equal((await h.store.listEvents(ADMIN_SCOPE, {}, { limit: 50, offset: 0 })).total, 1);
  } finally {
    await h.close();
  }
});

Deno.test("webhook: a repeated webhook-id (standard_webhooks) answers 200 duplicate, no new event", async () => {
  const h = await harness();
  try {
    const { token } = await h.tenant("hook-dedup");
    const key = crypto.getRandomValues(new Uint8Array(24));
    const secret = `whsec_${b64(key)}`;
    const route = await createRoute(h, token, {
      signature_config: { enabled: true, preset: "standard_webhooks", secret },
    });
    const sign = async (id: string, body: string) => {
      const ts = String(Math.floor(Date.now() / 1000));
      return {
        "webhook-id": id,
        "webhook-timestamp": ts,
        "webhook-signature": `v1,${b64(await hmacSha256(key, `${id}.${ts}.${body}`))}`,
        "content-type": "application/json",
      };
    };
    const body = '{"type":"invoice.paid"}';
    const first = await expectJson(post(h, route.endpoint, body, await sign("msg_1", body)), 202);
    const again = await expectJson(post(h, route.endpoint, body, await sign("msg_1", body)), 200);
    assert.deepEqual(again, { id: first.id, duplicate: true });
    const other = await expectJson(post(h, route.endpoint, body, await sign("msg_2", body)), 202);
    assert.notEqual(other.id, first.id);
    // a bad signature with a known id is refused, not reported as a duplicate
    const forged = await sign("msg_1", body);
    forged["webhook-signature"] = `v1,${b64(new Uint8Array(32))}`;
    await expectError(post(h, route.endpoint, body, forged), 401);
    const events = await h.store.listEvents(ADMIN_SCOPE, {}, { limit: 50, offset: 0 });
    assert.equal(events.total, 2);
    assert.deepEqual(events.items.map((e) => e.id).sort(), [first.id, other.id].sort());

    // concurrent repeats sharing one group commit still make one event
    const concurrent = await Promise.all(
      Array.from(
        { length: 5 },
        async () => post(h, route.endpoint, body, await sign("msg_3", body)),
      ),
    );
    const statuses = concurrent.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 200, 200, 202]);
    const bodies = await Promise.all(concurrent.map((r) => r.json()));
    assert.equal(new Set(bodies.map((b) => b.id)).size, 1, "every answer names the one event");
    assert.equal((await h.store.listEvents(ADMIN_SCOPE, {}, { limit: 50, offset: 0 })).total, 3);
  } finally {
    await h.close();
  }
});

Deno.test("webhook: a response template echoes Slack's challenge", async () => {
  const h = await harness();
  try {
    const { token } = await h.tenant("hook-slack");
    const route = await createRoute(h, token, {
      response: { status: 200, headers: { "X-Event": "{{event_id}}" }, body: "{{body.challenge}}" },
    });
    const res = await post(
      h,
      route.endpoint,
      JSON.stringify({
        type: "url_verification",
        token: "t",
        challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
      }),
      { "content-type": "application/json" },
    );
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    assert.equal(await res.text(), "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
    const id = res.headers.get("x-event");
    assert.match(id ?? "", /^evt_/);
    assert.ok(await h.store.getEvent(ADMIN_SCOPE, id!), "the event was stored as well");
  } finally {
    await h.close();
  }
});

Deno.test("webhook: a store failure answers 503 with Retry-After", async () => {
  const log = silentLogger();
  const h = await harness({
    accept: () => Promise.reject(new Error("database is locked")),
    log,
  });
  try {
    const { token } = await h.tenant("hook-503");
    const route = await createRoute(h, token);
    const res = await post(h, route.endpoint, "{}");
    assert.equal(res.status, 503);
    assert.ok(Number(res.headers.get("retry-after")) >= 1);
    const body = await res.json();
    assert.equal(body.error.code, "unavailable");
    assert.equal(body.error.message.includes("locked"), false, "no internals leaked");
    assert.ok(
      log.lines.some(([level, msg]) => level === "error" && msg === "could not commit webhook"),
    );
    assert.equal((await h.store.listEvents(ADMIN_SCOPE, {}, { limit: 50, offset: 0 })).total, 0);
  } finally {
    await h.close();
  }
});

Deno.test("webhook: over capacity answers 503 overloaded with Retry-After before reading the body, and recovers", async () => {
  let busy: number | null = 3;
  const h = await harness({ overloaded: () => busy });
  try {
    const { token } = await h.tenant("hook-busy");
    const route = await createRoute(h, token);
    const res = await post(h, route.endpoint, '{"n":1}');
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("retry-after"), "3");
    assert.equal((await res.json()).error.code, "overloaded");
    assert.equal((await h.store.listEvents(ADMIN_SCOPE, {}, { limit: 50, offset: 0 })).total, 0);
    busy = null; // the backlog drained
    const ok = await post(h, route.endpoint, '{"n":2}');
    assert.equal(ok.status, 202);
    await ok.body?.cancel();
    assert.equal((await h.store.listEvents(ADMIN_SCOPE, {}, { limit: 50, offset: 0 })).total, 1);
  } finally {
    await h.close();
  }
});
