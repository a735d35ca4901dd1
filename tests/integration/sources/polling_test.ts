/**
 * The polling source against a loopback JSON API and the real OAuth2 server (oidc-provider):
 * every change-detection mode, the cursor kept across a restart of the source, crashes on
 * either side of the commit, OAuth2 tokens fetched / cached / refreshed (client credentials and
 * a rotating refresh token), bearer / basic / API key, Retry-After and backoff, the guard.
 */
import assert from "node:assert/strict";
import { type SourceHarness, sourceHarness } from "../../helpers/source_harness.ts";
import { type JsonApi, startJsonApi } from "../../helpers/json_api.ts";
import { mustPeer, needs } from "../../helpers/peers.ts";
import { pollingSourceFactory } from "../../../adapters/sources/polling/source.ts";
import { createOutbound } from "../../../runtimes/deno/outbound.ts";
import { createAddressPolicy } from "../../../core/net/policy.ts";
import type { PollResult, Source } from "../../../core/ports.ts";

const signal = new AbortController().signal;
const dec = new TextDecoder();

async function withApi(
  apiOpts: Parameters<typeof startJsonApi>[0],
  fn: (h: SourceHarness, api: JsonApi) => Promise<void>,
) {
  const h = await sourceHarness();
  const api = startJsonApi(apiOpts);
  try {
    await fn(h, api);
  } finally {
    await api.close();
    await h.close();
  }
}

/** A fresh source for trigger `id` (a restart: the cursor stays in the harness). */
function source(h: SourceHarness, config: Record<string, unknown>, id = "trigger_poll") {
  const ctx = h.context(id, "polling");
  return pollingSourceFactory.create(pollingSourceFactory.parseConfig(config), ctx) as Source & {
    poll(signal: AbortSignal): Promise<PollResult>;
  };
}

const bodies = async (h: SourceHarness) => (await h.events()).map((e) => dec.decode(e.body));

Deno.test("polling hash: emits when the body changes, A -> B -> A is three events; restart keeps the cursor", async () => {
  await withApi({ content: { v: "A" } }, async (h, api) => {
    const cfg = { url: api.url, interval: "1s" };
    let s = source(h, cfg);
    assert.equal((await s.poll(signal)).emitted, 1);
    assert.equal((await s.poll(signal)).emitted, 0, "unchanged");
    api.set({ v: "B" });
    assert.equal((await s.poll(signal)).emitted, 1);
    api.set({ v: "A" });
    assert.equal((await s.poll(signal)).emitted, 1, "back to A is a change too");
    s = source(h, cfg); // restart
    assert.equal((await s.poll(signal)).emitted, 0, "the cursor survived");
    assert.deepEqual(await bodies(h), ['{"v":"A"}', '{"v":"B"}', '{"v":"A"}']);
    const e = (await h.events())[0];
    assert.equal(e.headers["x-poll-status"], "200");
    assert.equal(e.headers["content-type"], "application/json");
    assert.ok(Date.parse(e.headers["x-poll-at"]) > 0);
    assert.equal(e.source, "trigger:trigger_poll");
  });
});

Deno.test("polling etag: conditional requests, 304 emits nothing; last_modified likewise", async () => {
  await withApi({ content: { n: 1 }, etag: true }, async (h, api) => {
    const s = source(h, { url: api.url, change_detection: "etag" });
    assert.equal((await s.poll(signal)).emitted, 1);
    assert.equal((await s.poll(signal)).emitted, 0);
    assert.equal(api.requests.at(-1)!.headers["if-none-match"], '"v1"');
    api.set({ n: 2 });
    assert.equal((await s.poll(signal)).emitted, 1);
    const evs = await h.events();
    assert.equal(evs.length, 2);
    assert.equal(evs[1].headers.etag, '"v2"');
    assert.equal(h.statuses.get("trigger_poll")?.last_status, 200);
  });
  await withApi({ content: { n: 1 }, lastModified: true }, async (h, api) => {
    const s = source(h, { url: api.url, change_detection: "last_modified" });
    assert.equal((await s.poll(signal)).emitted, 1);
    assert.equal((await s.poll(signal)).emitted, 0);
    assert.ok(api.requests.at(-1)!.headers["if-modified-since"]);
    api.set({ n: 2 });
    assert.equal((await s.poll(signal)).emitted, 1);
    assert.equal((await h.events()).length, 2);
  });
});

