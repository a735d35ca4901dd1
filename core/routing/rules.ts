/** Turns validated `rules` JSON into SelectingRules, sorted by priority, compiled once. */
import { compileCondition } from "./condition.ts";
import type { Rule } from "./schema.ts";
import { inferSelect, type SelectingRule, type TargetEntry } from "./select.ts";

export function compileRules(
  rules: readonly Rule[] | undefined,
  routeTargets: readonly TargetEntry[],
): SelectingRule[] | null {
  if (!rules || rules.length === 0) return null;
  const byId = new Map(routeTargets.map((t) => [t.destinationId, t]));
  return rules
    .map((rule, i) => ({ rule, i }))
    .sort((a, b) => (a.rule.priority ?? 0) - (b.rule.priority ?? 0) || a.i - b.i)
    .map(({ rule, i }) => {
      const targets = rule.destinations
        ? rule.destinations.map((id, k) => {
          const t = byId.get(id);
          if (!t) {
            throw new Error(
              `rules[${i}].destinations[${k}]: "${id}" is not a destination of the route`,
            );
          }
          return t;
        })
        : [...routeTargets];
      return {
        name: rule.name ?? `rule#${i + 1}`,
        test: rule.when ? compileCondition(rule.when) : null,
        targets,
        select: rule.select ?? inferSelect(targets),
        final: rule.final ?? false,
      };
    });
}
