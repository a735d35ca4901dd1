/** compileRoute, runRoute, toPipelineEvent, dry runs and the ingress check, end to end. */
import assert from "node:assert/strict";
import {
  checkAtIngress,
  clearRouteCache,
  compileRoute,
  dryRun,
  dryRunEvent,
  runRoute,
  toPipelineEvent,
  validateRouteDefinition,
} from "../../../core/pipeline/mod.ts";
import type { Envelope } from "../../../core/ports.ts";
import { bodyOf, deps, destinationsOf, event } from "./helpers.ts";

const enc = new TextEncoder();

function envelope(
  body: string,
  headers: Record<string, string>,
  over: Partial<Envelope> = {},
): Envelope {
  return {
    id: "evt_env",
    tenant: "user_1",
    routeId: "route_1",
    source: "webhook",
    receivedAt: 1,
    method: "POST",
    path: "/webhook/wh_x",
    query: "a=1&b=2&b=3",
    ip: "198.51.100.7",
    headers,
    body: enc.encode(body),
    ...over,
  };
}

Deno.test("toPipelineEvent parses by content type", () => {
  const cases: [string, string | undefined, unknown][] = [
    ['{"a":1}', "application/json; charset=utf-8", { a: 1 }],
    ['{"a":1}', "application/vnd.api+json", { a: 1 }],
    ["{broken", "application/json", "{broken"],
    ["a=1&a=2&b=x+y", "application/x-www-form-urlencoded", { a: ["1", "2"], b: "x y" }],
    ['<a x="1"><b>2</b></a>', "application/xml", { a: { b: "2", "@_x": "1" } }],
    ["<a><b></a>", "text/xml", "<a><b></a>"],
    ["hello", "text/plain", "hello"],
    ["[1,2]", undefined, [1, 2]],
    ["", "application/json", null],
  ];
  for (const [body, type, want] of cases) {
    const headers: Record<string, string> = type ? { "content-type": type } : {};
    assert.deepEqual(toPipelineEvent(envelope(body, headers)).body, want, `${type}: ${body}`);
  }
  const ev = toPipelineEvent(envelope("{}", {}, { dedupKey: "d1" }), { trigger: "t" });
  assert.deepEqual(ev.query, { a: "1", b: ["2", "3"] });
  assert.deepEqual(ev.meta, { trigger: "t", dedup_key: "d1" });
  assert.equal(ev.ip, "198.51.100.7");
  assert.ok(ev.rawBody instanceof Uint8Array);
});

Deno.test("the seed filters gate the route; rules choose; outcome says why", async () => {
  const r = compileRoute({
    id: "route_gh",
    version: 1,
    filters: { headers: { "X-GitHub-Event": "push" }, body_contains: ["repository"] },
    rules: [
      {
        name: "main",
        when: { field: "body.ref", equals: "refs/heads/main" },
        destinations: ["dest_ci"],
      },
      { name: "any", destinations: ["dest_log"] },
    ],
    destinations: [{ destination_id: "dest_ci" }, { destination_id: "dest_log" }],
  });
  const raw = '{"ref":"refs/heads/main","repository":{"name":"x"}}';
  const ev = toPipelineEvent(
    envelope(raw, { "content-type": "application/json", "x-github-event": "push" }),
  );
  const out = await runRoute(r, ev, deps());
  assert.equal(out.matched, true);
  assert.deepEqual(out.rules, [{ name: "main", matched: true }, { name: "any", matched: true }]);
  assert.deepEqual(destinationsOf(out), ["dest_ci", "dest_log"]);
  // no stage ran: the received bytes go out unchanged, with their content type
  assert.equal(new TextDecoder().decode(out.deliveries[0].body), raw);
  assert.equal(out.deliveries[0].headers["content-type"], "application/json");
  const other = toPipelineEvent(envelope(raw, { "x-github-event": "issues" }));
  const no = await runRoute(r, other, deps());
  assert.deepEqual(no, { matched: false, rules: [], stages: [], deliveries: [] });
});

Deno.test("a route without rules fans out; isOpen switches to the fallback", async () => {
  const r = compileRoute({
    id: "route_fo",
    version: 1,
    destinations: [
      { destination_id: "dest_a", fallback_destination_id: "dest_a2" },
      { destination_id: "dest_b" },
    ],
  });
  const out = await runRoute(r, event({ body: { x: 1 } }), deps());
  assert.deepEqual(destinationsOf(out), ["dest_a", "dest_b"]);
  assert.equal(out.deliveries[0].fallbackDestinationId, "dest_a2");
  const open = await runRoute(
    r,
    event({ body: { x: 1 } }),
    deps({ isOpen: (id) => id === "dest_a" }),
  );
  assert.deepEqual(destinationsOf(open), ["dest_a2", "dest_b"]);
});

