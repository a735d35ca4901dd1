/** The seed README's `filters` shorthand keeps working. */
import assert from "node:assert/strict";
import { compileFilters } from "../../../core/routing/filters.ts";
import type { RoutingEvent } from "../../../core/routing/event.ts";
import { FiltersSchema } from "../../../core/routing/schema.ts";

const raw = '{"ref":"refs/heads/main","repository":{"name":"x"}}';
const ev = (headers: Record<string, string>, rawText = raw): RoutingEvent => ({
  id: "evt_1",
  tenant: "u",
  routeId: null,
  source: "webhook",
  receivedAt: 0,
  method: "POST",
  path: "/",
  query: {},
  ip: "1.1.1.1",
  headers,
  body: JSON.parse(rawText),
  meta: {},
  rawBody: new TextEncoder().encode(rawText),
});

const seed = FiltersSchema.parse({
  headers: { "X-GitHub-Event": "push" },
  body_contains: ["repository"],
});

Deno.test("filters: the seed README example", () => {
  const f = compileFilters(seed);
  assert.equal(f(ev({ "x-github-event": "push" })), true);
  assert.equal(f(ev({ "x-github-event": "issues" })), false);
  assert.equal(f(ev({})), false);
  assert.equal(f(ev({ "x-github-event": "push" }, '{"ref":"x"}')), false);
});

Deno.test("filters: values exact, every needle required, raw bytes searched", () => {
  const f = compileFilters(
    FiltersSchema.parse({ headers: { "X-A": "One" }, body_contains: ['"ref":"refs', "name"] }),
  );
  assert.equal(f(ev({ "x-a": "One" })), true);
  assert.equal(f(ev({ "x-a": "one" })), false);
  assert.equal(f(ev({ "x-a": "One" }, '{"ref": "refs/x", "name": 1}')), false);
});

Deno.test("filters: empty or absent match everything; unknown keys are refused", () => {
  assert.equal(compileFilters(undefined)(ev({})), true);
  assert.equal(compileFilters({})(ev({})), true);
  const r = FiltersSchema.safeParse({ header: {} });
  assert.equal(r.success, false);
});

Deno.test("filters: without raw bytes the parsed body is searched as JSON", () => {
  const e = { ...ev({ "x-github-event": "push" }), rawBody: undefined };
  assert.equal(compileFilters(seed)(e), true);
});
