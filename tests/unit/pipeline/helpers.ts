/** Shared test helpers: events, deps, delivery decoding. */
import {
  MemoryState,
  type PipelineDeps,
  type PipelineEvent,
  type RouteOutcome,
} from "../../../core/pipeline/mod.ts";

export const T0 = Date.parse("2024-05-01T12:30:00Z");

export function event(over: Partial<PipelineEvent> = {}): PipelineEvent {
  return {
    id: "evt_example",
    tenant: "user_1",
    routeId: "route_test",
    source: "webhook",
    receivedAt: T0,
    method: "POST",
    path: "/webhook/wh_1",
    query: {},
    ip: "203.0.113.9",
    headers: { "content-type": "application/json" },
    body: {},
    meta: {},
    ...over,
  };
}

export function deps(over: Partial<PipelineDeps> = {}): PipelineDeps & { state: MemoryState } {
  const clock = over.now ?? (() => T0);
  const state = (over.state as MemoryState | undefined) ?? new MemoryState(clock);
  return {
    fetch: (() => Promise.reject(new Error("network disabled in tests"))) as typeof fetch,
    now: clock,
    ...over,
    state,
  };
}

/** A settable clock shared by deps and state. */
export function clock(start = T0) {
  let t = start;
  return {
    now: () => t,
    set: (v: number) => void (t = v),
    advance: (ms: number) => void (t += ms),
  };
}

export function bodyOf(outcome: RouteOutcome, i = 0): unknown {
  const d = outcome.deliveries[i];
  if (!d) throw new Error(`no delivery ${i}: ${JSON.stringify(outcome)}`);
  const text = new TextDecoder().decode(d.body);
  return d.headers["content-type"]?.includes("json") ? JSON.parse(text) : text;
}

export function destinationsOf(outcome: RouteOutcome): string[] {
  return outcome.deliveries.map((d) => d.destinationId);
}

/** A route with one transform stage of the given operations. */
export function opsRoute(
  operations: unknown[],
  version: string | number = JSON.stringify(operations),
) {
  return {
    id: "route_ops",
    version,
    pipeline: [{ type: "transform", operations }],
    destinations: [{ destination_id: "dest_out" }],
  } as never;
}
