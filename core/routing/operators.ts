/**
 * One predicate per operator. A value that is an array (a wildcard path, a repeated query
 * parameter, a JSON array) matches a scalar operator when any element matches; the negative
 * operators (`not_equals`, `anything_but`) then require that no element matches.
 */
import { parseCidr } from "./cidr.ts";
import { deepEqual } from "./deep_equal.ts";
import { compileSafeRegex } from "./safe_regex.ts";
import type { LeafCondition, Range } from "./schema.ts";

export type ValuePredicate = (value: unknown) => boolean;

const any = (pred: ValuePredicate): ValuePredicate => (v) =>
  Array.isArray(v) ? v.some(pred) : pred(v);

/** Numbers and booleans compare as their text for the string operators. */
function asText(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

function asNumber(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v === "string" && v.trim() !== "") {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function equalsFn(expected: unknown, ignoreCase: boolean): ValuePredicate {
  if (ignoreCase && typeof expected === "string") {
    const lower = expected.toLowerCase();
    return any((v) => typeof v === "string" && v.toLowerCase() === lower);
  }
  const whole: ValuePredicate = (v) => deepEqual(v, expected);
  if (Array.isArray(expected)) return whole;
  return (v) => whole(v) || (Array.isArray(v) && v.some(whole));
}

function inFn(list: unknown[], ignoreCase: boolean): ValuePredicate {
  const preds = list.map((x) => equalsFn(x, ignoreCase));
  // Strings dominate real lists (event types, repository names): a Set makes them O(1).
  if (!ignoreCase && list.every((x) => typeof x === "string")) {
    const set = new Set(list as string[]);
    return any((v) => typeof v === "string" && set.has(v));
  }
  return (v) => preds.some((p) => p(v));
}

export function rangeFn(r: Range): ValuePredicate {
  return any((v) => {
    const n = asNumber(v);
    if (n === undefined) return false;
    return (r.gt === undefined || n > r.gt) && (r.gte === undefined || n >= r.gte) &&
      (r.lt === undefined || n < r.lt) && (r.lte === undefined || n <= r.lte);
  });
}

function stringFn(
  operand: string,
  ignoreCase: boolean,
  test: (value: string, operand: string) => boolean,
): ValuePredicate {
  const op = ignoreCase ? operand.toLowerCase() : operand;
  return any((v) => {
    const text = asText(v);
    return text !== undefined && test(ignoreCase ? text.toLowerCase() : text, op);
  });
}

function containsFn(operand: unknown, ignoreCase: boolean): ValuePredicate {
  const elem = equalsFn(operand, ignoreCase);
  const sub = typeof operand === "string"
    ? stringFn(operand, ignoreCase, (v, o) => v.includes(o))
    : () => false;
  return (v) => {
    if (Array.isArray(v)) return v.some((e) => elem(e));
    return typeof v === "string" && sub(v);
  };
}

/** Compiles the single operator of a leaf condition into a predicate on the field's value. */
export function compileOperator(leaf: LeafCondition): ValuePredicate {
  const ic = leaf.ignore_case ?? false;
  if (Object.hasOwn(leaf, "equals")) return equalsFn(leaf.equals, ic);
  if (Object.hasOwn(leaf, "not_equals")) {
    const eq = equalsFn(leaf.not_equals, ic);
    return (v) => !eq(v);
  }
  if (leaf.in !== undefined) return inFn(leaf.in, ic);
  if (leaf.exists !== undefined) {
    const want = leaf.exists;
    return (v) => (v !== undefined && !(Array.isArray(v) && v.length === 0)) === want;
  }
  if (leaf.prefix !== undefined) return stringFn(leaf.prefix, ic, (v, o) => v.startsWith(o));
  if (leaf.suffix !== undefined) return stringFn(leaf.suffix, ic, (v, o) => v.endsWith(o));
  if (Object.hasOwn(leaf, "contains")) return containsFn(leaf.contains, ic);
  if (leaf.regex !== undefined) {
    const re = compileSafeRegex(leaf.regex, { ignoreCase: ic });
    return any((v) => {
      const text = asText(v);
      return text !== undefined && re.test(text);
    });
  }
  if (leaf.range !== undefined) return rangeFn(leaf.range);
  if (leaf.cidr !== undefined) {
    const blocks = (Array.isArray(leaf.cidr) ? leaf.cidr : [leaf.cidr]).map(parseCidr);
    return any((v) => typeof v === "string" && blocks.some((b) => b.contains(v)));
  }
  if (leaf.anything_but !== undefined) {
    const list = Array.isArray(leaf.anything_but) ? leaf.anything_but : [leaf.anything_but];
    const hit = inFn(list, ic);
    return (v) => v !== undefined && !(Array.isArray(v) && v.length === 0) && !hit(v);
  }
  throw new Error(`condition on "${leaf.field}" has no operator`);
}
