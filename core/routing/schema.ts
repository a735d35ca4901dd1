/**
 * JSON shapes of a route's `filters` (the seed README's shorthand) and `rules`. Everything is
 * checked at save time so a bad regex, CIDR or path fails with the field's path, never at
 * event time.
 */
import { z } from "zod";
import { parseCidr } from "./cidr.ts";
import { compileSafeRegex } from "./safe_regex.ts";
import { parsePath } from "./json_path.ts";
import { dispatch, isRecord } from "./zod_dispatch.ts";

export const OPERATORS = [
  "equals",
  "not_equals",
  "in",
  "exists",
  "prefix",
  "suffix",
  "contains",
  "regex",
  "range",
  "cidr",
  "anything_but",
] as const;
export type Operator = typeof OPERATORS[number];

/**
 * Fields a condition can read; `body.*`, `headers.*`, `query.*`, `meta.*` take a rest. `item` is
 * the array element inside the `filter` operation (always missing in rules).
 */
export const FIELD_ROOTS = [
  "id",
  "tenant",
  "route_id",
  "source",
  "method",
  "path",
  "query",
  "headers",
  "body",
  "ip",
  "meta",
  "received_at",
  "item",
] as const;

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const RangeSchema = z.strictObject({
  gt: z.number().optional(),
  gte: z.number().optional(),
  lt: z.number().optional(),
  lte: z.number().optional(),
}).refine((r) => Object.keys(r).length > 0, "range needs at least one of gt, gte, lt, lte");

export interface Range {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
}

export interface LeafCondition {
  field: string;
  equals?: unknown;
  not_equals?: unknown;
  in?: unknown[];
  exists?: boolean;
  prefix?: string;
  suffix?: string;
  contains?: unknown;
  regex?: string;
  range?: Range;
  cidr?: string | string[];
  anything_but?: unknown;
  ignore_case?: boolean;
}

export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | LeafCondition;

export function checkField(field: string): string | null {
  const dot = field.indexOf(".");
  const root = dot < 0 ? field : field.slice(0, dot);
  if (!(FIELD_ROOTS as readonly string[]).includes(root)) {
    return `unknown field "${field}"; fields start with one of ${FIELD_ROOTS.join(", ")}`;
  }
  if (root === "body" || root === "meta" || root === "item") {
    try {
      parsePath(dot < 0 ? "" : field.slice(dot + 1));
    } catch (e) {
      return (e as Error).message;
    }
  }
  return null;
}

export const LeafSchema = z.strictObject({
  field: z.string().min(1),
  equals: z.unknown().optional(),
  not_equals: z.unknown().optional(),
  in: z.array(z.unknown()).optional(),
  exists: z.boolean().optional(),
  prefix: z.string().optional(),
  suffix: z.string().optional(),
  contains: z.unknown().optional(),
  regex: z.string().optional(),
  range: RangeSchema.optional(),
  cidr: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
  anything_but: z.union([Scalar, z.array(Scalar).min(1)]).optional(),
  ignore_case: z.boolean().optional(),
}).superRefine((leaf, ctx) => {
  const ops = OPERATORS.filter((op) => Object.hasOwn(leaf, op));
  if (ops.length !== 1) {
    ctx.addIssue({
      code: "custom",
      message: ops.length === 0
        ? `condition on "${leaf.field}" needs one operator: ${OPERATORS.join(", ")}`
        : `condition on "${leaf.field}" has ${ops.length} operators (${
          ops.join(", ")
        }); use "all" to combine them`,
    });
  }
  const fieldError = checkField(leaf.field);
  if (fieldError) ctx.addIssue({ code: "custom", path: ["field"], message: fieldError });
  if (leaf.regex !== undefined) {
    try {
      compileSafeRegex(leaf.regex, { ignoreCase: leaf.ignore_case });
    } catch (e) {
      ctx.addIssue({ code: "custom", path: ["regex"], message: (e as Error).message });
    }
  }
  if (leaf.cidr !== undefined) {
    const list = Array.isArray(leaf.cidr) ? leaf.cidr : [leaf.cidr];
    list.forEach((c, i) => {
      try {
        parseCidr(c);
      } catch (e) {
        const path = Array.isArray(leaf.cidr) ? ["cidr", i] : ["cidr"];
        ctx.addIssue({ code: "custom", path, message: (e as Error).message });
      }
    });
  }
});

export const ConditionSchema: z.ZodType<Condition> = dispatch<Condition>((v) => {
  if (!isRecord(v)) return "a condition must be an object";
  if ("all" in v) return z.strictObject({ all: z.array(ConditionSchema) });
  if ("any" in v) return z.strictObject({ any: z.array(ConditionSchema) });
  if ("not" in v) return z.strictObject({ not: ConditionSchema });
  if ("field" in v) return LeafSchema;
  return 'a condition needs "field" (with one operator), "all", "any" or "not"';
});

/** The seed README's shorthand: header values must equal, body must contain every string. */
export const FiltersSchema = z.strictObject({
  headers: z.record(z.string(), z.string()).optional(),
  body_contains: z.array(z.string()).optional(),
});
export type Filters = z.infer<typeof FiltersSchema>;

export const SELECT_MODES = ["all", "priority", "weighted"] as const;
export type SelectMode = typeof SELECT_MODES[number];

export const RuleSchema = z.strictObject({
  /** Shown in traces; defaults to "rule#<n>" (1-based). */
  name: z.string().min(1).max(200).optional(),
  /** Absent: the rule always matches. */
  when: ConditionSchema.optional(),
  /** Destination ids of the route; absent: all the route's destinations. */
  destinations: z.array(z.string().min(1)).min(1).optional(),
  /** How the listed destinations are used: every one, the first healthy, or one by weight. */
  select: z.enum(SELECT_MODES).optional(),
  /** Evaluation order: lower first; equal priorities keep array order. */
  priority: z.number().int().optional(),
  /** When this rule matches, rules after it are not evaluated. */
  final: z.boolean().optional(),
});
export type Rule = z.infer<typeof RuleSchema>;

export const RulesSchema = z.array(RuleSchema).max(500);
