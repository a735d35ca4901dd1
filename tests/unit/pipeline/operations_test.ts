/** Edge cases of the operations beyond the docs examples (which cover every one). */
import assert from "node:assert/strict";
import {
  compileRoute,
  RouteDefinitionError,
  runRoute,
  validateRouteDefinition,
} from "../../../core/pipeline/mod.ts";
import { deps, event, opsRoute } from "./helpers.ts";

async function apply(operations: unknown[], body: unknown, headers: Record<string, string> = {}) {
  const out = await runRoute(
    compileRoute(opsRoute(operations)),
    event({ body, headers }),
    deps({ trace: true }),
  );
  return out;
}
const result = async (operations: unknown[], body: unknown) =>
  (await apply(operations, body)).stages[0].output;

const issues = (operations: unknown[]) => {
  const r = validateRouteDefinition(opsRoute(operations));
  assert.equal(r.ok, false, "expected the definition to be refused");
  return (r as { issues: { path: string; message: string }[] }).issues.map((i) =>
    `${i.path}: ${i.message}`
  ).join("\n");
};

Deno.test("operation errors fail the stage naming index, op and path", async () => {
  const out = await apply(
    [{ op: "set", path: "a", value: 1 }, { op: "to_number", path: "amount" }],
    { amount: "12x" },
  );
  assert.deepEqual(out.deliveries, []);
  assert.equal(out.failed?.stage, "transform#1");
  assert.equal(out.failed?.policy, "dead_letter");
  assert.equal(
    out.failed?.error,
    'operations[1] to_number at "amount": cannot convert "12x" to a number',
  );
  assert.equal(out.stages[0].error, out.failed?.error);
});

Deno.test("config errors name the field path", () => {
  assert.match(
    issues([{ op: "nope" }]),
    /^pipeline\[0\]\.operations\[0\]: unknown operation "nope"/,
  );
  assert.match(
    issues([{ op: "set", path: "a..b", value: 1 }]),
    /^pipeline\[0\]\.operations\[0\]\.path: invalid path "a\.\.b"/,
  );
  assert.match(
    issues([{ op: "upper", path: "$event.id" }]),
    /operations\[0\]\.to: "\$event\.id" is read-only/,
  );
  assert.match(
    issues([{ op: "set", path: "$event.x", value: 1 }]),
    /operations\[0\]\.path: "\$event\.x": \$event is read-only/,
  );
  assert.match(issues([{ op: "set", path: "$nope", value: 1 }]), /unknown root/);
  assert.match(
    issues([{ op: "replace", path: "a", replacement: "" }]),
    /exactly one of "search" and "pattern"/,
  );
  assert.match(
    issues([{ op: "replace", path: "a", pattern: "(a)\\1", replacement: "" }]),
    /backreferences/,
  );
  assert.match(
    issues([{ op: "date_format", path: "a", format: "iso", timezone: "Mars/Olympus" }]),
    /operations\[0\]\.timezone: unknown time zone "Mars\/Olympus"/,
  );
  assert.match(
    issues([{ op: "map", path: "a", operations: [{ op: "upper" }] }]),
    /operations\[0\]\.operations\[0\]\.path/,
  );
  assert.match(
    issues([{ op: "jsonata", expression: "$sum(" }]),
    /operations\[0\] \(jsonata\): JSONata expression/,
  );
  assert.match(issues([{ op: "hash", path: "a[*]" }]), /hash takes no wildcard/);
  assert.match(
    issues([{ op: "set", path: "a", value: 1, extra: true }]),
    /Unrecognized key: "extra"/,
  );
  assert.match(
    issues([{ op: "filter", path: "a", where: { field: "item.x", regex: "(?=x)" } }]),
    /where\.regex: .*lookaround/,
  );
  assert.throws(() => compileRoute(opsRoute([{ op: "nope" }])), RouteDefinitionError);
});

Deno.test("value ops: missing left alone, null kept, wildcard to `to` gives a list", async () => {
  assert.deepEqual(await result([{ op: "upper", path: "missing" }], { a: 1 }), { a: 1 });
  assert.deepEqual(await result([{ op: "upper", path: "n" }], { n: null }), { n: null });
  assert.deepEqual(
    await result([{ op: "upper", path: "xs[*].n", to: "names" }], { xs: [{ n: "a" }, { n: "b" }] }),
    { xs: [{ n: "a" }, { n: "b" }], names: ["A", "B"] },
  );
  const out = await apply([{ op: "upper", path: "n" }], { n: 5 });
  assert.match(out.failed!.error, /expected a string, got number/);
});