Deno.test("priority selection through runRoute", async () => {
  const r = compileRoute({
    id: "route_prio",
    version: 1,
    destinations: [
      { destination_id: "dest_primary", priority: 1 },
      { destination_id: "dest_secondary", priority: 2 },
    ],
  });
  assert.deepEqual(destinationsOf(await runRoute(r, event(), deps())), ["dest_primary"]);
  const down = await runRoute(r, event(), deps({ isOpen: (id) => id === "dest_primary" }));
  assert.deepEqual(destinationsOf(down), ["dest_secondary"]);
});

Deno.test("weighted split through runRoute: stable per event, follows weights", async () => {
  const r = compileRoute({
    id: "route_w",
    version: 1,
    destinations: [{ destination_id: "dest_old", weight: 3 }, {
      destination_id: "dest_new",
      weight: 1,
    }],
  });
  const counts: Record<string, number> = { dest_old: 0, dest_new: 0 };
  for (let i = 0; i < 4000; i++) {
    const ev = event({ id: `evt_${i}` });
    const [a] = destinationsOf(await runRoute(r, ev, deps()));
    const [b] = destinationsOf(await runRoute(r, ev, deps()));
    assert.equal(a, b);
    counts[a]++;
  }
  assert.ok(Math.abs(counts.dest_old / 4000 - 0.75) < 0.03, JSON.stringify(counts));
});

Deno.test("delivery encoding: text bodies, key, headers; the event is not mutated", async () => {
  const r = compileRoute({
    id: "route_enc",
    version: 1,
    pipeline: [{
      type: "transform",
      operations: [
        { op: "copy", from: "order.id", to: "$key" },
        { op: "template", to: "$", template: "order {{order.id}}" },
      ],
    }],
    destinations: [{ destination_id: "dest_a" }],
  });
  const ev = event({ body: { order: { id: 9 } } });
  const out = await runRoute(r, ev, deps());
  assert.equal(bodyOf(out), "order 9");
  assert.equal(out.deliveries[0].headers["content-type"], "text/plain; charset=utf-8");
  assert.equal(out.deliveries[0].key, "9");
  assert.deepEqual(ev.body, { order: { id: 9 } });
});

Deno.test("compiled routes are cached per id and version", () => {
  const def = { id: "route_cache", version: 1, destinations: [] };
  const a = compileRoute(def);
  assert.equal(compileRoute({ ...def }), a);
  const b = compileRoute({ ...def, version: 2 });
  assert.notEqual(b, a);
  clearRouteCache("route_cache");
  assert.notEqual(compileRoute(def), a);
});

Deno.test("definition checks name the path of every problem", () => {
  const r = validateRouteDefinition({
    id: "x",
    version: 1,
    rules: [{ destinations: ["dest_zz"], when: { field: "body.a", equals: 1, in: [1] } }],
    pipeline: [
      { type: "transform", name: "t" },
      { type: "transform", name: "t", expression: "a" },
      { type: "shape" },
      { type: "validate" },
    ],
    destinations: [
      { destination_id: "dest_a", fallback_destination_id: "dest_a" },
      { destination_id: "dest_a" },
    ],
  });
  assert.equal(r.ok, false);
  const text = (r as { issues: { path: string; message: string }[] }).issues
    .map((i) => `${i.path}: ${i.message}`).join("\n");
  for (
    const want of [
      /^rules\[0\]\.when: condition on "body\.a" has 2 operators/m,
      /^pipeline\[0\]: a transform stage needs exactly one of "expression" and "operations"/m,
      /^pipeline\[2\]: unknown stage type "shape"/m,
      /^pipeline\[3\]: a validate stage needs "schema", "expression" or both/m,
      /^destinations\[0\]\.fallback_destination_id: a destination cannot be its own fallback/m,
      /^destinations\[1\]\.destination_id: destination "dest_a" is listed twice/m,
      /^rules\[0\]\.destinations\[0\]: "dest_zz" is not one of the route's destinations/m,
    ]
  ) assert.match(text, want);
  const dup = validateRouteDefinition({
    id: "x",
    version: 1,
    pipeline: [{ type: "transform", name: "t", expression: "a" }, {
      type: "transform",
      name: "t",
      expression: "b",
    }],
  });
  assert.match(JSON.stringify(dup), /pipeline\[1\]\.name.*duplicate stage name \\"t\\"/);
  const js = validateRouteDefinition({
    id: "x",
    version: 1,
    pipeline: [{ type: "validate", schema: { type: "nope" } }],
  });
  assert.match(JSON.stringify(js), /pipeline\[0\].*invalid JSON Schema/);
  assert.deepEqual(validateRouteDefinition({ id: "x", version: 1, name: "extra fields ignored" }), {
    ok: true,
  });
});

