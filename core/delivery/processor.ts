/**
 * Turns accepted events into deliveries: claim a batch under a lease, plan each through its
 * route, and commit the deliveries together with the event's new status in one batch. An
 * event claimed by a node that dies is claimed again when the lease runs out.
 */
import type { Clock, Logger, Metrics, NewDelivery } from "../ports.ts";
import type { EventOutcome, Store } from "../store.ts";
import type { Route } from "../model/route.ts";
import { newId } from "../model/ids.ts";
import type { Planner } from "./planner.ts";

export interface ProcessorDeps {
  store: Store;
  planner: Planner;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  owner: string;
  batchSize?: number;
  leaseMs?: number;
  /** Delay before an event whose pipeline said "retry" runs again. */
  retryDelayMs?: number;
  onDeliveries?: () => void;
}

export function createProcessor(deps: ProcessorDeps) {
  const batch = deps.batchSize ?? 500;
  const leaseMs = deps.leaseMs ?? 30_000;
  const routeCache = new Map<string, { at: number; route: Promise<Route | null> }>();
  const routeOf = (id: string, now: number) => {
    const hit = routeCache.get(id);
    if (hit && now - hit.at < 2000) return hit.route;
    const route = deps.store.getRoute(null, id);
    routeCache.set(id, { at: now, route });
    return route;
  };

  return {
    invalidate(routeId?: string) {
      if (routeId) routeCache.delete(routeId);
      else routeCache.clear();
    },
    /** Processes one batch; resolves to the number of events handled. */
    async runOnce(): Promise<number> {
      const now = deps.clock.now();
      const events = await deps.store.claimEvents(now, batch, deps.owner, leaseMs);
      if (events.length === 0) return 0;
      const outcomes: EventOutcome[] = [];
      let created = 0;
      for (const e of events) {
        const route = e.routeId ? await routeOf(e.routeId, now) : null;
        if (!route) {
          outcomes.push({
            id: e.id,
            status: "dropped",
            error: "route no longer exists",
            deliveries: [],
          });
          continue;
        }
        let plan;
        try {
          plan = await deps.planner.plan(route, e);
        } catch (err) {
          plan = {
            kind: "fail" as const,
            stage: "routing",
            error: String(err),
            policy: "retry" as const,
          };
        }
        switch (plan.kind) {
          case "deliver": {
            const deliveries: NewDelivery[] = plan.deliveries.map((d) => ({
              id: newId("dlv"),
              eventId: e.id,
              tenant: e.tenant,
              routeId: e.routeId,
              destinationId: d.destinationId,
              fallbackDestinationId: d.fallbackDestinationId ?? null,
              body: d.body,
              headers: d.headers,
              key: d.key ?? null,
              nextAt: now,
            }));
            created += deliveries.length;
            outcomes.push({ id: e.id, status: "processed", deliveries });
            break;
          }
          case "drop":
            outcomes.push({ id: e.id, status: "dropped", error: plan.reason, deliveries: [] });
            break;
          case "held":
            outcomes.push({ id: e.id, status: "held", deliveries: [] });
            break;
          case "fail": {
            const error = `${plan.stage}: ${plan.error}`;
            if (plan.policy === "retry") {
              outcomes.push({
                id: e.id,
                status: "failed",
                error,
                retryAt: now + (deps.retryDelayMs ?? 30_000),
                deliveries: [],
              });
            } else {
              outcomes.push({
                id: e.id,
                status: plan.policy === "drop" ? "dropped" : "failed",
                error,
                deliveries: [],
              });
            }
            deps.metrics.inc("pipeline_failures_total", { stage: plan.stage, policy: plan.policy });
          }
        }
      }
      await deps.store.completeEvents(outcomes);
      deps.metrics.inc("events_processed_total", {}, events.length);
      if (created) deps.onDeliveries?.();
      return events.length;
    },
  };
}
