/**
 * Runs every `json example` (operations) and `json condition` (rule operators) block of
 * docs/pipeline.md, and checks that every operation and operator has at least one.
 */
import assert from "node:assert/strict";
import { compileRoute, OPERATIONS, runRoute } from "../../../core/pipeline/mod.ts";
import { compileCondition } from "../../../core/routing/condition.ts";
import { ConditionSchema, OPERATORS } from "../../../core/routing/schema.ts";
import { getPath, parsePath } from "../../../core/routing/json_path.ts";
import { deps, event } from "./helpers.ts";

const doc = await Deno.readTextFile(new URL("../../../docs/pipeline.md", import.meta.url));
const blocks = (tag: string) =>
  [...doc.matchAll(new RegExp("```json " + tag + "\\n([\\s\\S]*?)```", "g"))].map((m, i) => {
    try {
      return JSON.parse(m[1]);
    } catch (e) {
      throw new Error(`${tag} block ${i + 1} is not JSON: ${(e as Error).message}\n${m[1]}`);
    }
  });

interface OpExample {
  input: unknown;
  operations: { op: string; operations?: unknown[] }[];
  output?: unknown;
  output_headers?: Record<string, string>;
  output_matches?: Record<string, string>;
  headers?: Record<string, string>;
  now?: string;
}

const examples = blocks("example") as OpExample[];
const conditions = blocks("condition") as {
  event: Record<string, unknown>;
  when: unknown;
  matches: boolean;
}[];

examples.forEach((ex, i) => {
  const ops = ex.operations.map((o) => o.op).join(", ");
  Deno.test(`docs example ${i + 1}: ${ops}`, async () => {
    const route = compileRoute({
      id: "route_docs",
      version: `${i}:${JSON.stringify(ex.operations)}`,
      pipeline: [{ type: "transform", operations: ex.operations as never }],
      destinations: [{ destination_id: "dest_docs" }],
    });
    const now = ex.now ? Date.parse(ex.now) : Date.parse("2024-05-01T12:30:00Z");
    const out = await runRoute(
      route,
      event({ body: ex.input, headers: ex.headers ?? {} }),
      deps({ now: () => now, trace: true }),
    );
    assert.equal(out.failed, undefined, JSON.stringify(out.failed));
    const body = out.stages[0].output;
    if ("output" in ex) assert.deepEqual(body, ex.output);
    for (const [path, re] of Object.entries(ex.output_matches ?? {})) {
      assert.match(String(getPath(body, parsePath(path))), new RegExp(re));
    }
    for (const [h, v] of Object.entries(ex.output_headers ?? {})) {
      assert.equal(out.deliveries[0].headers[h], v, `header ${h}`);
    }
  });
});

conditions.forEach((c, i) => {
  Deno.test(`docs condition ${i + 1}: ${JSON.stringify(c.when).slice(0, 60)}`, () => {
    const when = ConditionSchema.parse(c.when);
    const test = compileCondition(when);
    const ev = event({ headers: {}, ...c.event } as never);
    assert.equal(test(ev), c.matches);
  });
});

Deno.test("docs: every operation has an example", () => {
  const used = new Set<string>();
  const walk = (ops: { op: string; operations?: unknown[] }[]) => {
    for (const o of ops) {
      used.add(o.op);
      if (o.operations) walk(o.operations as never);
    }
  };
  for (const ex of examples) walk(ex.operations);
  const missing = OPERATIONS.map((o) => o.name).filter((n) => !used.has(n));
  assert.deepEqual(missing, []);
  assert.ok(OPERATIONS.length >= 40, `${OPERATIONS.length} operations`);
});

Deno.test("docs: every operator and combinator has a condition example", () => {
  const used = new Set<string>();
  const walk = (c: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(c)) {
      used.add(k);
      if (Array.isArray(v) && (k === "all" || k === "any")) v.forEach((x) => walk(x));
      if (k === "not") walk(v as Record<string, unknown>);
    }
  };
  for (const c of conditions) walk(c.when as Record<string, unknown>);
  const missing = [...OPERATORS, "all", "any", "not"].filter((o) => !used.has(o));
  assert.deepEqual(missing, []);
});
