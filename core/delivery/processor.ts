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
import { retryDelayMs, type RetryPolicy, retryPolicy } from "./backoff.ts";

export interface ProcessorDeps {
  store: Store;
  planner: Planner;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  owner: string;
  batchSize?: number;
  leaseMs?: number;
  /**
   * When an event whose pipeline failed with policy "retry" runs again, and how often: the
   * delivery schedule by default (core/delivery/backoff.ts). After the last attempt, or at once
   * for a permanent error, the event is dead-lettered (status failed, kept for a replay).
   */
  stageRetry?: RetryPolicy;
  onDeliveries?: () => void;
  /** How often due aggregates are looked for. */
  flushEveryMs?: number;
  /** True while this node holds the aggregate-flush job (the node's coordinator); without
   * it, a lease in the store. */
  flushLease?: () => Promise<boolean>;
}

function hasAggregate(r: Route): boolean {
  const stages = [
    ...(r.spec.pipeline ?? []),
    ...(r.spec.destinations ?? []).flatMap((
      d,
    ) => ((d as { pipeline?: Array<Record<string, unknown>> }).pipeline ?? [])),
  ];
  return stages.some((s) => s.type === "aggregate");
}

/** dlv_ + 24 base-36 characters of SHA-256(seed): the same aggregate gets the same ids. */
async function stableDeliveryId(seed: string): Promise<string> {
  const h = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(seed)),
  );
  let s = "dlv_";
  for (let i = 0; i < 24; i++) s += "abcdefghijklmnopqrstuvwxyz0123456789"[h[i] % 36];
  return s;
}

export function createProcessor(deps: ProcessorDeps) {
  const batch = deps.batchSize ?? 500;
  const stageRetry = deps.stageRetry ?? retryPolicy();
  const leaseMs = deps.leaseMs ?? 30_000;
  const routeCache = new Map<string, { at: number; route: Promise<Route | null> }>();
  const routeOf = (id: string, now: number) => {
    const hit = routeCache.get(id);
    if (hit && now - hit.at < 2000) return hit.route;
    const route = deps.store.getRoute(null, id);
    routeCache.set(id, { at: now, route });
    return route;
  };

  let lastFlush = 0;
  let routesWithState: { at: number; routes: Promise<Route[]> } | null = null;

  /** Emits due aggregates (one node at a time, under a store lease). */
  async function flushAggregates(now: number): Promise<number> {
    if (!deps.planner.flushDue || now - lastFlush < (deps.flushEveryMs ?? 1000)) return 0;
    lastFlush = now;
    const mine = deps.flushLease
      ? await deps.flushLease()
      : await deps.store.tryLease("aggregate-flush", deps.owner, 30_000, now);
    if (!mine) return 0;
    if (!routesWithState || now - routesWithState.at > 5000) {
      routesWithState = {
        at: now,
        routes: deps.store.allRoutes().then((rs) => rs.filter((r) => r.active && hasAggregate(r))),
      };
    }
    const flushed = await deps.planner.flushDue(await routesWithState.routes);
    let n = 0;
    for (const f of flushed) {
      if (f.plan.kind === "deliver") {
        const ds: NewDelivery[] = [];
        for (const [i, d] of f.plan.deliveries.entries()) {
          ds.push({
            id: await stableDeliveryId(`${f.bucket}|${d.destinationId}|${i}`),
            eventId: f.eventId,
            tenant: f.route.owner,
            routeId: f.route.id,
            destinationId: d.destinationId,
            fallbackDestinationId: d.fallbackDestinationId ?? null,
            body: d.body,
            headers: d.headers,
            key: d.key ?? null,
            nextAt: now,
          });
        }
        await deps.store.insertDeliveries(ds);
        n += ds.length;
      } else if (f.plan.kind === "fail") {
        deps.log.warn("aggregate emission failed", {
          route_id: f.route.id,
          stage: f.plan.stage,
          error: f.plan.error,
        });
        continue; // stays sealed; emitted again after its lease
      }
      await f.commit();
    }
    if (n) deps.onDeliveries?.();
    return n;
  }

  return {
    flushAggregates,
    invalidate(routeId?: string) {
      if (routeId) routeCache.delete(routeId);
      else routeCache.clear();
    },
    /** Processes one batch; resolves to the number of events handled. */
    async runOnce(): Promise<number> {
      const now = deps.clock.now();
      const flushed = await flushAggregates(now);
      const events = await deps.store.claimEvents(now, batch, deps.owner, leaseMs);
      if (events.length === 0) return flushed;
      const outcomes: EventOutcome[] = [];
      const afterStore: Array<() => Promise<void>> = [];
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
            if (plan.afterStore) afterStore.push(plan.afterStore);
            break;
          }
          case "reject":
          case "drop":
            outcomes.push({ id: e.id, status: "dropped", error: plan.reason, deliveries: [] });
            break;
          case "held":
            outcomes.push({ id: e.id, status: "held", deliveries: [] });
            break;
          case "fail": {
            const error = `${plan.stage}: ${plan.error}`;
            const made = (e.attempts ?? 0) + 1;
            if (plan.policy === "retry" && !plan.permanent && made < stageRetry.maxAttempts) {
              const at = now + retryDelayMs(stageRetry, made);
              outcomes.push({
                id: e.id,
                status: "failed",
                error: `${error} (attempt ${made} of ${stageRetry.maxAttempts}, next at ${
                  new Date(at).toISOString()
                })`,
                retryAt: at,
                deliveries: [],
              });
            } else if (plan.policy === "drop") {
              outcomes.push({ id: e.id, status: "dropped", error, deliveries: [] });
            } else {
              // Dead-lettered: kept with its error, replayable (POST /api/events/{id}/replay).
              const why = plan.policy !== "retry"
                ? ""
                : plan.permanent
                ? " (permanent: not retried)"
                : ` (gave up after ${made} attempts)`;
              outcomes.push({ id: e.id, status: "failed", error: error + why, deliveries: [] });
            }
            deps.metrics.inc("pipeline_failures_total", { stage: plan.stage, policy: plan.policy });
          }
        }
      }
      await deps.store.completeEvents(outcomes);
      for (const done of afterStore) await done();
      deps.metrics.inc("events_processed_total", {}, events.length);
      if (created) deps.onDeliveries?.();
      return events.length;
    },
  };
}
