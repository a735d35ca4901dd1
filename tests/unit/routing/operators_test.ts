/** Every operator and combinator, with the edge cases the docs promise. */
import assert from "node:assert/strict";
import { compileCondition } from "../../../core/routing/condition.ts";
import type { RoutingEvent } from "../../../core/routing/event.ts";
import { ConditionSchema } from "../../../core/routing/schema.ts";
import { formatIssues } from "../../../core/routing/zod_dispatch.ts";

const ev = (over: Partial<RoutingEvent> = {}): RoutingEvent => ({
  id: "evt_1",
  tenant: "user_1",
  routeId: "route_1",
  source: "webhook",
  receivedAt: 1000,
  method: "POST",
  path: "/webhook/wh_1",
  query: { page: "2", tag: ["a", "b"] },
  ip: "10.1.2.3",
  headers: { "x-github-event": "push", "x-count": "7" },
  body: {
    ref: "refs/heads/main",
    amount: 120,
    tags: ["prod", "eu"],
    items: [{ sku: "A-1", qty: 2 }, { sku: "B-2", qty: 0 }],
    nothing: null,
    flag: true,
  },
  meta: { trigger: { kind: "poll" } },
  ...over,
});

const check = (when: unknown, e = ev()) => compileCondition(ConditionSchema.parse(when))(e);

Deno.test("equals: strings, numbers, deep objects, arrays, ignore_case", () => {
  assert.equal(check({ field: "headers.X-GitHub-Event", equals: "push" }), true);
  assert.equal(check({ field: "body.amount", equals: 120 }), true);
  assert.equal(check({ field: "body.amount", equals: "120" }), false);
  assert.equal(check({ field: "body.items[0]", equals: { qty: 2, sku: "A-1" } }), true);
  assert.equal(check({ field: "body.tags", equals: ["prod", "eu"] }), true);
  assert.equal(check({ field: "body.tags", equals: "eu" }), true);
  assert.equal(check({ field: "body.ref", equals: "REFS/HEADS/MAIN", ignore_case: true }), true);
  assert.equal(check({ field: "body.nothing", equals: null }), true);
  assert.equal(check({ field: "body.missing", equals: null }), false);
});

Deno.test("not_equals: true for missing fields and when no element equals", () => {
  assert.equal(check({ field: "body.ref", not_equals: "x" }), true);
  assert.equal(check({ field: "body.missing", not_equals: "x" }), true);
  assert.equal(check({ field: "body.tags", not_equals: "eu" }), false);
  assert.equal(
    check({ field: "body.ref", not_equals: "REFS/HEADS/MAIN", ignore_case: true }),
    false,
  );
});

Deno.test("in: strings (set fast path), mixed values, arrays, ignore_case", () => {
  assert.equal(check({ field: "method", in: ["GET", "POST"] }), true);
  assert.equal(check({ field: "body.amount", in: [1, 120, "x"] }), true);
  assert.equal(check({ field: "body.tags", in: ["eu"] }), true);
  assert.equal(check({ field: "method", in: ["post"], ignore_case: true }), true);
  assert.equal(check({ field: "method", in: ["post"] }), false);
  assert.equal(check({ field: "body.missing", in: ["x"] }), false);
});

Deno.test("exists: null is present, empty wildcard is not", () => {
  assert.equal(check({ field: "body.nothing", exists: true }), true);
  assert.equal(check({ field: "body.missing", exists: false }), true);
  assert.equal(check({ field: "body.items[*].price", exists: true }), false);
  assert.equal(check({ field: "body.items[*].sku", exists: true }), true);
  assert.equal(check({ field: "query.page", exists: true }), true);
  assert.equal(check({ field: "meta.trigger.kind", exists: true }), true);
});

Deno.test("prefix, suffix: text of numbers, arrays, ignore_case", () => {
  assert.equal(check({ field: "body.ref", prefix: "refs/heads/" }), true);
  assert.equal(check({ field: "body.ref", suffix: "/main" }), true);
  assert.equal(check({ field: "body.amount", prefix: "12" }), true);
  assert.equal(check({ field: "body.items[*].sku", prefix: "B-" }), true);
  assert.equal(check({ field: "body.ref", prefix: "REFS", ignore_case: true }), true);
  assert.equal(check({ field: "body.ref", suffix: "MAIN" }), false);
  assert.equal(check({ field: "body.items", prefix: "x" }), false);
});

Deno.test("contains: substring or array element", () => {
  assert.equal(check({ field: "body.ref", contains: "heads" }), true);
  assert.equal(check({ field: "body.tags", contains: "eu" }), true);
  assert.equal(check({ field: "body.tags", contains: "e" }), false);
  assert.equal(check({ field: "body.items", contains: { sku: "B-2", qty: 0 } }), true);
  assert.equal(check({ field: "body.ref", contains: "HEADS", ignore_case: true }), true);
  assert.equal(check({ field: "body.amount", contains: "2" }), false);
});

