/**
 * The Planner a node runs: the route's filters and rules choose destinations and its pipeline
 * reshapes the event (core/pipeline), compiled once per route version. Aggregation state lives
 * in the store, so windows and batches survive restarts and are shared by nodes.
 */
import type { Envelope } from "../ports.ts";
import type { Route } from "../model/route.ts";
import {
  type AggregateState,
  type CompiledRoute,
  compileRoute,
  flushDue,
  type PipelineDeps,
  type RouteDefinition,
  type RouteOutcome,
  runRoute,
  toPipelineEvent,
  validateRouteDefinition,
} from "../pipeline/mod.ts";
import type { PlannedDelivery, Planner, PlanOutcome } from "./planner.ts";
import { fanOutPlanner, forwardHeaders } from "./planner.ts";

export function routeDefinition(route: Pick<Route, "id" | "version" | "spec">): RouteDefinition {
  const s = route.spec;
  return {
    id: route.id,
    version: route.version,
    filters: s.filters as RouteDefinition["filters"],
    rules: s.rules as RouteDefinition["rules"],
    pipeline: s.pipeline as RouteDefinition["pipeline"],
    destinations: (s.destinations ?? []) as RouteDefinition["destinations"],
  };
}

/** A message naming every bad field of a route's rules and pipeline, or null. */
export function routeProblems(def: RouteDefinition): string | null {
  const v = validateRouteDefinition(def);
  // Paths in the API's own form: destinations.1.destination_id, not destinations[1]....
  const dotted = (p: string) => p.replace(/\[(\d+)\]/g, ".$1");
  return v.ok ? null : v.issues.map((i) => `${dotted(i.path)}: ${i.message}`).join("; ");
}

function isPlainFanOut(c: CompiledRoute): boolean {
  const d = c.definition;
  const filters = d.filters as Record<string, unknown> | null | undefined;
  return !(d.rules?.length) && !(d.pipeline?.length) &&
    !(filters && Object.keys(filters).length) &&
    c.entries.every((e) => e.stages.length === 0) &&
    d.destinations.every((e) =>
      e.weight === undefined && e.priority === undefined && !e.fallback_destination_id
    );
}

function hasAsyncStages(c: CompiledRoute): boolean {
  const slow = (t: string) => t === "enrich" || t === "aggregate";
  return c.stages.some((s) => slow(s.type)) ||
    c.entries.some((e) => e.stages.some((s) => slow(s.type)));
}

function deliveries(e: Pick<Envelope, "id" | "routeId" | "headers">, o: RouteOutcome) {
  const base = forwardHeaders(e as Envelope);
  return o.deliveries.map((d): PlannedDelivery => ({
    destinationId: d.destinationId,
    fallbackDestinationId: d.fallbackDestinationId ?? null,
    body: d.body,
    headers: { ...base, ...d.headers },
    key: d.key ?? null,
  }));
}

export function toPlan(e: Envelope, o: RouteOutcome): PlanOutcome {
  if (o.failed) return { kind: "fail", ...o.failed };
  if (o.rejected) return { kind: "reject", reason: `${o.rejected.stage}: ${o.rejected.reason}` };
  if (o.dropped) return { kind: "drop", reason: `${o.dropped.stage}: ${o.dropped.reason}` };
  if (o.held) return { kind: "held" };
  if (!o.matched) return { kind: "drop", reason: "no filter or rule matched" };
  return { kind: "deliver", deliveries: deliveries(e, o), afterStore: o.commit };
}

export interface PipelinePlannerDeps {
  fetch: typeof fetch;
  state: AggregateState;
  now(): number;
  isOpen?(destinationId: string): boolean;
}

export function createPipelinePlanner(deps: PipelinePlannerDeps): Planner {
  const pdeps: PipelineDeps = {
    fetch: deps.fetch,
    state: deps.state,
    now: deps.now,
    isOpen: deps.isOpen,
  };
  const compiled = (route: Route) => compileRoute(routeDefinition(route));
  const dec = new TextDecoder();

  return {
    inline: (route) => !hasAsyncStages(compiled(route)),
    async plan(route, event) {
      const c = compiled(route);
      // A route with no filters, rules or stages fans the raw body out as it came: no need to
      // parse it (JSON parsing was the largest single cost of such a webhook).
      if (isPlainFanOut(c)) return fanOutPlanner.plan(route, event);
      return toPlan(event, await runRoute(c, toPipelineEvent(event), pdeps));
    },
    async dryRun(route, event) {
      const o = await runRoute(compiled(route), toPipelineEvent(event), {
        ...pdeps,
        dryRun: true,
      });
      const plan = toPlan(event, o);
      return {
        route_id: route.id,
        matched: o.matched,
        rules: o.rules,
        stages: o.stages,
        outcome: plan.kind,
        ...(plan.kind === "drop" || plan.kind === "reject" ? { reason: plan.reason } : {}),
        ...(plan.kind === "fail"
          ? { failed: { stage: plan.stage, error: plan.error, policy: plan.policy } }
          : {}),
        destinations: o.deliveries.map((d) => d.destinationId),
        deliveries: o.deliveries.map((d) => ({
          destination_id: d.destinationId,
          fallback_destination_id: d.fallbackDestinationId ?? null,
          headers: d.headers,
          key: d.key ?? null,
          body: dec.decode(d.body),
        })),
        delivered: false,
      };
    },
    async flushDue(routes) {
      const out = [];
      for (const route of routes) {
        const c = compiled(route);
        if (
          !c.stages.some((s) => s.type === "aggregate") &&
          !c.entries.some((e) => e.stages.some((s) => s.type === "aggregate"))
        ) continue;
        for (const r of await flushDue(c, pdeps)) {
          out.push({
            route,
            bucket: r.bucket,
            eventId: r.eventId,
            plan: toPlan({ id: r.eventId, routeId: route.id, headers: {} } as Envelope, r.outcome),
            commit: r.commit,
          });
        }
      }
      return out;
    },
  };
}
