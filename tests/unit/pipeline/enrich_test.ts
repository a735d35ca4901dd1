/** enrich: templated requests, merge modes, cache, timeout, OAuth2 grants, limits. */
import assert from "node:assert/strict";
import { compileRoute, runRoute } from "../../../core/pipeline/mod.ts";
import { bodyOf, deps, event } from "./helpers.ts";

interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | null;
}

/** A fetch double: `answer` decides each response; every request is recorded. */
function fakeFetch(answer: (req: Seen, n: number) => Response | Promise<Response>) {
  const seen: Seen[] = [];
  const fn = async (input: string | URL | Request, init?: RequestInit) => {
    const req: Seen = {
      url: String(input),
      method: init?.method ?? "GET",
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      body: typeof init?.body === "string" ? init.body : null,
    };
    seen.push(req);
    if (init?.signal?.aborted) throw init.signal.reason;
    return await answer(req, seen.length);
  };
  return { fetch: fn as typeof fetch, seen };
}

const json = (v: unknown, status = 200) =>
  new Response(JSON.stringify(v), { status, headers: { "content-type": "application/json" } });

let version = 0;
const route = (stage: Record<string, unknown>) =>
  compileRoute({
    id: "route_enrich",
    version: ++version,
    pipeline: [{ type: "enrich", name: "crm", ...stage }],
    destinations: [{ destination_id: "dest_a" }],
  } as never);

Deno.test("enrich: URL placeholders are encoded, answer merged into a field", async () => {
  const f = fakeFetch(() => json({ tier: "gold", address: { country: "FR" } }));
  const out = await runRoute(
    route({
      url: "https://crm.example.com/customers/{{customer.id}}?src={{$event.source}}",
      headers: { "X-Request-Id": "{{$event.id}}" },
      into: "customer.profile",
      select: "{ 'tier': tier, 'country': address.country }",
    }),
    event({ body: { customer: { id: "a/b c" } } }),
    deps({ fetch: f.fetch }),
  );
  assert.equal(f.seen[0].url, "https://crm.example.com/customers/a%2Fb%20c?src=webhook");
  assert.equal(f.seen[0].headers["x-request-id"], "evt_example");
  assert.deepEqual(bodyOf(out), {
    customer: { id: "a/b c", profile: { tier: "gold", country: "FR" } },
  });
});

Deno.test("enrich: missing URL value fails instead of calling a wrong URL", async () => {
  const f = fakeFetch(() => json({}));
  const out = await runRoute(
    route({ url: "https://x.example/{{id}}" }),
    event({ body: {} }),
    deps({ fetch: f.fetch }),
  );
  assert.equal(f.seen.length, 0);
  assert.match(out.failed!.error, /template value \{\{id\}\} is missing/);
  assert.equal(out.failed!.policy, "retry");
});

Deno.test("enrich: POST body templates keep types; deep merge into the root", async () => {
  const f = fakeFetch((req) => json({ echo: JSON.parse(req.body!), nested: { b: 2 } }));
  const out = await runRoute(
    route({
      url: "https://x.example/score",
      method: "POST",
      body: { id: "{{id}}", label: "n{{id}}", fixed: [1] },
    }),
    event({ body: { id: 5, nested: { a: 1 } } }),
    deps({ fetch: f.fetch }),
  );
  assert.equal(f.seen[0].method, "POST");
  assert.equal(f.seen[0].headers["content-type"], "application/json");
  assert.deepEqual(bodyOf(out), {
    id: 5,
    nested: { a: 1, b: 2 },
    echo: { id: 5, label: "n5", fixed: [1] },
  });
});