Deno.test("polling items: one event per new or changed item, by id and version", async () => {
  const list = (items: unknown[]) => ({ data: items, total: items.length });
  await withApi({
    content: list([{ id: 1, name: "a", updated_at: "t1" }, { id: 2, name: "b", updated_at: "t1" }]),
  }, async (h, api) => {
    const cfg = {
      url: api.url,
      change_detection: "items",
      items: { path: "$.data", id: "$.id", updated: "$.updated_at" },
    };
    let s = source(h, cfg);
    assert.equal((await s.poll(signal)).emitted, 2);
    assert.equal((await s.poll(signal)).emitted, 0);
    api.set(list([
      { id: 1, name: "a", updated_at: "t1" },
      { id: 2, name: "b2", updated_at: "t2" },
      { id: 3, name: "c", updated_at: "t1" },
    ]));
    s = source(h, cfg);
    assert.equal((await s.poll(signal)).emitted, 2, "2 changed, 3 new; 1 unchanged");
    // one batch shares its receive time, so compare by item rather than by order
    const evs = await h.events();
    const byName = Object.fromEntries(
      evs.map((e) => [JSON.parse(dec.decode(e.body)).name, e.headers]),
    );
    assert.deepEqual(Object.keys(byName).sort(), ["a", "b", "b2", "c"]);
    assert.equal(byName.b2["x-poll-item-change"], "changed");
    assert.equal(byName.c["x-poll-item-change"], "new");
    assert.equal(byName.c["x-poll-item-id"], "3");
    assert.equal(byName.a["x-poll-item-change"], "new");
    api.set({ data: "nope" });
    await assert.rejects(s.poll(signal), /\$\.data is not an array/);
  });
});

Deno.test("polling none: every poll is an event", async () => {
  await withApi({ content: { same: true } }, async (h, api) => {
    const s = source(h, { url: api.url, change_detection: "none" });
    for (let i = 0; i < 3; i++) assert.equal((await s.poll(signal)).emitted, 1);
    assert.equal((await h.events()).length, 3);
  });
});

Deno.test("polling: a crash before the commit loses nothing; after it, the re-poll is a duplicate", async () => {
  await withApi({ content: { v: 1 } }, async (h, api) => {
    const cfg = { url: api.url };
    // dies between fetch and commit: nothing stored, the cursor untouched
    let ctx = h.context("trigger_crash", "polling", {
      beforeCommit: () => {
        throw new Error("killed before commit");
      },
    });
    let s = pollingSourceFactory.create(pollingSourceFactory.parseConfig(cfg), ctx);
    await assert.rejects(s.poll!(signal), /killed before commit/);
    assert.equal((await h.events()).length, 0);
    // dies after the commit, before the cursor is written
    ctx = h.context("trigger_crash", "polling");
    ctx.cursor.set = () => Promise.reject(new Error("killed before the cursor"));
    s = pollingSourceFactory.create(pollingSourceFactory.parseConfig(cfg), ctx);
    await assert.rejects(s.poll!(signal), /killed before the cursor/);
    assert.equal((await h.events()).length, 1, "committed once");
    // restarted: the same change again is answered as a duplicate, then the cursor moves
    const again = await source(h, cfg, "trigger_crash").poll(signal);
    assert.deepEqual([again.emitted, again.duplicates], [0, 1]);
    assert.equal((await source(h, cfg, "trigger_crash").poll(signal)).duplicates, 0);
    api.set({ v: 2 });
    assert.equal((await source(h, cfg, "trigger_crash").poll(signal)).emitted, 1);
    assert.equal((await h.events()).length, 2);
  });
});

