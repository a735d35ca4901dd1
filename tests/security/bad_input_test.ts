/**
 * Bad input is a 400 naming the field, never a 500 or a silent default: unknown top-level
 * keys in route, destination and trigger bodies; rules, conditions, pipelines and configs
 * nested deeper than 32 levels; and a route stored before the limit existed does not turn
 * its webhooks into 500s (the event is kept, failed, not retried forever).
 */
import assert from "node:assert/strict";
import { harness } from "../helpers/app.ts";
import { createDestination, createRoute, expectError, expectJson, post } from "../api/_helpers.ts";
import { MAX_DEPTH } from "../../core/model/depth.ts";
import { createProcessor } from "../../core/delivery/processor.ts";
import { newEndpointToken } from "../../core/model/ids.ts";

/** `{"not": {"not": ... {"field": "body.a", "exists": true} }}`, `n` levels of `not`. */
function nestedNot(n: number): Record<string, unknown> {
  let c: Record<string, unknown> = { field: "body.a", exists: true };
  for (let i = 0; i < n; i++) c = { not: c };
  return c;
}

Deno.test("unknown top-level keys answer 400 naming the key", async () => {
  const h = await harness();
  try {
    const { token } = await h.tenant("typo");
    // the finding: a misspelt signature_config left the route accepting unsigned webhooks
    await expectError(
      h.call("POST", "/api/routes", {
        name: "gh",
        signature_confg: { enabled: true, preset: "github", secret: "s" },
      }, token),
      400,
      "signature_confg",
    );
    await expectError(
      h.call("POST", "/api/destinations", {
        name: "d",
        type: "log",
        config: {},
        retries: { max_attempts: 1 },
      }, token),
      400,
      "retries",
    );
    await expectError(
      h.call("POST", "/api/destinations", {
        name: "d",
        type: "log",
        config: {},
        retry: { max_attempt: 1 },
      }, token),
      400,
      "max_attempt",
    );
    const route = await createRoute(h, token);
    await expectError(
      h.call("PUT", `/api/routes/${route.id}`, { name: "in", limits: { burts: 3 } }, token),
      400,
      "burts",
    );
    await expectError(
      h.call("POST", "/api/triggers", {
        name: "t",
        type: "schedule",
        route_id: route.id,
        config: { cron: "0 3 * * *" },
        enabled: true,
      }, token),
      400,
      "enabled",
    );
  } finally {
    await h.close();
  }
});

Deno.test("nesting over 32 levels answers 400 at save, also when it is 10,000 deep", async () => {
  const h = await harness();
  try {
    const { token } = await h.tenant("deep");
    const dest = await createDestination(h, token);
    const ok = await h.call("POST", "/api/routes", {
      name: "ok",
      destinations: [{ destination_id: dest.id }],
      rules: [{ when: nestedNot(MAX_DEPTH - 4), destinations: [dest.id] }],
    }, token);
    assert.equal(ok.status, 201, await ok.text());
    for (const n of [MAX_DEPTH + 1, 10_000]) {
      await expectError(
        h.call("POST", "/api/routes", {
          name: "deep",
          destinations: [{ destination_id: dest.id }],
          rules: [{ when: nestedNot(n), destinations: [dest.id] }],
        }, token),
        400,
        "rules.0.when",
      );
      await expectError(
        h.call("POST", "/api/routes", { name: "deep", filters: nestedNot(n) }, token),
        400,
        "filters",
      );
      await expectError(
        h.call("POST", "/api/routes", {
          name: "deep",
          pipeline: [{
            type: "transform",
            operations: [{ op: "set", path: "a", value: nestedNot(n) }],
          }],
        }, token),
        400,
        "pipeline.0",
      );
      // (destination bodies are capped at 64 KiB: 3,000 levels fit)
      const config = nestedNot(Math.min(n, 3_000));
      await expectError(
        h.call("POST", "/api/destinations", { name: "d", type: "log", config }, token),
        400,
        "config",
      );
    }
  } finally {
    await h.close();
  }
});

Deno.test("a stored over-deep route: its webhooks are accepted, the event fails once, others flow", async () => {
  const h = await harness();
  try {
    const { token, id: owner } = await h.tenant("legacy-deep");
    const dest = await createDestination(h, token);
    const healthy = await createRoute(h, token, { destinations: [{ destination_id: dest.id }] });
    // Stored as an older version would have: no depth check.
    const now = Date.now();
    const deepId = "route_deepdeepdeepdeep000001";
    const endpoint = `/webhook/${newEndpointToken()}`;
    await h.store.createRoute({
      id: deepId,
      owner,
      name: "deep",
      endpoint,
      method: "POST",
      spec: {
        destinations: [{ destination_id: dest.id }],
        rules: [{ when: nestedNot(10_000), destinations: [dest.id] }],
      },
      active: true,
      version: 1,
      createdAt: now,
      updatedAt: now,
    });
    const r = await post(h, endpoint, '{"a":1}', { "content-type": "application/json" });
    const answer = await r.text();
    assert.equal(r.status, 202, answer);
    const { id: eventId } = JSON.parse(answer);
    const other = await post(h, healthy.endpoint, '{"a":1}', {
      "content-type": "application/json",
    });
    assert.equal(other.status, 202, "other routes are not affected");

    const processor = createProcessor({
      store: h.store,
      planner: h.deps.planner,
      clock: { now: () => Date.now() },
      log: h.deps.log,
      metrics: h.metrics,
      owner: "test",
    });
    await processor.runOnce();
    const e = await expectJson(h.call("GET", `/api/events/${eventId}`, undefined, token), 200);
    assert.equal(e.status, "failed");
    assert.match(e.error, /route cannot be compiled/);
    // not put back for another try: a second pass finds nothing to do for it
    assert.equal(await processor.runOnce(), 0);
  } finally {
    await h.close();
  }
});
