import assert from "node:assert/strict";
import { cloneJson } from "../../../core/pipeline/clone.ts";

Deno.test("cloneJson: deep copy of JSON values", () => {
  const v = { a: [1, { b: "x" }], c: null, d: true, e: { f: { g: 1.5 } } };
  const c = cloneJson(v);
  assert.deepEqual(c, v);
  assert.notEqual(c.a, v.a);
  assert.notEqual(c.e.f, v.e.f);
  assert.equal(cloneJson("s"), "s");
  assert.equal(cloneJson(null), null);
});

Deno.test("cloneJson: a parsed __proto__ key stays data, other objects use structuredClone", () => {
  const parsed = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}');
  const c = cloneJson(parsed) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(c), Object.prototype);
  assert.deepEqual(Object.keys(c), ["__proto__", "a"]);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  const d = new Date(5);
  const out = cloneJson({ d, bytes: new Uint8Array([1, 2]) });
  assert.ok(out.d instanceof Date && out.d !== d && out.d.getTime() === 5);
  assert.deepEqual([...out.bytes], [1, 2]);
});