Deno.test("regex: search, anchors, ignore_case, numbers as text", () => {
  assert.equal(check({ field: "body.ref", regex: "heads/(main|dev)$" }), true);
  assert.equal(check({ field: "body.ref", regex: "^heads" }), false);
  assert.equal(check({ field: "body.ref", regex: "MAIN", ignore_case: true }), true);
  assert.equal(check({ field: "body.amount", regex: "^\\d{3}$" }), true);
  assert.equal(check({ field: "body.items[*].sku", regex: "^B-\\d$" }), true);
});

Deno.test("range: bounds, numeric strings, non-numbers", () => {
  assert.equal(check({ field: "body.amount", range: { gt: 100, lte: 120 } }), true);
  assert.equal(check({ field: "body.amount", range: { lt: 120 } }), false);
  assert.equal(check({ field: "headers.x-count", range: { gte: 7 } }), true);
  assert.equal(check({ field: "body.items[*].qty", range: { gt: 1 } }), true);
  assert.equal(check({ field: "body.ref", range: { gt: 0 } }), false);
  assert.equal(check({ field: "query.page", range: { gte: 2, lte: 2 } }), true);
});

Deno.test("cidr: one or several blocks", () => {
  assert.equal(check({ field: "ip", cidr: "10.0.0.0/8" }), true);
  assert.equal(check({ field: "ip", cidr: ["192.168.0.0/16", "2001:db8::/32"] }), false);
  assert.equal(check({ field: "ip", cidr: "::ffff:0:0/96" }, ev({ ip: "::ffff:1.2.3.4" })), true);
});

Deno.test("anything_but: requires presence and no match", () => {
  assert.equal(check({ field: "body.ref", anything_but: ["refs/heads/dev"] }), true);
  assert.equal(check({ field: "body.ref", anything_but: "refs/heads/main" }), false);
  assert.equal(check({ field: "body.missing", anything_but: ["x"] }), false);
  assert.equal(check({ field: "body.tags", anything_but: ["eu"] }), false);
  assert.equal(check({ field: "query.tag", anything_but: ["z"] }), true);
});

Deno.test("all / any / not nesting; empty lists", () => {
  const when = {
    all: [
      { field: "method", equals: "POST" },
      {
        any: [{ field: "body.amount", range: { gt: 1000 } }, { field: "body.flag", equals: true }],
      },
      {
        not: {
          any: [{ field: "source", prefix: "trigger:" }, { field: "ip", cidr: "8.8.8.0/24" }],
        },
      },
    ],
  };
  assert.equal(check(when), true);
  assert.equal(check({ not: when }), false);
  assert.equal(check({ all: [] }), true);
  assert.equal(check({ any: [] }), false);
  assert.equal(check({ field: "route_id", equals: "route_1" }), true);
  assert.equal(check({ field: "received_at", range: { lt: 2000 } }), true);
  assert.equal(check({ field: "tenant", equals: "user_1" }), true);
  assert.equal(check({ field: "path", suffix: "wh_1" }), true);
  assert.equal(check({ field: "id", equals: "evt_1" }), true);
});

Deno.test("condition schema: errors name the path of the bad field", () => {
  const issues = (when: unknown) => {
    const r = ConditionSchema.safeParse(when);
    assert.equal(r.success, false);
    return formatIssues(r.error!.issues);
  };
  assert.match(
    issues({ all: [{ field: "body.a", equals: 1 }, { field: "body.b", regex: "(a)\\1" }] }),
    /^all\[1\]\.regex: unsupported regular expression .*backreferences/,
  );
  assert.match(issues({ field: "body.a" }), /needs one operator/);
  assert.match(issues({ field: "body.a", equals: 1, prefix: "x" }), /has 2 operators/);
  assert.match(issues({ field: "bodyy.a", equals: 1 }), /^field: unknown field "bodyy.a"/);
  assert.match(
    issues({ field: "ip", cidr: ["10.0.0.0/8", "10.0.0.0/99"] }),
    /^cidr\[1\]: invalid prefix/,
  );
  assert.match(issues({ not: { any: [{ nope: 1 }] } }), /^not\.any\[0\]: a condition needs/);
  assert.match(issues({ field: "body.a", range: {} }), /^range: range needs at least one/);
  assert.match(issues({ field: "body.a..b", exists: true }), /^field: invalid path/);
  assert.match(issues({ field: "body.a", equals: 1, extra: 2 }), /Unrecognized key/);
});