Deno.test("polling auth: bearer, basic, API key in a header or the query, static headers", async () => {
  await withApi({}, async (h, api) => {
    await source(h, { url: api.url, auth: { type: "bearer", token: "tok-1" } }).poll(signal);
    assert.equal(api.requests.at(-1)!.headers.authorization, "Bearer tok-1");
    await source(h, { url: api.url, auth: { type: "basic", username: "u", password: "p:w" } })
      .poll(signal);
    assert.equal(api.requests.at(-1)!.headers.authorization, `Basic ${btoa("u:p:w")}`);
    await source(h, { url: api.url, auth: { type: "api_key", api_key: "k1" } }).poll(signal);
    assert.equal(api.requests.at(-1)!.headers["x-api-key"], "k1");
    await source(h, {
      url: `${api.url}/x?a=1`,
      auth: { type: "api_key", api_key: "k2", query: "key" },
      method: "POST",
      body: { q: 1 },
      headers: { "X-Client": "er" },
    }).poll(signal);
    const r = api.requests.at(-1)!;
    assert.equal(new URL(r.url).searchParams.get("key"), "k2");
    assert.equal(new URL(r.url).searchParams.get("a"), "1");
    assert.equal(r.method, "POST");
    assert.equal(r.body, '{"q":1}');
    assert.equal(r.headers["content-type"], "application/json");
    assert.equal(r.headers["x-client"], "er");
  });
});

Deno.test("polling: 429 and 503 wait for Retry-After; other failures back off; all show as errors", async () => {
  await withApi({ content: { ok: 1 } }, async (h, api) => {
    const s = source(h, { url: api.url, interval: "2s" });
    const t0 = Date.now();
    assert.equal(s.nextRunAt!(null, t0), t0, "never ran: now");
    await s.poll(signal);
    assert.equal(s.nextRunAt!(t0, t0), t0 + 2000);
    api.fail({ status: 429, headers: { "retry-after": "30" } });
    await assert.rejects(s.poll(signal), /answered 429; retrying after 30 s/);
    assert.ok(s.nextRunAt!(t0, Date.now())! >= t0 + 29_000, "Retry-After honoured");
    api.fail({
      status: 503,
      headers: { "retry-after": new Date(Date.now() + 60_000).toUTCString() },
    });
    await assert.rejects(s.poll(signal), /answered 503/);
    assert.ok(s.nextRunAt!(t0, Date.now())! >= t0 + 58_000, "an HTTP date too");
    api.fail({ status: 500 }, { status: 500 });
    await assert.rejects(s.poll(signal), /answered 500/);
    await assert.rejects(s.poll(signal), /answered 500/);
    // four failures in a row: 2 s * 2^4
    const last = Date.now();
    assert.ok(s.nextRunAt!(last, last)! >= last + 32_000 - 1);
    await s.poll(signal);
    assert.equal(s.nextRunAt!(last, last), last + 2000, "a success resets the backoff");
  });
});

Deno.test("polling: the address guard refuses a loopback API for a tenant", async () => {
  await withApi({}, async (h, api) => {
    const guarded = createOutbound(createAddressPolicy({ allowPrivate: false }));
    try {
      const ctx = h.context("trigger_guard", "polling", { outbound: guarded });
      const s = pollingSourceFactory.create(
        pollingSourceFactory.parseConfig({ url: api.url }),
        ctx,
      );
      await assert.rejects(s.poll!(signal), /forbidden|refus|private|loopback/i);
      assert.equal(api.requests.length, 0, "the API never saw a request");
    } finally {
      await guarded.close();
    }
  });
});

const oauth = needs("OAUTH2_TOKEN_URL");

function introspection() {
  return {
    url: mustPeer("OAUTH2_INTROSPECTION_URL"),
    clientId: mustPeer("OAUTH2_INTROSPECT_CLIENT_ID"),
    clientSecret: mustPeer("OAUTH2_INTROSPECT_CLIENT_SECRET"),
  };
}

