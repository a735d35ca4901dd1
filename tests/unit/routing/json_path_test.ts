import assert from "node:assert/strict";
import {
  deletePath,
  expandPaths,
  formatPath,
  getAll,
  getPath,
  parsePath,
  setPath,
  WILDCARD,
} from "../../../core/routing/json_path.ts";

Deno.test("parsePath: dots, indexes, quoted keys, wildcards, root", () => {
  assert.deepEqual(parsePath("a.b[0].c"), ["a", "b", 0, "c"]);
  assert.deepEqual(parsePath('a["x.y"].z'), ["a", "x.y", "z"]);
  assert.deepEqual(parsePath("items[*].sku"), ["items", WILDCARD, "sku"]);
  assert.deepEqual(parsePath("items.*.sku"), ["items", WILDCARD, "sku"]);
  assert.deepEqual(parsePath(""), []);
  assert.deepEqual(parsePath("$"), []);
});

Deno.test("parsePath: errors name the path and position", () => {
  assert.throws(() => parsePath("a..b"), /invalid path "a\.\.b": empty segment at 2/);
  assert.throws(() => parsePath("a[x]"), /bad index/);
  assert.throws(() => parsePath("a[0"), /unclosed/);
  assert.throws(() => parsePath("a."), /ends with an empty segment/);
});

Deno.test("getPath and getAll", () => {
  const doc = { a: { b: [{ c: 1 }, { c: 2 }, {}] }, "x.y": 3 };
  assert.equal(getPath(doc, parsePath("a.b[1].c")), 2);
  assert.equal(getPath(doc, parsePath("a.b.1.c")), 2);
  assert.equal(getPath(doc, parsePath("a.z.c")), undefined);
  assert.equal(getPath(doc, parsePath('["x.y"]')), 3);
  assert.deepEqual(getAll(doc, parsePath("a.b[*].c")), [1, 2]);
  assert.deepEqual(getPath(doc, parsePath("a.b[*].c")), [1, 2]);
  assert.equal(getPath("text", parsePath("a")), undefined);
  assert.equal(getPath({ toString: 1 }, parsePath("constructor")), undefined);
});

Deno.test("setPath creates objects and arrays, refuses prototype keys", () => {
  const made = setPath({}, parsePath("a.b[1]"), 5) as { a: { b: unknown[] } };
  assert.equal(made.a.b.length, 2);
  assert.equal(made.a.b[1], 5);
  assert.deepEqual(setPath(null, parsePath("a"), 1), { a: 1 });
  assert.equal(setPath({ a: 1 }, [], 9), 9);
  assert.throws(() => setPath({}, parsePath("__proto__.x"), 1), /refusing/);
  assert.equal(({} as Record<string, unknown>).x, undefined);
});

Deno.test("deletePath and expandPaths", () => {
  const doc = { a: [1, 2, 3], b: { c: 1 } };
  assert.equal(deletePath(doc, parsePath("a[1]")), true);
  assert.deepEqual(doc.a, [1, 3]);
  assert.equal(deletePath(doc, parsePath("b.c")), true);
  assert.equal(deletePath(doc, parsePath("b.zz")), false);
  assert.deepEqual(expandPaths({ x: [{ y: 1 }, { y: 2 }] }, parsePath("x[*].y")), [
    ["x", 0, "y"],
    ["x", 1, "y"],
  ]);
  assert.equal(formatPath(["a", 0, "b.c", WILDCARD]), 'a[0]["b.c"][*]');
});
