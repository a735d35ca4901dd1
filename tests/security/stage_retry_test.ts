/**
 * A failing pipeline stage follows the delivery rule: retried on the schedule, given up after
 * the attempt limit, dead-lettered at once for a permanent error (a refused address, a 4xx
 * answer); no longer retried every 30 s for ever. And bulk dead-letter actions need a filter
 * or an explicit `"all": true`.
 */
import assert from "node:assert/strict";
import { harness } from "../helpers/app.ts";
import { createDestination, createRoute, expectError, expectJson, post } from "../api/_helpers.ts";
import { createProcessor } from "../../core/delivery/processor.ts";
import { createPipelinePlanner } from "../../core/delivery/pipeline_planner.ts";
import { MemoryState } from "../../core/pipeline/memory_state.ts";
import { createAddressPolicy } from "../../core/net/policy.ts";
import { createOutbound } from "../../runtimes/deno/outbound.ts";
import { canary } from "../helpers/canary.ts";

/** A server answering every request with `status`; counts the requests. */
function answering(status: number) {
  let hits = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    hits++;
    return new Response("nope", { status });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    hits: () => hits,
    close: () => server.shutdown(),
  };
}

Deno.test("a failing enrich stage: retried on the schedule, then dead-lettered; permanent at once", async () => {
  const strict = createOutbound(createAddressPolicy({}));
  const allowed = createOutbound(createAddressPolicy({ allowCidrs: ["127.0.0.1/32"] }));
  const h = await harness();
  const down = answering(503);
  const gone = answering(404);
  const hidden = canary();
  try {
    const { token } = await h.tenant("stager");
    const dest = await createDestination(h, token);
    const route = (url: string) =>
      createRoute(h, token, {
        destinations: [{ destination_id: dest.id }],
        pipeline: [{ type: "enrich", url }],
      });
    // The answering servers are on 127.0.0.1: their routes get an Outbound that allows it;
    // the "forbidden" route gets the node's strict one (enrich routes are planned by the
    // processor, which is given this planner).
    const planner = createPipelinePlanner({
      fetchFor: (r) => Promise.resolve(r.name === "forbidden" ? strict.fetch : allowed.fetch),
      sealer: h.deps.sealer,
      state: new MemoryState(),
      now: () => Date.now(),
    });
    const r503 = await route(`${down.url}/x`);
    const r404 = await route(`${gone.url}/x`);
    const rForbidden = await createRoute(h, token, {
      name: "forbidden",
      destinations: [{ destination_id: dest.id }],
      pipeline: [{ type: "enrich", url: `http://127.0.0.1:${hidden.port}/x` }],
    });
    const ids: Record<string, string> = {};
    for (const [k, r] of [["503", r503], ["404", r404], ["forbidden", rForbidden]] as const) {
      const res = await post(h, r.endpoint, '{"a":1}', { "content-type": "application/json" });
      ids[k] = (await res.json()).id;
    }
    let now = Date.now();
    const processor = createProcessor({
      store: h.store,
      planner,
      clock: { now: () => now },
      log: h.deps.log,
      metrics: h.metrics,
      owner: "test",
      stageRetry: { maxAttempts: 3, scheduleSeconds: [0, 10, 20] },
    });
    const event = (id: string) =>
      expectJson(h.call("GET", `/api/events/${id}`, undefined, token), 200);

    await processor.runOnce();
    const first = await event(ids["503"]);
    assert.equal(first.status, "accepted", "waiting for its next attempt");
    assert.equal(first.attempts, 1);
    assert.match(first.error, /answered 503.*\(attempt 1 of 3, next at/);
    for (const k of ["404", "forbidden"]) {
      const e = await event(ids[k]);
      assert.equal(e.status, "failed", `${k}: dead-lettered at once`);
      assert.equal(e.attempts, 1);
      assert.match(e.error, /\(permanent: not retried\)/, e.error);
    }
    assert.match((await event(ids["forbidden"])).error, /127\.0\.0\.1 is loopback/);
    assert.equal(hidden.connections(), 0, "the refused address got nothing");

    assert.equal(await processor.runOnce(), 0, "not due before its schedule says");
    now += 10_001;
    await processor.runOnce();
    assert.equal((await event(ids["503"])).attempts, 2);
    now += 20_001;
    await processor.runOnce();
    const last = await event(ids["503"]);
    assert.equal(last.status, "failed");
    assert.equal(last.attempts, 3);
    assert.match(last.error, /\(gave up after 3 attempts\)/);
    assert.equal(down.hits(), 3, "three attempts in all");
    now += 3_600_000;
    assert.equal(await processor.runOnce(), 0, "and no more");

    // A replay starts over.
    await expectJson(h.call("POST", `/api/events/${ids["503"]}/replay`, undefined, token), 202);
    await processor.runOnce();
    assert.equal((await event(ids["503"])).attempts, 1);
  } finally {
    await h.close();
    await strict.close();
    await allowed.close();
    await down.close();
    await gone.close();
    hidden.close();
  }
});

Deno.test("bulk dead-letter retry and discard need a filter or all: true", async () => {
  const h = await harness();
  try {
    const { token } = await h.tenant("bulk");
    for (const action of ["retry", "discard"]) {
      await expectError(h.call("POST", `/api/dlq/${action}`, {}, token), 400, "all");
      await expectError(h.call("POST", `/api/dlq/${action}`, { ids: [] }, token), 400, "ids");
      await expectError(h.call("POST", `/api/dlq/${action}`, { all: false }, token), 400, "all");
      await expectJson(h.call("POST", `/api/dlq/${action}`, { all: true }, token), 200);
      await expectJson(h.call("POST", `/api/dlq/${action}`, { route_id: "route_x" }, token), 200);
    }
  } finally {
    await h.close();
  }
});
