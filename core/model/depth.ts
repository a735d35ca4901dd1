/**
 * Nesting depth of free-form JSON in API bodies (rules and conditions, pipelines, configs).
 * Compiling, cloning and validating are recursive; a body nested thousands of levels deep
 * would exhaust the stack there. The walk here is iterative, so it is safe on any input, and
 * it runs before anything recursive sees the value.
 */
import type { z } from "@hono/zod-openapi";

/** Levels of objects and arrays a free-form field may nest. */
export const MAX_DEPTH = 32;

/** The path to the first value nested deeper than `max` levels, or null. */
export function deeperThan(value: unknown, max = MAX_DEPTH): (string | number)[] | null {
  const stack: [unknown, number, (string | number)[]][] = [[value, 0, []]];
  while (stack.length) {
    const [v, depth, path] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth >= max) return path;
    const entries = Array.isArray(v) ? v.map((x, i) => [i, x] as const) : Object.entries(v);
    for (const [k, x] of entries) stack.push([x, depth + 1, [...path, k]]);
  }
  return null;
}

/** A zod check: each named field of the object nests at most MAX_DEPTH levels. */
export function checkDepth(fields: readonly string[]) {
  return (body: Record<string, unknown>, ctx: z.RefinementCtx) => {
    for (const f of fields) {
      const at = deeperThan(body[f]);
      if (at) {
        ctx.addIssue({
          code: "custom",
          path: [f, ...at.slice(0, 8)],
          message: `nested deeper than ${MAX_DEPTH} levels`,
        });
      }
    }
  };
}
