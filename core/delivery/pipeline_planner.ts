/**
 * The Planner a node runs: the route's filters and rules choose destinations and its pipeline
 * reshapes the event (core/pipeline), compiled once per route version. Aggregation state lives
 * in the store, so windows and batches survive restarts and are shared by nodes.
 */
import type { Envelope, Sealer } from "../ports.ts";
import { openSecrets, routeSecretRoots } from "../model/secret_fields.ts";
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

/** Whether a route has stages that do I/O or keep state (read from the spec: no compile). */
function hasAsyncStages(route: Route): boolean {
  const slow = (s: Record<string, unknown>) => s.type === "enrich" || s.type === "aggregate";
  return (route.spec.pipeline ?? []).some(slow) ||
    (route.spec.destinations ?? []).some((d) =>
      ((d as { pipeline?: Record<string, unknown>[] }).pipeline ?? []).some(slow)
    );
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

function describeCompileError(e: unknown): string {
  return `the route cannot be compiled: ${(e as Error)?.message ?? String(e)}`;
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
  /**
   * The fetch a route's stages (enrich, OAuth2 tokens) use: the Outbound of its owner, which
   * guards tenants' requests against forbidden addresses.
   */
  fetchFor(route: Route): Promise<typeof fetch>;
  /** Opens the secrets sealed in a route's stages before it is compiled. */
  sealer?: Sealer;
  state: AggregateState;
  now(): number;
  isOpen?(destinationId: string): boolean;
}

const OPENED_CACHE = 1000;

export function createPipelinePlanner(deps: PipelinePlannerDeps): Planner {
  const base = { state: deps.state, now: deps.now, isOpen: deps.isOpen };
  const pdepsFor = async (route: Route): Promise<PipelineDeps> => ({
    ...base,
    fetch: await deps.fetchFor(route),
  });
  // Opened specs per route version: opening (AES-GCM) runs once per version, not per event.
  const opened = new Map<string, Promise<Route>>();
  const open = (route: Route): Promise<Route> => {
    const sealer = deps.sealer;
    if (!sealer) return Promise.resolve(route);
    const key = `${route.id}\u0000${route.version}`;
    let hit = opened.get(key);
    if (!hit) {
      hit = openSecrets(route.spec, sealer, routeSecretRoots).then((spec) => ({ ...route, spec }));
      hit.catch(() => opened.delete(key));
      opened.set(key, hit);
      if (opened.size > OPENED_CACHE) opened.delete(opened.keys().next().value!);
    }
    return hit;
  };
  const compiled = async (route: Route) => compileRoute(routeDefinition(await open(route)));
  const dec = new TextDecoder();

  return {
    inline: (route) => !hasAsyncStages(route),
    async plan(route, event) {
      let c: CompiledRoute;
      try {
        c = await compiled(route);
      } catch (e) {
        // The route itself is broken (stored before a check existed, or by another version):
        // retrying cannot help until it changes; the event is kept for a replay.
        return {
          kind: "fail",
          stage: "route",
          error: describeCompileError(e),
          policy: "dead_letter",
          permanent: true,
        };
      }
      // A route with no filters, rules or stages fans the raw body out as it came: no need to
      // parse it (JSON parsing was the largest single cost of such a webhook).
      if (isPlainFanOut(c)) return fanOutPlanner.plan(route, event);
      return toPlan(event, await runRoute(c, toPipelineEvent(event), await pdepsFor(route)));
    },
    async dryRun(route, event) {
      const o = await runRoute(await compiled(route), toPipelineEvent(event), {
        ...await pdepsFor(route),
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
        const c = await compiled(route);
        if (
          !c.stages.some((s) => s.type === "aggregate") &&
          !c.entries.some((e) => e.stages.some((s) => s.type === "aggregate"))
        ) continue;
        for (const r of await flushDue(c, await pdepsFor(route))) {
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