const dryDef = {
  id: "route_dry",
  version: 1,
  rules: [{ name: "orders", when: { field: "body.kind", equals: "order" } }],
  pipeline: [
    { type: "transform", name: "shape", operations: [{ op: "pick", paths: ["kind", "total"] }] },
    { type: "aggregate", name: "once", mode: "dedupe", key: "total", window_ms: 60_000 },
    { type: "transform", name: "cast", operations: [{ op: "to_string", path: "total" }] },
  ],
  destinations: [
    { destination_id: "dest_a" },
    {
      destination_id: "dest_b",
      pipeline: [{ type: "transform", operations: [{ op: "set", path: "b", value: true }] }],
    },
  ],
};

Deno.test("dryRun: matched rules, every stage's output, chosen destinations, no state change", async () => {
  const d = deps();
  const out = await dryRun(dryDef, {
    body: "kind=order&total=12&noise=1",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  }, d);
  assert.deepEqual(out.rules, [{ name: "orders", matched: true }]);
  assert.deepEqual(
    out.stages.map((s) => [s.name, s.output]),
    [
      ["shape", { kind: "order", total: "12" }],
      ["once", { kind: "order", total: "12" }],
      ["cast", { kind: "order", total: "12" }],
      ["dest_b/transform#1", { kind: "order", total: "12", b: true }],
    ],
  );
  assert.deepEqual(destinationsOf(out), ["dest_a", "dest_b"]);
  assert.equal(d.state.size, 0, "dedupe recorded nothing");
  // twice in a row: still not a duplicate, because nothing was recorded
  const again = await dryRun(dryDef, { body: { kind: "order", total: 12 } }, d);
  assert.equal(again.dropped, undefined);
  const miss = await dryRun(dryDef, { body: { kind: "refund" } }, d);
  assert.equal(miss.matched, false);
});

Deno.test("dryRun compiles fresh: an edit under the same version is seen", async () => {
  const d = deps();
  compileRoute(dryDef); // the saved version sits in the cache
  const edited = {
    ...dryDef,
    rules: [{ name: "refunds", when: { field: "body.kind", equals: "refund" } }],
  };
  const out = await dryRun(edited, { body: { kind: "refund" } }, d);
  assert.deepEqual(out.rules, [{ name: "refunds", matched: true }]);
});

Deno.test("dryRunEvent: a stored event", async () => {
  const stored = toPipelineEvent(
    envelope('{"kind":"order","total":3}', { "content-type": "application/json" }),
  );
  const out = await dryRunEvent(dryDef, stored, deps());
  assert.deepEqual(bodyOf(out), { kind: "order", total: "3" });
});

Deno.test("checkAtIngress: leading validate stages that reject", async () => {
  const r = compileRoute({
    id: "route_ing",
    version: 1,
    pipeline: [
      { type: "transform", operations: [{ op: "to_number", path: "n" }] },
      { type: "validate", name: "positive", expression: "n > 0" },
      { type: "enrich", url: "https://x.example/{{n}}" },
      { type: "validate", name: "never-reached", expression: "false" },
    ],
    destinations: [],
  });
  assert.deepEqual(await checkAtIngress(r, event({ body: { n: "5" } }), () => 0), { ok: true });
  assert.deepEqual(await checkAtIngress(r, event({ body: { n: "-1" } }), () => 0), {
    ok: false,
    stage: "positive",
    reason: "validation failed: expression n > 0 is false",
  });
  assert.deepEqual(await checkAtIngress(r, event({ body: { n: "x" } }), () => 0), { ok: true });
  const tagged = compileRoute({
    id: "route_ing2",
    version: 1,
    pipeline: [{ type: "validate", expression: "false", on_failure: "drop" }],
  });
  assert.deepEqual(await checkAtIngress(tagged, event(), () => 0), { ok: true });
});

Deno.test("XML bodies: no entity blow-up, no external entities", () => {
  const lol = (n: number) => `&lol${n};`.repeat(10);
  const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">${
    [1, 2, 3, 4, 5, 6].map((n) => `<!ENTITY lol${n} "${lol(n - 1)}">`).join("")
  }]><lolz>&lol6;</lolz>`;
  const t = performance.now();
  const parsed = toPipelineEvent(envelope(bomb, { "content-type": "application/xml" })).body;
  assert.ok(JSON.stringify(parsed).length < 10_000, "entities are not expanded a million times");
  assert.ok(performance.now() - t < 2000);
  const ext =
    '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>';
  const body = toPipelineEvent(envelope(ext, { "content-type": "application/xml" })).body;
  assert.ok(!JSON.stringify(body).includes("root:"), "no file was read");
});