Deno.test({
  name: "polling oauth2 client credentials: fetched, cached, refreshed on 401 and on expiry",
  ...oauth,
  async fn() {
    await withApi({ content: { ok: 1 }, introspect: introspection() }, async (h, api) => {
      const oauth2 = {
        token_url: mustPeer("OAUTH2_TOKEN_URL"),
        client_id: mustPeer("OAUTH2_CLIENT_ID"),
        client_secret: mustPeer("OAUTH2_CLIENT_SECRET"),
        scopes: ["read"],
      };
      const s = source(h, { url: api.url, change_detection: "none", oauth2 });
      for (let i = 0; i < 3; i++) await s.poll(signal);
      assert.equal(api.tokens().length, 1, "one token for three polls (cached)");
      api.fail({ status: 401 });
      await s.poll(signal);
      assert.equal(api.tokens().length, 2, "a 401 fetched a new token and the poll retried");
      assert.equal((await h.events()).length, 4);
      // ${oauth_token} in a header of one's own choosing
      const custom = source(h, {
        url: api.url,
        headers: { Authorization: "Bearer ${oauth_token}", "X-Token": "${oauth_token}" },
        oauth2: { ...oauth2, client_id: mustPeer("OAUTH2_POST_CLIENT_ID"), client_auth: "body" },
      }, "trigger_custom");
      await custom.poll(signal);
      const r = api.requests.at(-1)!;
      assert.equal(r.headers.authorization, `Bearer ${r.headers["x-token"]}`);
      // a token living 32 s is used until 30 s before its end: then a new one
      const short = source(h, {
        url: api.url,
        change_detection: "none",
        oauth2: { ...oauth2, client_id: mustPeer("OAUTH2_SHORT_CLIENT_ID") },
      }, "trigger_short");
      await short.poll(signal);
      const before = api.tokens().length;
      await short.poll(signal);
      assert.equal(api.tokens().length, before, "still cached");
      await new Promise((r) => setTimeout(r, 2500));
      await short.poll(signal);
      assert.equal(api.tokens().length, before + 1, "renewed near its expiry");
      // a wrong secret is the poll's error, naming the token endpoint
      const bad = source(
        h,
        { url: api.url, oauth2: { ...oauth2, client_secret: "wrong" } },
        "t_bad",
      );
      await assert.rejects(bad.poll(signal), /token endpoint .* answered 401/);
    });
  },
});

Deno.test({
  name: "polling oauth2 refresh token: the rotated token is kept and used after a restart",
  ...oauth,
  async fn() {
    await withApi({ content: { ok: 1 }, introspect: introspection() }, async (h, api) => {
      const minted = await (await fetch(mustPeer("OAUTH2_TEST_TOKENS_URL"), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sub: "poller" }),
      })).json();
      const cfg = {
        url: api.url,
        change_detection: "none",
        oauth2: {
          token_url: mustPeer("OAUTH2_TOKEN_URL"),
          client_id: mustPeer("OAUTH2_CLIENT_ID"),
          client_secret: mustPeer("OAUTH2_CLIENT_SECRET"),
          refresh_token: minted.refresh_token,
        },
      };
      await source(h, cfg, "trigger_rt").poll(signal);
      const kept = [...(h.secrets.get("trigger_rt")?.values() ?? [])];
      assert.equal(kept.length, 1, "the rotated refresh token is kept");
      assert.notEqual(kept[0], minted.refresh_token);
      // restart: the configured token is spent (rotated); only the kept one works
      await source(h, cfg, "trigger_rt").poll(signal);
      assert.equal((await h.events()).length, 2);
      assert.equal(api.tokens().length, 2);
      // without the kept token (another trigger, same config) the spent one fails
      await assert.rejects(source(h, cfg, "trigger_rt_fresh").poll(signal), /invalid_grant/);
    });
  },
});
