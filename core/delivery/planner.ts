/**
 * The seam between the event path and routing/pipeline: given an event and its route, which
 * destinations get what. `fanOutPlanner` is the plain behaviour (every destination of the
 * route gets the raw body); the routing engine implements the same interface.
 */
import type { Envelope } from "../ports.ts";
import type { Route } from "../model/route.ts";

export interface PlannedDelivery {
  destinationId: string;
  fallbackDestinationId?: string | null;
  body: Uint8Array;
  headers: Record<string, string>;
  key?: string | null;
}

export type PlanOutcome =
  | {
    kind: "deliver";
    deliveries: PlannedDelivery[];
    /** Called once the deliveries are stored (releases an emitted aggregate's state). */
    afterStore?: () => Promise<void>;
  }
  | { kind: "drop"; reason: string }
  /** A validate stage refused the event (`on_failure: "reject"`): ingest answers 422. */
  | { kind: "reject"; reason: string }
  | { kind: "held" }
  | {
    kind: "fail";
    stage: string;
    error: string;
    policy: "retry" | "dead_letter" | "drop";
    /** Retrying cannot help (a refused address, a 4xx answer): dead-letter at once. */
    permanent?: boolean;
  };

export interface Planner {
  plan(route: Route, event: Envelope): Promise<PlanOutcome>;
  /**
   * True when `plan` for this route does no I/O and keeps no state (no enrich, no
   * aggregate): ingest then plans before the commit and stores event and deliveries in one
   * transaction, which saves the processor's two transactions per batch.
   */
  inline?(route: Route): boolean;
  /** What each stage did, for the dry run; nothing is delivered and no state changes. */
  dryRun?(route: Route, event: Envelope): Promise<unknown>;
  /**
   * Aggregates whose time has come (windows that ended, batches that waited long enough).
   * The caller stores each plan's deliveries under ids derived from `bucket` (a re-emission
   * after a crash must not duplicate them), then calls `commit`.
   */
  flushDue?(routes: Route[]): Promise<FlushedAggregate[]>;
}

export interface FlushedAggregate {
  route: Route;
  /** Stable across re-emissions of the same aggregate. */
  bucket: string;
  /** The first event in the aggregate: deliveries hang off it. */
  eventId: string;
  plan: PlanOutcome;
  commit(): Promise<void>;
}

/** Headers passed on to destinations: the sender's content type and the event's identity. */
export function forwardHeaders(e: Envelope): Record<string, string> {
  const h: Record<string, string> = {};
  const ct = e.headers["content-type"];
  if (ct) h["content-type"] = ct;
  h["x-event-id"] = e.id;
  if (e.routeId) h["x-route-id"] = e.routeId;
  return h;
}

export const fanOutPlanner: Planner = {
  inline: () => true,
  plan(route, event) {
    const ds = route.spec.destinations ?? [];
    return Promise.resolve({
      kind: "deliver",
      deliveries: ds.map((d) => ({
        destinationId: d.destination_id,
        fallbackDestinationId: (d as { fallback_destination_id?: string }).fallback_destination_id,
        body: event.body,
        headers: forwardHeaders(event),
      })),
    });
  },
};