Deno.test("enrich: non-2xx fails with status; 404 allowed as null", async () => {
  const f = fakeFetch(() => new Response("nope", { status: 503 }));
  const out = await runRoute(
    route({ url: "https://x.example/a", on_error: "dead_letter" }),
    event(),
    deps({ fetch: f.fetch }),
  );
  assert.deepEqual(out.failed, {
    stage: "crm",
    error: "GET https://x.example/a answered 503: nope",
    policy: "dead_letter",
  });
  const nf = fakeFetch(() => new Response("", { status: 404 }));
  const ok = await runRoute(
    route({ url: "https://x.example/a", allow_not_found: true, into: "extra" }),
    event({ body: { a: 1 } }),
    deps({ fetch: nf.fetch }),
  );
  assert.deepEqual(bodyOf(ok), { a: 1, extra: null });
});

Deno.test("enrich: response cache in the state; dry run reads but never writes it", async () => {
  const f = fakeFetch((_r, n) => json({ n }));
  const r = route({ url: "https://x.example/{{id}}", into: "got", cache_ttl_ms: 60_000 });
  const d = deps({ fetch: f.fetch });
  const dry = await runRoute(r, event({ body: { id: 1 } }), { ...d, dryRun: true });
  assert.deepEqual(dry.stages[0].output, { id: 1, got: { n: 1 } });
  assert.equal(d.state.size, 0, "dry run wrote nothing");
  const a = await runRoute(r, event({ body: { id: 1 } }), d);
  const b = await runRoute(r, event({ body: { id: 1 } }), d);
  const c = await runRoute(r, event({ body: { id: 2 } }), d);
  assert.deepEqual([bodyOf(a), bodyOf(b), bodyOf(c)], [{ id: 1, got: { n: 2 } }, {
    id: 1,
    got: { n: 2 },
  }, {
    id: 2,
    got: { n: 3 },
  }]);
  assert.equal(f.seen.length, 3);
  assert.equal(b.stages[0].note, "from cache");
});

Deno.test("enrich: timeout aborts the call", async () => {
  const slow = ((_: unknown, init?: RequestInit) =>
    new Promise((_resolve, reject) => {
      init?.signal?.addEventListener("abort", () => reject(init.signal!.reason));
    })) as typeof fetch;
  const t = performance.now();
  const out = await runRoute(
    route({ url: "https://x.example/slow", timeout_ms: 50 }),
    event(),
    deps({ fetch: slow }),
  );
  assert.ok(performance.now() - t < 2000);
  assert.match(out.failed!.error, /timed out|timeout|aborted/i);
});

Deno.test("enrich: response size cap", async () => {
  const f = fakeFetch(() => json({ big: "x".repeat(5000) }));
  const out = await runRoute(
    route({ url: "https://x.example/a", max_response_bytes: 1000 }),
    event(),
    deps({ fetch: f.fetch }),
  );
  assert.match(out.failed!.error, /exceeds 1000/);
});

Deno.test("enrich: bearer and basic auth", async () => {
  const f = fakeFetch(() => json({}));
  await runRoute(
    route({ url: "https://x.example/a", auth: { type: "bearer", token: "t0k" } }),
    event(),
    deps({ fetch: f.fetch }),
  );
  await runRoute(
    route({ url: "https://x.example/a", auth: { type: "basic", username: "u", password: "p" } }),
    event(),
    deps({ fetch: f.fetch }),
  );
  assert.equal(f.seen[0].headers.authorization, "Bearer t0k");
  assert.equal(f.seen[1].headers.authorization, `Basic ${btoa("u:p")}`);
});

Deno.test("enrich: OAuth2 client credentials, token cached and shared", async () => {
  let tokens = 0;
  const f = fakeFetch((req) => {
    if (req.url === "https://auth.example/token") {
      tokens++;
      return json({ access_token: `tok${tokens}`, expires_in: 3600, token_type: "Bearer" });
    }
    return json({ auth: req.headers.authorization });
  });
  const r = route({
    url: "https://api.example/me",
    into: "who",
    auth: {
      type: "oauth2_client_credentials",
      token_url: "https://auth.example/token",
      client_id: "router id",
      client_secret: "s3cr&t",
      scope: "read",
      audience: "api",
    },
  });
  const d = deps({ fetch: f.fetch });
  const outs = await Promise.all([1, 2, 3].map(() => runRoute(r, event({ body: {} }), d)));
  assert.equal(tokens, 1, "one token request for concurrent events");
  for (const o of outs) assert.deepEqual(bodyOf(o), { who: { auth: "Bearer tok1" } });
  const tokenReq = f.seen.find((s) => s.url.endsWith("/token"))!;
  assert.equal(tokenReq.method, "POST");
  assert.equal(tokenReq.headers.authorization, `Basic ${btoa("router%20id:s3cr%26t")}`);
  const form = new URLSearchParams(tokenReq.body!);
  assert.equal(form.get("grant_type"), "client_credentials");
  assert.equal(form.get("scope"), "read");
  assert.equal(form.get("audience"), "api");
});