Deno.test("references: $headers, $meta, $key, $event and the root", async () => {
  const route = compileRoute(opsRoute([
    { op: "set", path: "$headers.X-Trace", value: "t1" },
    { op: "set", path: "$meta.seen", value: true },
    { op: "copy", from: "$meta.seen", to: "seen" },
    { op: "copy", from: "customer.id", to: "$key" },
    { op: "copy", from: "$event.headers.x-in", to: "in" },
    { op: "copy", from: "$event.query.page", to: "page" },
    { op: "set", path: "$headers.x-num", value: 3 },
  ]));
  const out = await runRoute(
    route,
    event({ body: { customer: { id: 42 } }, headers: { "x-in": "hello" }, query: { page: "2" } }),
    deps(),
  );
  const d = out.deliveries[0];
  assert.equal(d.headers["x-trace"], "t1");
  assert.equal(d.headers["x-num"], "3");
  assert.equal(d.key, "42");
  assert.deepEqual(JSON.parse(new TextDecoder().decode(d.body)), {
    customer: { id: 42 },
    seen: true,
    in: "hello",
    page: "2",
  });
  assert.deepEqual(await result([{ op: "set", path: "$", value: [1] }], { a: 1 }), [1]);
});

Deno.test("set values are copied per event", async () => {
  const route = compileRoute(
    opsRoute([{ op: "set", path: "list", value: [] }, {
      op: "jsonata",
      expression: "$append(list, 1)",
      to: "list",
    }]),
  );
  for (let i = 0; i < 2; i++) {
    const out = await runRoute(route, event({ body: {} }), deps({ trace: true }));
    assert.deepEqual(out.stages[0].output, { list: [1] });
  }
});

Deno.test("move, rename, copy edge cases", async () => {
  assert.deepEqual(await result([{ op: "move", from: "missing", to: "x" }], { a: 1 }), { a: 1 });
  assert.deepEqual(await result([{ op: "rename", path: "missing", to: "x" }], { a: 1 }), { a: 1 });
  assert.deepEqual(await result([{ op: "rename", path: "a.b", to: "c" }], { a: { b: 1 } }), {
    a: { c: 1 },
  });
  assert.deepEqual(await result([{ op: "copy", from: "$", to: "copy" }], { a: 1 }), {
    a: 1,
    copy: { a: 1 },
  });
  assert.deepEqual(await result([{ op: "move", from: "$headers.x", to: "x" }], {}), {});
});

Deno.test("template: missing values render empty, objects as JSON", async () => {
  assert.deepEqual(
    await result([{ op: "template", to: "t", template: "[{{missing}}|{{obj}}|{{n}}]" }], {
      obj: { a: 1 },
      n: 2,
    }),
    { obj: { a: 1 }, n: 2, t: '[|{"a":1}|2]' },
  );
});

Deno.test("casts: failures and variants", async () => {
  for (
    const [op, v, msg] of [
      ["to_boolean", "maybe", /cannot convert "maybe" to a boolean/],
      ["to_integer", "x", /cannot convert "x" to a number/],
      ["parse_json", "{", /invalid JSON/],
      ["base64_decode", "@@@", /cannot decode/],
      ["url_decode", "%E0%A4%A", /malformed percent-encoding/],
      ["date_parse", "not a date", /cannot parse "not a date" as a date/],
      ["xml_to_json", "<a><b></a>", /invalid XML/],
      ["csv_to_json", 'a\n"unterminated', /unterminated quoted field/],
      ["join", "x", /expected an array/],
      ["flatten", 5, /expected an object/],
    ] as const
  ) {
    const out = await apply([{ op, path: "v" }], { v });
    assert.match(out.failed?.error ?? "", msg, op);
  }
  assert.deepEqual(
    await result([{ op: "to_integer", path: "v", rounding: "floor" }], { v: -1.5 }),
    { v: -2 },
  );
  assert.deepEqual(await result([{ op: "to_number", path: "v" }], { v: true }), { v: 1 });
  assert.deepEqual(await result([{ op: "to_boolean", path: "v" }], { v: 0 }), { v: false });
  assert.deepEqual(await result([{ op: "stringify_json", path: "v", indent: 1 }], { v: [1] }), {
    v: "[\n 1\n]",
  });
});

