/**
 * The durable accept for trigger events, planned like webhooks: an event whose route has no
 * async stages is planned before the commit and stored together with its deliveries (or as
 * dropped), so the processor has nothing left to do for it and the store writes each event
 * once instead of twice. Broker consumers commit thousands of events a second through here.
 */
import type { AppDeps } from "../app_deps.ts";
import type { Envelope } from "../ports.ts";
import type { AcceptResult, Store } from "../store.ts";
import type { Route } from "../model/route.ts";
import { acceptPlanned } from "../ingress/webhook.ts";

export function plannedAccept(
  deps: Pick<AppDeps, "planner" | "accept"> & { store: Pick<Store, "getRoute"> },
): (events: Envelope[]) => Promise<AcceptResult> {
  const accept = acceptPlanned(deps as AppDeps);
  return async (events) => {
    // One look-up per route of the batch: a trigger's batch has one.
    const routes = new Map<string, Route | null>();
    for (const e of events) {
      if (e.routeId && !routes.has(e.routeId)) {
        routes.set(e.routeId, await deps.store.getRoute(null, e.routeId));
      }
    }
    const outcomes = await accept(
      events.map((event) => ({ route: event.routeId ? routes.get(event.routeId)! : null, event })),
      // Nothing is refused here: the broker message is acknowledged once stored, so a route's
      // validation rejecting it stores it as dropped with the reason.
      false,
    );
    const duplicates = new Map<string, string>();
    outcomes.forEach((o, i) => {
      if (o.kind === "duplicate") duplicates.set(events[i].id, o.id);
    });
    return { duplicates };
  };
}
