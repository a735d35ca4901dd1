/** Array operations: map, filter, sort, unique. */
import { z } from "zod";
import { compileCondition } from "../../routing/condition.ts";
import { getPath, parsePath } from "../../routing/json_path.ts";
import { type Condition, ConditionSchema } from "../../routing/schema.ts";
import { compileExpression } from "../expression.ts";
import { compileRef, eventView, type Working } from "../ref.ts";
import {
  defineOp,
  op,
  type OpDef,
  type OperationConfig,
  OpError,
  RefString,
  TargetString,
  typeName,
  valueOp,
} from "./op.ts";

function expectArray(v: unknown): unknown[] {
  if (!Array.isArray(v)) throw new OpError(`expected an array, got ${typeName(v)}`);
  return v;
}

export function bindings(w: Working): Record<string, unknown> {
  return { event: eventView(w.event), headers: w.headers, meta: w.meta };
}

const rank = (v: unknown) =>
  v === undefined || v === null
    ? 4
    : typeof v === "number"
    ? 0
    : typeof v === "string"
    ? 1
    : typeof v === "boolean"
    ? 2
    : 3;

/** Numbers before strings before booleans before objects; missing and null last. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = rank(a), rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 3) {
    const [ja, jb] = [JSON.stringify(a), JSON.stringify(b)];
    return ja < jb ? -1 : ja > jb ? 1 : 0;
  }
  if (ra === 4) return 0;
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

const ByPath = z.string().superRefine((s, ctx) => {
  try {
    parsePath(s);
  } catch (e) {
    ctx.addIssue({ code: "custom", message: (e as Error).message });
  }
});

/** Built with a getter for the operation schema: `map` nests operations. */
export function arrayOps(operationSchema: () => z.ZodType): OpDef[] {
  return [
    defineOp(
      "map",
      "Replaces each element by a JSONata expression's result or by nested operations",
      op("map", {
        path: RefString,
        to: TargetString.optional(),
        expression: z.string().optional(),
        operations: z.array(z.lazy(operationSchema)).min(1).optional(),
      }).refine(
        (c) => (c.expression === undefined) !== (c.operations === undefined),
        'map needs exactly one of "expression" and "operations"',
      ),
      (cfg, ctx) => {
        const from = compileRef(cfg.path);
        const to = cfg.to ? compileRef(cfg.to) : from;
        const expr = cfg.expression !== undefined ? compileExpression(cfg.expression) : null;
        const ops = cfg.operations
          ? ctx.compileOperations(cfg.operations as OperationConfig[])
          : null;
        return async (w, env) => {
          const v = from.get(w);
          if (v === undefined || v === null) return;
          const list = expectArray(v);
          const out: unknown[] = [];
          for (const item of list) {
            if (expr) out.push(await expr.evaluate(item, bindings(w)));
            else {
              const sub: Working = { ...w, body: item };
              await ops!(sub, env);
              out.push(sub.body);
            }
          }
          to.set(w, out);
        };
      },
    ),
    defineOp(
      "filter",
      'Keeps the elements that match a condition ("item.<path>" fields) or an expression',
      op("filter", {
        path: RefString,
        to: TargetString.optional(),
        where: ConditionSchema.optional(),
        expression: z.string().optional(),
      }).refine(
        (c) => (c.where === undefined) !== (c.expression === undefined),
        'filter needs exactly one of "where" and "expression"',
      ),
      (cfg) => {
        const from = compileRef(cfg.path);
        const to = cfg.to ? compileRef(cfg.to) : from;
        const pred = cfg.where ? compileCondition(cfg.where as Condition) : null;
        const expr = cfg.expression !== undefined ? compileExpression(cfg.expression) : null;
        return async (w) => {
          const v = from.get(w);
          if (v === undefined || v === null) return;
          const list = expectArray(v);
          const out: unknown[] = [];
          for (const item of list) {
            const keep = pred
              ? pred(w.event, item)
              : Boolean(await expr!.evaluate(item, bindings(w)));
            if (keep) out.push(item);
          }
          to.set(w, out);
        };
      },
    ),
    valueOp(
      "sort",
      "Sorts an array, by the element or by a path inside it",
      { by: ByPath.optional(), order: z.enum(["asc", "desc"]).default("asc") },
      (cfg) => {
        const by = cfg.by !== undefined ? parsePath(cfg.by) : null;
        const dir = cfg.order === "desc" ? -1 : 1;
        return (v) =>
          expectArray(v).map((x, i) => ({ x, i, k: by ? getPath(x, by) : x }))
            .sort((a, b) => {
              const [ra, rb] = [rank(a.k), rank(b.k)];
              if (ra === 4 || rb === 4) return ra - rb || a.i - b.i; // missing last either way
              return dir * compareValues(a.k, b.k) || a.i - b.i;
            })
            .map((e) => e.x);
      },
    ),
    valueOp(
      "unique",
      "Removes duplicate elements (or elements with a duplicate `by` value), keeping the first",
      { by: ByPath.optional() },
      (cfg) => {
        const by = cfg.by !== undefined ? parsePath(cfg.by) : null;
        return (v) => {
          const seen = new Set<string>();
          return expectArray(v).filter((x) => {
            const k = JSON.stringify(by ? getPath(x, by) ?? null : x);
            if (seen.has(k)) return false;
            seen.add(k);
            return true;
          });
        };
      },
    ),
  ];
}
