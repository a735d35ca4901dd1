/** POST /api/routes/{id}/test: what the route would do with a sample; nothing is delivered. */
import type { AppDeps } from "../app_deps.ts";
import type { Route } from "../model/route.ts";
import type { Envelope } from "../ports.ts";

export interface Sample {
  body?: unknown;
  headers?: Record<string, string>;
  query?: string;
  method?: string;
}

export function sampleEnvelope(route: Route, s: Sample | Envelope, now: number): Envelope {
  if ("receivedAt" in s) return s;
  const body = typeof s.body === "string"
    ? new TextEncoder().encode(s.body)
    : new TextEncoder().encode(JSON.stringify(s.body ?? null));
  const headers = Object.fromEntries(
    Object.entries(s.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
  );
  if (typeof s.body !== "string" && !headers["content-type"]) {
    headers["content-type"] = "application/json";
  }
  return {
    id: "evt_dry_run",
    tenant: route.owner,
    routeId: route.id,
    source: "dry-run",
    receivedAt: now,
    method: s.method ?? route.method,
    path: route.endpoint,
    query: s.query ?? "",
    ip: "0.0.0.0",
    headers,
    body,
  };
}

export async function dryRunRoute(deps: AppDeps, route: Route, s: Sample | Envelope) {
  const e = sampleEnvelope(route, s, deps.clock.now());
  if (deps.planner.dryRun) return await deps.planner.dryRun(route, e);
  const out = await deps.planner.plan(route, e);
  const dec = new TextDecoder();
  return {
    route_id: route.id,
    outcome: out.kind,
    deliveries: out.kind === "deliver"
      ? out.deliveries.map((d) => ({
        destination_id: d.destinationId,
        headers: d.headers,
        body: dec.decode(d.body),
      }))
      : [],
    delivered: false,
  };
}