Deno.test("enrich: OAuth2 token expiry, 401 refresh, refresh-token grant with rotation", async () => {
  let issued = 0;
  const refreshTokens: string[] = [];
  let t = 0;
  const f = fakeFetch((req) => {
    if (req.url.endsWith("/token")) {
      const form = new URLSearchParams(req.body!);
      refreshTokens.push(form.get("refresh_token")!);
      issued++;
      return json({ access_token: `a${issued}`, expires_in: 60, refresh_token: `r${issued}` });
    }
    // the first access token gets revoked early
    if (req.headers.authorization === "Bearer a1" && issued === 1 && t === 1) {
      return new Response("revoked", { status: 401 });
    }
    return json({ ok: req.headers.authorization });
  });
  const r = route({
    url: "https://api.example/x",
    into: "r",
    auth: {
      type: "oauth2_refresh_token",
      token_url: "https://auth.example/token",
      client_id: "cid",
      refresh_token: "r0",
      client_auth: "body",
    },
  });
  const d = deps({ fetch: f.fetch, now: () => t * 1000 });
  t = 0;
  assert.deepEqual(bodyOf(await runRoute(r, event({ body: {} }), d)), { r: { ok: "Bearer a1" } });
  t = 1; // a1 answered 401: one retry with a fresh token
  assert.deepEqual(bodyOf(await runRoute(r, event({ body: {} }), d)), { r: { ok: "Bearer a2" } });
  t = 100; // a2 expired (60 s minus the 30 s margin)
  assert.deepEqual(bodyOf(await runRoute(r, event({ body: {} }), d)), { r: { ok: "Bearer a3" } });
  assert.deepEqual(refreshTokens, ["r0", "r1", "r2"], "rotated refresh tokens are used");
  const tokenReq = f.seen.find((s) => s.url.endsWith("/token"))!;
  assert.equal(new URLSearchParams(tokenReq.body!).get("client_id"), "cid");
  assert.equal(tokenReq.headers.authorization, undefined);
});

Deno.test("enrich: token endpoint errors fail the stage", async () => {
  const f = fakeFetch(() => json({ error: "invalid_client" }, 401));
  const out = await runRoute(
    route({
      url: "https://api.example/x",
      auth: {
        type: "oauth2_client_credentials",
        token_url: "https://auth.example/token",
        client_id: "c",
        client_secret: "s",
      },
    }),
    event(),
    deps({ fetch: f.fetch }),
  );
  assert.match(out.failed!.error, /token endpoint https:\/\/auth\.example\/token answered 401/);
});

Deno.test("enrich: config checks", async () => {
  const { validateRouteDefinition } = await import("../../../core/pipeline/mod.ts");
  const r = validateRouteDefinition({
    id: "x",
    version: 1,
    pipeline: [{ type: "enrich", url: "ftp://x", auth: { type: "oauth3" } }],
    destinations: [],
  });
  assert.equal(r.ok, false);
  const text = (r as { issues: { path: string; message: string }[] }).issues.map((i) =>
    `${i.path}: ${i.message}`
  ).join("\n");
  assert.match(text, /pipeline\[0\]\.url: url must start with http/);
  assert.match(text, /pipeline\[0\]\.auth: unknown auth type "oauth3"/);
});
