/**
 * compileRoute: route JSON -> closures, once per route version. Everything that can fail on a
 * config (paths, regexes, CIDRs, JSONata, JSON Schemas, templates, time zones) fails here, with
 * the path of the field, so event processing only meets data errors.
 */
import { compileFilters } from "../routing/filters.ts";
import type { Predicate } from "../routing/condition.ts";
import { compileRules } from "../routing/rules.ts";
import type { SelectingRule, TargetEntry } from "../routing/select.ts";
import { issuePath } from "../routing/zod_dispatch.ts";
import {
  type ParsedRouteDefinition,
  type RouteDefinition,
  RouteDefinitionSchema,
  type Stage,
} from "./schema.ts";
import { compileAggregate } from "./stages/aggregate.ts";
import { compileEnrich } from "./stages/enrich.ts";
import type { CompiledStage } from "./stages/stage.ts";
import { compileTransform } from "./stages/transform.ts";
import { compileValidate } from "./stages/validate.ts";

export interface CompiledEntry {
  destinationId: string;
  stages: CompiledStage[];
}

export interface CompiledRoute {
  id: string;
  version: string | number;
  definition: ParsedRouteDefinition;
  filters: Predicate;
  /** null: the route has no rules. */
  rules: SelectingRule[] | null;
  targets: TargetEntry[];
  stages: CompiledStage[];
  /** Parallel to `definition.destinations`. */
  entries: CompiledEntry[];
}

export interface RouteIssue {
  path: string;
  message: string;
}

export class RouteDefinitionError extends Error {
  readonly issues: RouteIssue[];
  constructor(issues: RouteIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join("; "));
    this.name = "RouteDefinitionError";
    this.issues = issues;
  }
}

/** Checks the JSON shape only (zod); compileRoute also compiles expressions and schemas. */
export function parseRouteDefinition(def: unknown): ParsedRouteDefinition {
  const r = RouteDefinitionSchema.safeParse(def);
  if (!r.success) {
    throw new RouteDefinitionError(
      r.error.issues.map((i) => ({ path: issuePath(i.path), message: i.message })),
    );
  }
  return r.data;
}

/** For the API: every problem with a route definition, each with its path. */
export function validateRouteDefinition(
  def: unknown,
): { ok: true } | { ok: false; issues: RouteIssue[] } {
  try {
    build(parseRouteDefinition(def));
    return { ok: true };
  } catch (e) {
    if (e instanceof RouteDefinitionError) return { ok: false, issues: e.issues };
    throw e;
  }
}

export function stageName(s: Stage, i: number): string {
  return s.name ?? `${s.type}#${i + 1}`;
}

function compileStages(stages: readonly Stage[] | null | undefined, at: string): CompiledStage[] {
  return (stages ?? []).map((s, i) => {
    const name = stageName(s, i);
    try {
      switch (s.type) {
        case "transform":
          return compileTransform(s, name, i);
        case "validate":
          return compileValidate(s, name, i);
        case "enrich":
          return compileEnrich(s, name, i);
        case "aggregate":
          return compileAggregate(s, name, i);
      }
    } catch (e) {
      throw new RouteDefinitionError([{ path: `${at}[${i}]`, message: (e as Error).message }]);
    }
  });
}

function build(def: ParsedRouteDefinition): CompiledRoute {
  const targets: TargetEntry[] = def.destinations.map((d, index) => ({
    destinationId: d.destination_id,
    weight: d.weight,
    priority: d.priority,
    fallbackDestinationId: d.fallback_destination_id,
    index,
  }));
  let rules: SelectingRule[] | null;
  try {
    rules = compileRules(def.rules ?? undefined, targets);
  } catch (e) {
    throw new RouteDefinitionError([{ path: "rules", message: (e as Error).message }]);
  }
  return {
    id: def.id,
    version: def.version,
    definition: def,
    filters: compileFilters(def.filters ?? undefined),
    rules,
    targets,
    stages: compileStages(def.pipeline, "pipeline"),
    entries: def.destinations.map((d, i) => ({
      destinationId: d.destination_id,
      stages: compileStages(d.pipeline, `destinations[${i}].pipeline`),
    })),
  };
}

/** Compiles without the cache (dry runs of unsaved edits). */
export function buildRoute(def: RouteDefinition): CompiledRoute {
  return build(parseRouteDefinition(def));
}

const CACHE_SIZE = 1000;
const cache = new Map<string, CompiledRoute>();

/**
 * Compiles a route definition, or returns the compiled route cached for the same id and
 * version. Callers must change `version` whenever the definition changes. Throws
 * RouteDefinitionError naming the bad fields.
 */
export function compileRoute(def: RouteDefinition): CompiledRoute {
  const key = `${def.id}\u0000${def.version}`;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key); // re-insert: Map order doubles as LRU order
    cache.set(key, hit);
    return hit;
  }
  const compiled = build(parseRouteDefinition(def));
  cache.set(key, compiled);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return compiled;
}

/** Drops compiled routes (all, or one id's versions); a restart does the same. */
export function clearRouteCache(id?: string): void {
  if (id === undefined) return cache.clear();
  for (const key of [...cache.keys()]) if (key.startsWith(`${id}\u0000`)) cache.delete(key);
}
