/**
 * What `GET /health` reports. The rule: **503 when the node cannot accept events** (the store
 * does not answer); otherwise 200, `"degraded"` when a part needs attention (the coordinator
 * does not answer, a destination's circuit is open, a trigger running here is in error or
 * reconnecting, a broker
 * connection is down) and `"ok"` when nothing does. Every check is bounded in time, so a hung
 * store or Redis makes /health answer, not hang.
 */
import type { AppDeps } from "../app_deps.ts";
import type { Scope } from "../model/user.ts";

export type PartStatus = "ok" | "degraded" | "unavailable";

/** A trigger in these states is not doing its work: it makes the node degraded. */
const failing = (state: unknown) => state === "error" || state === "reconnecting";

const CHECK_TIMEOUT_MS = 2000;

async function timed(what: string, p: () => Promise<unknown>) {
  const start = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      p(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${what} did not answer within ${CHECK_TIMEOUT_MS} ms`)),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
    return { error: null, ms: Math.round((performance.now() - start) * 10) / 10 };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e), ms: null };
  } finally {
    clearTimeout(timer);
  }
}

export interface HealthSummary {
  status: PartStatus;
  version: string;
  checks: Record<string, PartStatus>;
}

/** The parts' states from what the node knows in memory plus one ping each (cheap). */
export async function healthSummary(deps: AppDeps) {
  const now = deps.clock.now();
  const extra = Object.entries(deps.healthChecks ?? {});
  const [store, coordinator, ...extraResults] = await Promise.all([
    timed("the store", () => deps.store.ping()),
    deps.coordinator?.ping ? timed("the coordinator", () => deps.coordinator!.ping!()) : null,
    ...extra.map(([name, check]) =>
      timed(name, async () => {
        if (!(await check())) throw new Error(`${name}: not healthy`);
      })
    ),
  ]);
  const circuits = deps.openCircuits?.(now) ?? new Map();
  const running = (deps.triggers?.running?.() ?? []).map((id) => ({
    id,
    live: deps.triggers!.live(id),
  }));
  const failingTriggers = running.filter((t) => failing(t.live?.status.state));
  const checks: Record<string, PartStatus> = {
    store: store.error ? "unavailable" : "ok",
  };
  if (coordinator) checks.coordinator = coordinator.error ? "degraded" : "ok";
  extra.forEach(([name], i) => (checks[name] = extraResults[i]!.error ? "degraded" : "ok"));
  checks.destinations = circuits.size ? "degraded" : "ok";
  checks.triggers = failingTriggers.length ? "degraded" : "ok";
  const status: PartStatus = store.error
    ? "unavailable"
    : Object.values(checks).some((v) => v !== "ok")
    ? "degraded"
    : "ok";
  return { status, checks, store, coordinator, circuits, running };
}

/** The admin's view: the summary plus each part with its reason. */
export async function healthDetails(deps: AppDeps, scope: Scope) {
  const s = await healthSummary(deps);
  const now = deps.clock.now();
  const detail: Record<string, unknown> = {
    store: {
      status: s.checks.store,
      kind: deps.store.kind,
      latency_ms: s.store.ms,
      error: s.store.error,
    },
  };
  if (deps.coordinator) {
    detail.coordinator = {
      status: s.checks.coordinator ?? "ok",
      kind: deps.coordinator.kind,
      latency_ms: s.coordinator?.ms ?? null,
      error: s.coordinator?.error ?? null,
    };
  }
  if (s.store.error) return { ...s, detail };

  // Destinations in use: those an active route sends to, and any whose circuit is not closed.
  const routes = (await deps.store.allRoutes()).filter((r) => r.active);
  const inUse = new Set<string>(s.circuits.keys());
  for (const r of routes) {
    for (const d of r.spec.destinations ?? []) {
      const entry = d as { destination_id?: unknown; fallback_destination_id?: unknown };
      if (typeof entry.destination_id === "string") inUse.add(entry.destination_id);
      if (typeof entry.fallback_destination_id === "string") {
        inUse.add(entry.fallback_destination_id);
      }
    }
  }
  const stats = await deps.store.stats(scope, now);
  const byId = new Map(stats.per_destination.map((d) => [d.destination_id, d]));
  const iso = (t: number | null | undefined) => (t == null ? null : new Date(t).toISOString());
  const destinations = [];
  for (const id of inUse) {
    const d = await deps.store.getDestination(null, id);
    if (!d) continue;
    const st = byId.get(id);
    const circuit = deps.circuitState?.(id) ?? "closed";
    destinations.push({
      id,
      name: d.name,
      type: d.type,
      owner: d.owner,
      status: circuit === "closed" ? "ok" : "degraded",
      circuit,
      pending: st?.pending ?? 0,
      retrying: st?.retrying ?? 0,
      dead: st?.dead ?? 0,
      last_delivered_at: iso(st?.last_delivered_at),
      last_error: st?.last_error ?? null,
      last_error_at: iso(st?.last_error_at),
    });
  }
  detail.destinations = destinations;

  // Triggers: every active one, with where it runs and its last error.
  const triggers = (await deps.store.allTriggers()).filter((t) => t.active);
  const states = await deps.store.triggerStates(triggers.map((t) => t.id));
  detail.triggers = triggers.map((t) => {
    const live = deps.triggers?.live(t.id);
    const stored = states.get(t.id);
    const state = live?.status.state ?? (stored?.status.state as string | undefined) ?? null;
    return {
      id: t.id,
      name: t.name,
      type: t.type,
      owner: t.owner,
      status: failing(state) ? "degraded" : "ok",
      running_here: live !== undefined,
      node: (live?.status.node ?? stored?.status.node ?? null) as string | null,
      state,
      last_run_at: iso(live?.lastRunAt ?? stored?.lastRunAt),
      next_run_at: iso(live?.nextRunAt ?? stored?.nextRunAt),
      last_error: live?.lastError ?? stored?.lastError ?? null,
    };
  });
  return { ...s, detail };
}
