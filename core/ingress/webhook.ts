/**
 * The full node's webhook endpoint: the shared ingress (`ingress.ts`) over the route cache,
 * with the store's group commit as the durable accept. Routes without async stages are planned
 * before the commit, so the event is stored together with its deliveries.
 */
import type { AppDeps } from "../app_deps.ts";
import type { Envelope } from "../ports.ts";
import type { Route } from "../model/route.ts";
import { newId } from "../model/ids.ts";
import type { RouteCache } from "./route_cache.ts";
import { type AcceptOutcome, type ConnInfo, createIngress } from "./ingress.ts";

export function webhookHandler(deps: AppDeps, routes: RouteCache) {
  const accept = acceptPlanned(deps, true);
  const ingress = createIngress({
    lookup: (path) => routes.get(path),
    accept: async (prepared, event) => {
      const [outcome] = await accept([{ route: prepared.route, event }], true);
      return outcome;
    },
    limits: () => deps.ingest,
    overloaded: deps.overloaded,
    recent: deps.store.pipelineState?.(),
    metrics: deps.metrics,
    log: deps.log,
    clock: deps.clock,
  });
  return (req: Request, conn?: ConnInfo) => ingress(req, conn);
}

/**
 * The full node's durable accept for events whose route is known: plans inline routes, then
 * commits them all in one group commit. With `refuseRejected`, an event the route's validation
 * rejects is not stored (a direct sender gets 422); without it (an edge already answered the
 * sender), it is stored as dropped with the reason, so nothing acknowledged disappears.
 * With `fresh` (ids minted here, as for a direct webhook), events without a sender dedup key
 * take the runtime's `acceptFresh` where it has one (the ingest journal).
 */
export function acceptPlanned(deps: AppDeps, fresh = false) {
  return async (
    items: { route: Route | null; event: Envelope }[],
    refuseRejected: boolean,
  ): Promise<AcceptOutcome[]> => {
    const outcomes: (AcceptOutcome | null)[] = new Array(items.length).fill(null);
    const toStore: Envelope[] = [];
    for (let i = 0; i < items.length; i++) {
      const { route, event } = items[i];
      if (route && deps.planner.inline?.(route)) {
        const rejected = await planInline(deps, route, event);
        if (rejected !== undefined) {
          if (refuseRejected) {
            outcomes[i] = { kind: "rejected", reason: rejected };
            continue;
          }
          event.planned = { status: "dropped", error: `rejected: ${rejected}`, deliveries: [] };
        }
      }
      toStore.push(event);
    }
    let duplicates = new Map<string, string>();
    const quick = fresh && deps.acceptFresh ? toStore.filter((e) => !e.dedupKey) : [];
    const checked = quick.length ? toStore.filter((e) => e.dedupKey) : toStore;
    const [a, b] = await Promise.all([
      checked.length ? deps.accept(checked) : null,
      quick.length ? deps.acceptFresh!(quick) : null,
    ]);
    if (a && b) duplicates = new Map([...a.duplicates, ...b.duplicates]);
    else duplicates = (a ?? b)?.duplicates ?? duplicates;
    return items.map(({ event }, i) => {
      if (outcomes[i]) return outcomes[i];
      const original = duplicates.get(event.id);
      return original ? { kind: "duplicate", id: original } : { kind: "accepted" };
    });
  };
}

/** Plans a route without async stages before the commit; anything unusual is left to the
 * processor, which runs the same planner with its retry and dead-letter handling. Resolves to
 * the reason when the route's validation rejects the event. */
async function planInline(
  deps: AppDeps,
  route: Route,
  event: Envelope,
): Promise<string | undefined> {
  let plan;
  try {
    plan = await deps.planner.plan(route, event);
  } catch {
    return;
  }
  if (plan.kind === "reject") return plan.reason;
  if (plan.kind === "deliver") {
    event.planned = {
      status: "processed",
      deliveries: plan.deliveries.map((d) => ({
        id: newId("dlv"),
        eventId: event.id,
        tenant: event.tenant,
        routeId: event.routeId,
        destinationId: d.destinationId,
        fallbackDestinationId: d.fallbackDestinationId ?? null,
        body: d.body,
        headers: d.headers,
        key: d.key ?? null,
        nextAt: event.receivedAt,
      })),
    };
  } else if (plan.kind === "drop") {
    event.planned = { status: "dropped", error: plan.reason, deliveries: [] };
  }
}