Deno.test("structure: flatten/unflatten round trip and prototype safety", async () => {
  const doc = { a: { b: [1, { c: 2 }], d: {} }, e: "x" };
  const flat = await result([{ op: "flatten", path: "$" }], doc);
  assert.deepEqual(flat, { "a.b.0": 1, "a.b.1.c": 2, "a.d": {}, e: "x" });
  assert.deepEqual(
    await result([{ op: "flatten", path: "$" }, { op: "unflatten", path: "$" }], doc),
    doc,
  );
  const out = await apply([{ op: "unflatten", path: "$" }], { "__proto__.polluted": 1 });
  assert.match(out.failed!.error, /refusing key/);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("keys: shallow conversion", async () => {
  assert.deepEqual(
    await result([{ op: "snake_case_keys", path: "$", deep: false }], { userId: { innerKey: 1 } }),
    { user_id: { innerKey: 1 } },
  );
});

Deno.test("arrays: map with $event binding, sort mixed types, unique objects", async () => {
  assert.deepEqual(
    await result([{ op: "map", path: "xs", expression: "$ & '-' & $event.id" }], { xs: ["a"] }),
    { xs: ["a-evt_example"] },
  );
  assert.deepEqual(
    await result([{ op: "sort", path: "xs" }], { xs: ["b", 2, null, "a", 1, true] }),
    { xs: [1, 2, "a", "b", true, null] },
  );
  assert.deepEqual(
    await result([{ op: "unique", path: "xs" }], { xs: [{ a: 1 }, { a: 1 }, { a: 2 }] }),
    { xs: [{ a: 1 }, { a: 2 }] },
  );
  const out = await apply([{ op: "sort", path: "xs" }], { xs: "nope" });
  assert.match(out.failed!.error, /expected an array, got string/);
});

Deno.test("dates: offsets, unix inputs, patterns with literal text", async () => {
  assert.deepEqual(
    await result([
      { op: "date_parse", path: "a", format: "unix_ms" },
      { op: "date_parse", path: "b", format: "YYYY-MM-DDTHH:mm:ssZ", output: "unix_ms" },
      { op: "date_format", path: "c", format: "iso", timezone: "+05:30" },
      { op: "date_format", path: "d", format: "rfc2822", timezone: "Europe/Paris" },
      { op: "date_parse", path: "e", format: "iso", output: "unix" },
    ], {
      a: 0,
      b: "2024-05-01T14:30:00+02:00",
      c: "2024-05-01T00:00:00Z",
      d: "2024-01-15T12:00:00Z",
      e: "2024-05-01",
    }),
    {
      a: "1970-01-01T00:00:00.000Z",
      b: Date.parse("2024-05-01T12:30:00Z"),
      c: "2024-05-01T05:30:00.000+05:30",
      d: "Mon, 15 Jan 2024 13:00:00 +0100",
      e: Date.parse("2024-05-01") / 1000,
    },
  );
});

Deno.test("encodings: url-safe base64 round trip", async () => {
  assert.deepEqual(
    await result([{ op: "base64_encode", path: "a", url_safe: true, to: "b" }, {
      op: "base64_decode",
      path: "b",
      to: "c",
    }], { a: "??>>" }),
    { a: "??>>", b: "Pz8-Pg", c: "??>>" },
  );
});

Deno.test("hash of non-strings hashes their JSON; sha512 base64url", async () => {
  const out = await result([
    { op: "hash", path: "o", to: "h", algorithm: "sha512", encoding: "base64url" },
    { op: "hash", path: "s", to: "h2", algorithm: "sha384" },
  ], { o: { a: 1 }, s: '{"a":1}' }) as Record<string, string>;
  assert.match(out.h, /^[A-Za-z0-9_-]{86}$/);
  assert.equal(out.h2.length, 96);
});

Deno.test("ids are unique per event", async () => {
  const route = compileRoute(opsRoute([{ op: "uuid", to: "a" }, { op: "cuid", to: "b" }]));
  const seen = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const out = await runRoute(route, event({ body: {} }), deps({ trace: true }));
    const b = out.stages[0].output as { a: string; b: string };
    seen.add(b.a).add(b.b);
  }
  assert.equal(seen.size, 40);
});

Deno.test("formats: xml with declaration and root, csv without header, form safety", async () => {
  assert.deepEqual(
    await result([{ op: "json_to_xml", path: "o", root: "r", declaration: true }], { o: { a: 1 } }),
    { o: '<?xml version="1.0" encoding="UTF-8"?><r><a>1</a></r>' },
  );
  assert.deepEqual(
    await result([{ op: "csv_to_json", path: "c", header: false, delimiter: ";" }], {
      c: 'a;b\r\n1;"2;3"',
    }),
    { c: [["a", "b"], ["1", "2;3"]] },
  );
  assert.deepEqual(await result([{ op: "form_to_json", path: "f" }], { f: "__proto__=1&a=2" }), {
    f: { a: "2" },
  });
});

Deno.test("headers: all headers, and fields_to_headers skips nulls", async () => {
  const out = await apply(
    [
      { op: "headers_to_fields" },
      { op: "fields_to_headers", map: { "x-a": "a", "x-b": "b" } },
    ],
    { a: 1, b: null },
    { "x-one": "1" },
  );
  assert.deepEqual(out.stages[0].output, { a: 1, b: null, headers: { "x-one": "1" } });
  assert.equal(out.deliveries[0].headers["x-a"], "1");
  assert.equal("x-b" in out.deliveries[0].headers, false);
});

Deno.test("jsonata: bounded evaluation and safe regexes", async () => {
  const slow = await apply([{
    op: "jsonata",
    expression: "($f := function($n){ $n > 0 ? 1 + $f($n - 1) : 0 }; $f(100000))",
  }], {});
  assert.match(slow.failed!.error, /JSONata expression .*stack/i);
  const t = performance.now();
  const loop = await apply([{
    op: "jsonata",
    expression: "($f := function($n){ $n > 0 ? $f($n - 1) : 0 }; $f(100000000))",
  }], {});
  assert.match(loop.failed!.error, /JSONata expression .*(time|long)/i);
  assert.ok(performance.now() - t < 5000);
  const rx = await apply([{
    op: "jsonata",
    expression: "$match(s, /(\\w+)@(\\w+)/).groups",
    to: "g",
  }], { s: "x ada@host y" });
  assert.deepEqual(rx.stages[0].output, { s: "x ada@host y", g: ["ada", "host"] });
  assert.match(issues([{ op: "jsonata", expression: "$contains(s, /(a)\\1/)" }]), /backreferences/);
});
