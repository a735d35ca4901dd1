/** Destination selection: fan-out, priority, weighted split, fallback, rule order. */
import assert from "node:assert/strict";
import { compileFilters } from "../../../core/routing/filters.ts";
import { compileRules } from "../../../core/routing/rules.ts";
import type { RoutingEvent } from "../../../core/routing/event.ts";
import { RulesSchema } from "../../../core/routing/schema.ts";
import {
  pickWeighted,
  selectDestinations,
  type TargetEntry,
} from "../../../core/routing/select.ts";

const ev = (id = "evt_1", body: unknown = { kind: "order", amount: 50 }): RoutingEvent => ({
  id,
  tenant: "u",
  routeId: "r",
  source: "webhook",
  receivedAt: 0,
  method: "POST",
  path: "/",
  query: {},
  ip: "1.1.1.1",
  headers: {},
  body,
  meta: {},
});

const targets = (...specs: Partial<TargetEntry>[]): TargetEntry[] =>
  specs.map((s, index) => ({ destinationId: `d${index}`, index, ...s }));

const run = (rules: unknown, t: TargetEntry[], e = ev(), isOpen?: (id: string) => boolean) =>
  selectDestinations(
    compileFilters(undefined),
    compileRules(RulesSchema.parse(rules), t),
    t,
    e,
    isOpen,
  );

Deno.test("no rules: fan out to every destination", () => {
  const t = targets({}, {}, {});
  const s = selectDestinations(compileFilters(undefined), null, t, ev());
  assert.equal(s.matched, true);
  assert.deepEqual(s.chosen.map((c) => c.destinationId), ["d0", "d1", "d2"]);
});

Deno.test("rules: every match contributes, deduplicated, in priority order", () => {
  const t = targets({}, {}, {});
  const s = run([
    { name: "big", when: { field: "body.amount", range: { gt: 100 } }, destinations: ["d0"] },
    { name: "orders", when: { field: "body.kind", equals: "order" }, destinations: ["d1", "d2"] },
    { name: "all", destinations: ["d2", "d0"], priority: -1 },
  ], t);
  assert.deepEqual(s.rules, [
    { name: "all", matched: true },
    { name: "big", matched: false },
    { name: "orders", matched: true },
  ]);
  assert.deepEqual(s.chosen.map((c) => c.destinationId), ["d2", "d0", "d1"]);
});

Deno.test("rules: final stops evaluation; no match means not matched", () => {
  const t = targets({}, {});
  const s = run([
    { name: "first", destinations: ["d0"], final: true },
    { name: "second", destinations: ["d1"] },
  ], t);
  assert.deepEqual(s.chosen.map((c) => c.destinationId), ["d0"]);
  assert.deepEqual(s.rules[1], { name: "second", matched: false, skipped: true });
  const none = run([{ when: { field: "body.kind", equals: "refund" } }], t);
  assert.equal(none.matched, false);
  assert.deepEqual(none.chosen, []);
  assert.equal(none.rules[0].name, "rule#1");
});

Deno.test("priority: first healthy by priority; all open -> first", () => {
  const t = targets({ priority: 2 }, { priority: 1 }, { priority: 3 });
  const rules = [{ name: "p", select: "priority" }];
  assert.deepEqual(run(rules, t).chosen.map((c) => c.destinationId), ["d1"]);
  const open = new Set(["d1"]);
  assert.deepEqual(run(rules, t, ev(), (id) => open.has(id)).chosen.map((c) => c.destinationId), [
    "d0",
  ]);
  assert.deepEqual(run(rules, t, ev(), () => true).chosen.map((c) => c.destinationId), ["d1"]);
  // inferred from priorities when select is absent
  assert.deepEqual(run([{ name: "p" }], t).chosen.map((c) => c.destinationId), ["d1"]);
});

Deno.test("fallback: used when the primary's circuit is open and the fallback's is not", () => {
  const t = targets({ fallbackDestinationId: "backup" });
  const normal = run([{ name: "r" }], t);
  assert.deepEqual(normal.chosen[0], {
    destinationId: "d0",
    fallbackDestinationId: "backup",
    entryIndex: 0,
    reason: "r: all",
  });
  const open = run([{ name: "r" }], t, ev(), (id) => id === "d0");
  assert.equal(open.chosen[0].destinationId, "backup");
  assert.equal(open.chosen[0].fallbackDestinationId, undefined);
  assert.match(open.chosen[0].reason, /fallback: circuit of d0 is open/);
  const both = run([{ name: "r" }], t, ev(), () => true);
  assert.equal(both.chosen[0].destinationId, "d0");
  assert.equal(both.chosen[0].fallbackDestinationId, "backup");
});

Deno.test("weighted: deterministic per event id", () => {
  const t = targets({ weight: 1 }, { weight: 1 }, { weight: 1 });
  for (let i = 0; i < 50; i++) {
    const a = run([{ name: "w" }], t, ev(`evt_${i}`)).chosen;
    const b = run([{ name: "w" }], t, ev(`evt_${i}`)).chosen;
    assert.equal(a.length, 1);
    assert.deepEqual(a, b);
  }
});

Deno.test("weighted: distribution follows the weights", () => {
  const t = targets({ weight: 70 }, { weight: 20 }, { weight: 10 }, { weight: 0 });
  const counts = [0, 0, 0, 0];
  const n = 20_000;
  for (let i = 0; i < n; i++) {
    const pick = pickWeighted(t, `evt_${i.toString(36)}\u0000split`)!;
    counts[pick.index]++;
  }
  assert.equal(counts[3], 0);
  for (const [i, share] of [0.7, 0.2, 0.1].entries()) {
    assert.ok(Math.abs(counts[i] / n - share) < 0.015, `d${i}: ${counts[i] / n} vs ${share}`);
  }
  assert.equal(pickWeighted(targets({ weight: 0 }), "x"), undefined);
});

Deno.test("weighted with an open circuit goes to the pick's fallback", () => {
  const t = targets({ weight: 1, fallbackDestinationId: "fb0" }, {
    weight: 1,
    fallbackDestinationId: "fb1",
  });
  for (let i = 0; i < 20; i++) {
    const pick = run([{ name: "w" }], t, ev(`e${i}`)).chosen[0];
    const open = run([{ name: "w" }], t, ev(`e${i}`), (id) => id === pick.destinationId).chosen[0];
    assert.equal(open.destinationId, pick.fallbackDestinationId);
  }
});
