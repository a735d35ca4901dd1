/**
 * The polling trigger in the real process against loopback APIs whose content the test
 * changes: each change-detection mode emits exactly the expected events across restarts of the
 * node (the cursor is durable); SIGKILLs at moments around a poll lose and duplicate nothing;
 * a rotated OAuth2 refresh token survives a restart.
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

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await wait(100);
  }
}

interface Ev {
  body: string;
  source: string;
  headers: Record<string, string>;
}

async function node(
  dir?: string,
  port?: number,
): Promise<{ p: RouterProcess; api: ReturnType<typeof apiClient> }> {
  const p = await startRouter({ dir, port, env: { LEASE_MS: "2000" } });
  return { p, api: apiClient(p.url, await bootstrapAdmin(p.url)) };
}

async function route(api: ReturnType<typeof apiClient>) {
  return (await api("POST", "/api/routes", { name: "polled" })).id as string;
}

/** Events of the route, grouped by trigger id. */
async function byTrigger(api: ReturnType<typeof apiClient>, routeId: string) {
  const items = (await api<{ items: Ev[] }>("GET", `/api/events?route_id=${routeId}&limit=500`))
    .items;
  const out: Record<string, Ev[]> = {};
  for (const e of items.reverse()) (out[e.source.slice(8)] ??= []).push(e);
  return out;
}

Deno.test("polling e2e: every change-detection mode emits exactly its changes across node restarts", async () => {
  const doc = startJsonApi({ content: { v: 1 }, etag: true, lastModified: true });
  const list = startJsonApi({ content: { data: [{ id: "a", rev: 1 }, { id: "b", rev: 1 }] } });
  let n = await node();
  const dir = n.p.dir, port = Number(new URL(n.p.url).port);
  try {
    const routeId = await route(n.api);
    const ids: Record<string, string> = {};
    for (const mode of ["hash", "etag", "last_modified", "none", "items"]) {
      const t = await n.api("POST", "/api/triggers", {
        name: mode,
        type: "polling",
        route_id: routeId,
        config: {
          url: mode === "items" ? list.url : `${doc.url}/${mode}`,
          interval: "1s",
          change_detection: mode,
          ...(mode === "items" ? { items: { path: "$.data", id: "$.id", updated: "$.rev" } } : {}),
        },
      });
      ids[mode] = t.id as string;
    }
    const count = async (mode: string) =>
      ((await byTrigger(n.api, routeId))[ids[mode]] ?? []).length;
    const settle = () => wait(2500); // at least two polls of each trigger
    await until(
      "first events",
      async () => (await count("items")) === 2 && (await count("etag")) === 1 ? 1 : undefined,
    );
    await settle();
    doc.set({ v: 2 });
    list.set({ data: [{ id: "a", rev: 1 }, { id: "b", rev: 2 }, { id: "c", rev: 1 }] });
    await until(
      "second change",
      async () =>
        (await count("items")) === 4 && (await count("last_modified")) === 2 ? 1 : undefined,
    );
    await settle();

    await n.p.kill("SIGTERM");
    const etagPollsBefore = doc.requests.filter((r) => r.url.endsWith("/etag")).length;
    n = await node(dir, port);
    await settle();
    // after the restart the durable cursors make every conditional request match
    const etagAfter = doc.requests.filter((r) => r.url.endsWith("/etag")).slice(etagPollsBefore);
    assert.ok(etagAfter.length >= 2, `polled after the restart: ${etagAfter.length}`);
    assert.ok(etagAfter.every((r) => r.headers["if-none-match"] === '"v2"'));
    for (const [mode, want] of Object.entries({ hash: 2, etag: 2, last_modified: 2, items: 4 })) {
      assert.equal(await count(mode), want, `${mode} emitted nothing new after the restart`);
    }
    doc.set({ v: 3 });
    list.set({ data: [{ id: "b", rev: 2 }, { id: "c", rev: 1 }, { id: "d", rev: 1 }] });
    await until(
      "third change",
      async () => (await count("hash")) === 3 && (await count("items")) === 5 ? 1 : undefined,
    );
    await settle();
    const got = await byTrigger(n.api, routeId);
    for (const mode of ["hash", "etag", "last_modified"]) {
      assert.deepEqual(got[ids[mode]].map((e) => JSON.parse(e.body).v), [1, 2, 3], mode);
    }
    assert.deepEqual(
      got[ids.items].map((e) => `${e.headers["x-poll-item-id"]}${JSON.parse(e.body).rev}`).sort(),
      ["a1", "b1", "b2", "c1", "d1"],
    );
    assert.ok(got[ids.none].length >= 8, `none emits every poll: ${got[ids.none].length}`);
    const t = await n.api("GET", `/api/triggers/${ids.etag}`);
    assert.equal((t.cursor as Record<string, unknown>).etag, '"v3"');
    assert.equal(t.last_error, null);
  } finally {
    await n.p.kill();
    await doc.close();
    await list.close();
  }
});

