/** Compiles a Condition tree (all / any / not / leaf) into one closure, once per route version. */
import { compileField, type RoutingEvent } from "./event.ts";
import { compileOperator } from "./operators.ts";
import type { Condition } from "./schema.ts";

export type Predicate = (event: RoutingEvent, item?: unknown) => boolean;

export function compileCondition(cond: Condition): Predicate {
  if ("all" in cond) {
    const parts = cond.all.map(compileCondition);
    return (e, item) => parts.every((p) => p(e, item));
  }
  if ("any" in cond) {
    const parts = cond.any.map(compileCondition);
    return (e, item) => parts.some((p) => p(e, item));
  }
  if ("not" in cond) {
    const inner = compileCondition(cond.not);
    return (e, item) => !inner(e, item);
  }
  const get = compileField(cond.field);
  const test = compileOperator(cond);
  return (e, item) => test(get(e, item));
}
