/** Every error policy (on_error) and every validation outcome (on_failure). */
import assert from "node:assert/strict";
import { compileRoute, runRoute } from "../../../core/pipeline/mod.ts";
import { bodyOf, deps, destinationsOf, event } from "./helpers.ts";

let version = 0;
const route = (pipeline: unknown[], destinations: unknown[] = [{ destination_id: "dest_a" }]) =>
  compileRoute({ id: "route_policy", version: ++version, pipeline, destinations } as never);

const bad = { op: "to_number", path: "n" }; // fails on {n: "x"}

Deno.test("on_error retry: failed with policy retry, no deliveries", async () => {
  const out = await runRoute(
    route([{ type: "transform", name: "cast", operations: [bad], on_error: "retry" }]),
    event({ body: { n: "x" } }),
    deps(),
  );
  assert.deepEqual(out.failed, {
    stage: "cast",
    error: 'operations[0] to_number at "n": cannot convert "x" to a number',
    policy: "retry",
  });
  assert.deepEqual(out.deliveries, []);
});

Deno.test("on_error dead_letter (the transform default)", async () => {
  const out = await runRoute(
    route([{ type: "transform", operations: [bad] }]),
    event({ body: { n: "x" } }),
    deps(),
  );
  assert.equal(out.failed?.policy, "dead_letter");
  assert.equal(out.failed?.stage, "transform#1");
});

Deno.test("on_error drop: dropped with the reason", async () => {
  const out = await runRoute(
    route([{ type: "transform", operations: [bad], on_error: "drop" }]),
    event({ body: { n: "x" } }),
    deps(),
  );
  assert.equal(out.failed, undefined);
  assert.equal(out.dropped?.stage, "transform#1");
  assert.match(out.dropped!.reason, /cannot convert "x"/);
});

Deno.test("enrich defaults to retry", async () => {
  const out = await runRoute(
    route([{ type: "enrich", url: "https://api.example.com/x" }]),
    event(),
    deps({ fetch: () => Promise.reject(new TypeError("connection refused")) }),
  );
  assert.deepEqual(out.failed, { stage: "enrich#1", error: "connection refused", policy: "retry" });
});

const schema = { type: "object", required: ["id"], properties: { id: { type: "integer" } } };

Deno.test("validate reject (default): rejected, no deliveries, reason lists errors", async () => {
  const r = route([{ type: "validate", name: "shape", schema }]);
  const out = await runRoute(r, event({ body: { id: "7" } }), deps());
  assert.deepEqual(out.rejected, {
    stage: "shape",
    reason: "validation failed: /id must be integer",
  });
  assert.deepEqual(out.deliveries, []);
  const ok = await runRoute(r, event({ body: { id: 7 } }), deps());
  assert.deepEqual(destinationsOf(ok), ["dest_a"]);
});

Deno.test("validate drop, dead_letter, expression", async () => {
  const drop = await runRoute(
    route([{ type: "validate", expression: "amount > 0", on_failure: "drop" }]),
    event({ body: { amount: 0 } }),
    deps(),
  );
  assert.deepEqual(drop.dropped, {
    stage: "validate#1",
    reason: "validation failed: expression amount > 0 is false",
  });
  const dl = await runRoute(
    route([{ type: "validate", schema, expression: "id < 5", on_failure: "dead_letter" }]),
    event({ body: {} }),
    deps(),
  );
  assert.equal(dl.failed?.policy, "dead_letter");
  assert.equal(
    dl.failed?.error,
    "validation failed: (root) must have required property 'id'; expression id < 5 is null",
  );
});

Deno.test("validate tag: goes on, marked by header, meta and field", async () => {
  const out = await runRoute(
    route([
      { type: "validate", name: "v", schema, on_failure: "tag", tag_field: "_errors" },
      {
        type: "transform",
        operations: [{ op: "copy", from: "$meta.validation_errors", to: "meta_errors" }],
      },
    ]),
    event({ body: { id: "x" } }),
    deps(),
  );
  assert.deepEqual(destinationsOf(out), ["dest_a"]);
  assert.equal(out.deliveries[0].headers["x-validation-failed"], "v");
  assert.deepEqual(bodyOf(out), {
    id: "x",
    _errors: ["/id must be integer"],
    meta_errors: [{ stage: "v", errors: ["/id must be integer"] }],
  });
  assert.match(out.stages[0].note!, /^tagged: validation failed/);
});

Deno.test("validate target and JSON Schema formats", async () => {
  const r = route([{
    type: "validate",
    target: "contact",
    schema: {
      type: "object",
      properties: {
        email: { type: "string", format: "email" },
        at: { type: "string", format: "date-time" },
        ip: { type: "string", format: "ipv4" },
        id: { type: "string", format: "uuid" },
      },
    },
  }]);
  const good = await runRoute(
    r,
    event({
      body: {
        contact: {
          email: "a@b.io",
          at: "2024-05-01T12:00:00Z",
          ip: "1.2.3.4",
          id: crypto.randomUUID(),
        },
      },
    }),
    deps(),
  );
  assert.equal(good.rejected, undefined);
  const badOut = await runRoute(
    r,
    event({ body: { contact: { email: "nope", ip: "1.2.3" } } }),
    deps(),
  );
  assert.match(
    badOut.rejected!.reason,
    /\/email must match format "email"; \/ip must match format "ipv4"/,
  );
});

Deno.test("per-destination drop removes only that destination; failure is all or nothing", async () => {
  const destinations = [
    { destination_id: "dest_a" },
    {
      destination_id: "dest_b",
      pipeline: [{ type: "validate", expression: "vip = true", on_failure: "drop" }],
    },
    {
      destination_id: "dest_c",
      pipeline: [{ type: "transform", operations: [{ op: "to_number", path: "n" }] }],
    },
  ];
  const r = route([], destinations);
  const partial = await runRoute(r, event({ body: { vip: false, n: "1" } }), deps());
  assert.deepEqual(destinationsOf(partial), ["dest_a", "dest_c"]);
  assert.equal(partial.dropped, undefined);
  assert.equal(
    partial.stages.find((s) => s.name === "dest_b/validate#1")?.dropped?.startsWith(
      "validation failed",
    ),
    true,
  );
  const failed = await runRoute(r, event({ body: { vip: true, n: "x" } }), deps());
  assert.deepEqual(failed.deliveries, [], "no partial deliveries when a stage fails");
  assert.equal(failed.failed?.stage, "dest_c/transform#1");
  const allDropped = await runRoute(route([], [destinations[1]]), event({ body: {} }), deps());
  assert.equal(allDropped.dropped?.stage, "dest_b/validate#1");
});

Deno.test("per-destination pipelines work on copies of the route output", async () => {
  const out = await runRoute(
    route([{ type: "transform", operations: [{ op: "set", path: "shared", value: 1 }] }], [
      {
        destination_id: "dest_a",
        pipeline: [{ type: "transform", operations: [{ op: "set", path: "only_a", value: true }] }],
      },
      { destination_id: "dest_b" },
      {
        destination_id: "dest_c",
        pipeline: [{ type: "transform", operations: [{ op: "remove", path: "shared" }] }],
      },
    ]),
    event({ body: {} }),
    deps(),
  );
  assert.deepEqual(out.deliveries.map((_, i) => bodyOf(out, i)), [
    { shared: 1, only_a: true },
    { shared: 1 },
    {},
  ]);
});