Deno.test("polling e2e: SIGKILL around a poll (before, during, after the commit) loses and duplicates nothing", async () => {
  const api = startJsonApi({ content: { v: 0 } });
  let n = await node();
  const dir = n.p.dir, port = Number(new URL(n.p.url).port);
  try {
    const routeId = await route(n.api);
    await n.api("POST", "/api/triggers", {
      name: "kill-me",
      type: "polling",
      route_id: routeId,
      config: { url: api.url, interval: "1s" },
    });
    const bodies = async () =>
      Object.values(await byTrigger(n.api, routeId)).flat().map((e) => JSON.parse(e.body).v);
    await until("v0", async () => (await bodies()).includes(0) ? 1 : undefined);
    const delays = [0, 10, 60];
    for (const [i, delay] of delays.entries()) {
      const v = i + 1;
      const killed = new Promise<void>((resolve) => {
        api.onRequest = () => {
          api.onRequest = undefined;
          // the poll has reached the API: kill the node `delay` ms later (answer in flight,
          // commit pending or done, cursor pending or done)
          setTimeout(() => {
            try {
              n.p.child.kill("SIGKILL");
            } catch { /* gone */ }
            resolve();
          }, delay);
        };
      });
      api.set({ v });
      await killed;
      await n.p.kill("SIGKILL");
      n = await node(dir, port);
      await until(`v${v}`, async () => (await bodies()).includes(v) ? 1 : undefined);
    }
    await wait(2500); // more polls: nothing new may appear
    const all = await bodies();
    assert.deepEqual([...all].sort(), [0, 1, 2, 3], `each version exactly once: ${all}`);
  } finally {
    await n.p.kill();
    await api.close();
  }
});

Deno.test({
  name: "polling e2e: a rotated OAuth2 refresh token is kept sealed and used after a restart",
  ...needs("OAUTH2_TOKEN_URL"),
  async fn() {
    const api = startJsonApi({
      content: { ok: true },
      introspect: {
        url: mustPeer("OAUTH2_INTROSPECTION_URL"),
        clientId: mustPeer("OAUTH2_INTROSPECT_CLIENT_ID"),
        clientSecret: mustPeer("OAUTH2_INTROSPECT_CLIENT_SECRET"),
      },
    });
    const minted = await (await fetch(mustPeer("OAUTH2_TEST_TOKENS_URL"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sub: "node-poller" }),
    })).json();
    let n = await node();
    const dir = n.p.dir, port = Number(new URL(n.p.url).port);
    try {
      const routeId = await route(n.api);
      const t = await n.api("POST", "/api/triggers", {
        name: "rt",
        type: "polling",
        route_id: routeId,
        config: {
          url: api.url,
          interval: "1s",
          change_detection: "none",
          oauth2: {
            token_url: mustPeer("OAUTH2_TOKEN_URL"),
            client_id: mustPeer("OAUTH2_CLIENT_ID"),
            client_secret: mustPeer("OAUTH2_CLIENT_SECRET"),
            refresh_token: minted.refresh_token,
          },
        },
      });
      await until(
        "a polled event",
        async () =>
          ((await byTrigger(n.api, routeId))[t.id as string] ?? []).length >= 1 ? 1 : undefined,
      );
      await n.p.kill("SIGTERM");
      n = await node(dir, port);
      const before = ((await byTrigger(n.api, routeId))[t.id as string] ?? []).length;
      await until(
        "events after the restart",
        async () =>
          ((await byTrigger(n.api, routeId))[t.id as string] ?? []).length >= before + 2
            ? 1
            : undefined,
      );
      const state = await n.api("GET", `/api/triggers/${t.id}`);
      assert.equal(state.last_error, null);
      assert.equal(api.tokens().length, 2, "one token before and one after the restart");
      assert.ok(!JSON.stringify(state).includes(minted.refresh_token));
    } finally {
      await n.p.kill();
      await api.close();
    }
  },
});
