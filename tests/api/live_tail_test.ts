/**
 * GET /api/events/stream: the live tail as server-sent events, read through a real SSE parse
 * of the response stream. Only events accepted after it opened, only the caller's, only the
 * route asked for.
 */
import assert from "node:assert/strict";
import { harness } from "../helpers/app.ts";
import { createRoute, envelope, expectError } from "./_helpers.ts";

/** Reads SSE messages from a response until `want` of the named event arrived. */
async function readEvents(res: Response, want: number, name = "event", timeoutMs = 5000) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const got: unknown[] = [];
  let buf = "";
  const deadline = setTimeout(() => reader.cancel("timeout"), timeoutMs);
  try {
    while (got.length < want) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev = block.match(/^event: (.*)$/m)?.[1];
        const data = block.match(/^data: (.*)$/m)?.[1];
        if (ev === name && data) got.push(JSON.parse(data));
      }
    }
  } finally {
    clearTimeout(deadline);
    await reader.cancel().catch(() => {});
  }
  return got;
}

Deno.test("live tail: new events of the caller's route arrive as server-sent events", async () => {
  const h = await harness({ liveTailIntervalMs: 50 });
  try {
    const { token, id: tenant } = await h.tenant("tail-owner");
    const stranger = await h.tenant("tail-stranger");
    const route = (await createRoute(h, token, { name: "watched" })).id as string;
    const other = (await createRoute(h, token, { name: "other" })).id as string;
    const strangerRoute = (await createRoute(h, stranger.token, { name: "theirs" })).id as string;
    const before = envelope(tenant, route, { receivedAt: Date.now() - 5000 });
    await h.store.accept([before]);

    const res = await h.call("GET", `/api/events/stream?route_id=${route}`, undefined, token);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
    const big = "x".repeat(5000);
    const mine = envelope(tenant, route, { body: new TextEncoder().encode(big) });
    const second = envelope(tenant, route, { receivedAt: mine.receivedAt });
    setTimeout(async () => {
      await h.store.accept([envelope(stranger.id, strangerRoute)]);
      await h.store.accept([envelope(tenant, other)]);
      await h.store.accept([mine]);
      await new Promise((r) => setTimeout(r, 120));
      await h.store.accept([second]);
    }, 100);
    const got = await readEvents(res, 2) as Array<
      { id: string; route_id: string; body: string; truncated: boolean }
    >;
    assert.deepEqual(got.map((e) => e.id), [mine.id, second.id], "no old, other-route or foreign");
    assert.equal(got[0].route_id, route);
    assert.equal(got[0].body.length, 2048, "a preview of the body");
    assert.equal(got[0].truncated, true);
    assert.equal(got[1].truncated, false);

    // the whole tenant when no route is named; another tenant's route answers 404
    const all = await h.call("GET", "/api/events/stream", undefined, token);
    const later = envelope(tenant, other);
    setTimeout(() => h.store.accept([later]), 100);
    assert.deepEqual((await readEvents(all, 1) as Array<{ id: string }>).map((e) => e.id), [
      later.id,
    ]);
    await expectError(
      h.call("GET", `/api/events/stream?route_id=${strangerRoute}`, undefined, token),
      404,
      strangerRoute,
    );
    await expectError(h.call("GET", "/api/events/stream"), 401);
  } finally {
    await h.close();
  }
});
