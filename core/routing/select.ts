/**
 * Destination selection. Every matching rule contributes destinations (fan-out to every match,
 * deduplicated); within a rule, `select` decides how its destinations are used:
 * - `all`: every destination;
 * - `priority`: the first, by ascending `priority`, whose circuit is not open;
 * - `weighted`: exactly one, drawn by `weight` from a hash of the event id, so a replay of the
 *   same event goes to the same place.
 * Without `select`, a rule (or a route without rules) uses `weighted` when one of its entries
 * has a weight, else `priority` when one has a priority, else `all`.
 * Fallback: a chosen destination whose circuit is open is replaced by its
 * `fallback_destination_id` when that one's circuit is closed; otherwise the delivery keeps the
 * fallback id so the dispatcher can switch when the primary's delivery goes dead.
 */
import { unitHash } from "./hash.ts";
import type { Predicate } from "./condition.ts";
import type { RoutingEvent } from "./event.ts";
import type { SelectMode } from "./schema.ts";

export interface TargetEntry {
  destinationId: string;
  /** undefined: not set by the user (1 for the split). */
  weight?: number;
  priority?: number;
  fallbackDestinationId?: string;
  /** Position in the route's `destinations`. */
  index: number;
}

export interface SelectingRule {
  name: string;
  test: Predicate | null;
  targets: TargetEntry[];
  select: SelectMode;
  final: boolean;
}

export interface Chosen {
  destinationId: string;
  /** Where the dispatcher sends it when this delivery goes dead or the circuit stays open. */
  fallbackDestinationId?: string;
  /** The route `destinations` entry whose per-destination pipeline applies. */
  entryIndex: number;
  /** Why: the rule name and mode, or the fallback taken. */
  reason: string;
}

export interface RuleTrace {
  name: string;
  matched: boolean;
  /** Not evaluated because an earlier `final` rule matched. */
  skipped?: boolean;
}

export interface Selection {
  matched: boolean;
  rules: RuleTrace[];
  chosen: Chosen[];
}

export type IsOpen = (destinationId: string) => boolean;

export function inferSelect(targets: readonly TargetEntry[]): SelectMode {
  if (targets.some((t) => t.weight !== undefined)) return "weighted";
  if (targets.some((t) => t.priority !== undefined)) return "priority";
  return "all";
}

function resolve(t: TargetEntry, why: string, isOpen?: IsOpen): Chosen {
  const fb = t.fallbackDestinationId;
  if (fb && isOpen?.(t.destinationId) && !isOpen(fb)) {
    return {
      destinationId: fb,
      entryIndex: t.index,
      reason: `${why}; fallback: circuit of ${t.destinationId} is open`,
    };
  }
  return {
    destinationId: t.destinationId,
    fallbackDestinationId: fb,
    entryIndex: t.index,
    reason: why,
  };
}

/** Weighted draw; deterministic for a given event id and rule name. */
export function pickWeighted(
  targets: readonly TargetEntry[],
  seed: string,
): TargetEntry | undefined {
  let total = 0;
  for (const t of targets) total += Math.max(0, t.weight ?? 1);
  if (total <= 0) return undefined;
  let r = unitHash(seed) * total;
  for (const t of targets) {
    const w = Math.max(0, t.weight ?? 1);
    if (r < w) return t;
    r -= w;
  }
  return targets.findLast((t) => (t.weight ?? 1) > 0);
}

export function byPriority(targets: readonly TargetEntry[]): TargetEntry[] {
  return targets.map((t, i) => ({ t, i }))
    .sort((a, b) => (a.t.priority ?? 0) - (b.t.priority ?? 0) || a.i - b.i)
    .map((x) => x.t);
}

export function chooseTargets(
  rule: Pick<SelectingRule, "name" | "targets" | "select">,
  eventId: string,
  isOpen?: IsOpen,
): Chosen[] {
  const { targets, name } = rule;
  switch (rule.select) {
    case "all":
      return targets.map((t) => resolve(t, `${name}: all`, isOpen));
    case "priority": {
      const ordered = byPriority(targets);
      const healthy = ordered.find((t) => !isOpen?.(t.destinationId)) ?? ordered[0];
      return healthy ? [resolve(healthy, `${name}: priority`, isOpen)] : [];
    }
    case "weighted": {
      const pick = pickWeighted(targets, `${eventId}\u0000${name}`);
      return pick ? [resolve(pick, `${name}: weighted`, isOpen)] : [];
    }
  }
}

/**
 * Runs the filters gate and the rules. A route without rules matches (when its filters do)
 * and uses all its destinations per `inferSelect`.
 */
export function selectDestinations(
  filters: Predicate,
  rules: readonly SelectingRule[] | null,
  routeTargets: readonly TargetEntry[],
  event: RoutingEvent,
  isOpen?: IsOpen,
): Selection {
  if (!filters(event)) return { matched: false, rules: [], chosen: [] };
  if (!rules) {
    const chosen = chooseTargets(
      { name: "route", targets: [...routeTargets], select: inferSelect(routeTargets) },
      event.id,
      isOpen,
    );
    return { matched: true, rules: [], chosen };
  }
  const traces: RuleTrace[] = [];
  const chosen: Chosen[] = [];
  const seen = new Set<string>();
  let stop = false;
  for (const rule of rules) {
    if (stop) {
      traces.push({ name: rule.name, matched: false, skipped: true });
      continue;
    }
    const matched = rule.test ? rule.test(event) : true;
    traces.push({ name: rule.name, matched });
    if (!matched) continue;
    for (const c of chooseTargets(rule, event.id, isOpen)) {
      if (seen.has(c.destinationId)) continue;
      seen.add(c.destinationId);
      chosen.push(c);
    }
    if (rule.final) stop = true;
  }
  return { matched: traces.some((t) => t.matched), rules: traces, chosen };
}
