/** Dashboard: counts and the events-per-minute chart (live), health of everything. */
import type { ComponentChildren } from "preact";
import { island } from "../components/island.tsx";
import { type Column, DataTable, NameLink } from "../components/data_table.tsx";
import {
  destinationLastError,
  destinationState,
  type DestStats,
  StateBadge,
  triggerLastError,
  triggerState,
} from "../components/health.tsx";
import { ApiFailure } from "../server/api_client.ts";
import type { PageCtx, PageOut } from "../server/page.tsx";
import type { TriggerOut } from "./triggers.tsx";

/** How /health's parts are named on the page. */
const PART_NAMES: Record<string, string> = {
  store: "Store",
  coordinator: "Coordination",
  publishers: "Broker connections",
  destinations: "Destination circuits",
  triggers: "Triggers running here",
};

export async function healthOf(
  p: PageCtx,
): Promise<{ status: string; checks: Record<string, string> }> {
  try {
    return await p.api.get("/health");
  } catch (e) {
    if (e instanceof ApiFailure) return { status: "unavailable", checks: { store: e.message } };
    throw e;
  }
}

/** The dashboard's health columns: what it is, its state, its last error. */
const healthColumns = <T,>(
  name: (row: T) => ComponentChildren,
  state: (row: T) => [string, string],
  lastError: (row: T) => string,
): Column<T>[] => [
  { label: "Name", cell: name },
  { label: "State", cell: (r) => <StateBadge state={state(r)} /> },
  { label: "Last error", class: "small wrap", cell: lastError },
];

export async function dashboard(p: PageCtx): Promise<PageOut> {
  const [stats, series, health, dests, triggers] = await Promise.all([
    p.api.get("/api/stats"),
    p.api.get("/api/stats/timeseries"),
    healthOf(p),
    p.api.get("/api/destinations?limit=500"),
    p.api.get("/api/triggers?limit=500"),
  ]);
  const byId = new Map<string, DestStats>(
    (stats.per_destination as DestStats[]).map((d) => [d.destination_id, d]),
  );
  return {
    title: "Dashboard",
    body: (
      <>
        <h1>Dashboard</h1>
        {island("DashboardLive", { stats, points: series.points })}
        <div class="grid">
          <section class="card" aria-labelledby="health-h">
            <h2 id="health-h">Health</h2>
            <DataTable
              columns={[
                { label: "Part", cell: ([k]) => PART_NAMES[k] ?? k },
                {
                  label: "State",
                  cell: ([, v]) => <StateBadge state={[v === "ok" ? "ok" : "bad", v]} />,
                },
              ]}
              rows={Object.entries(health.checks)}
              rowKey={([k]) => k}
            />
          </section>
          <section class="card" aria-labelledby="dest-h">
            <h2 id="dest-h">Destinations</h2>
            {dests.items.length === 0
              ? (
                <p class="muted">
                  None yet. <a href="/ui/destinations/new">Create a destination</a>.
                </p>
              )
              : (
                <DataTable
                  columns={healthColumns<{ id: string; name: string; type: string }>(
                    (d) => (
                      <NameLink href={`/ui/destinations/${d.id}`} name={d.name} note={d.type} />
                    ),
                    (d) => destinationState(byId.get(d.id)),
                    (d) => destinationLastError(byId.get(d.id)),
                  )}
                  rows={dests.items}
                />
              )}
          </section>
          <section class="card" aria-labelledby="trig-h">
            <h2 id="trig-h">Triggers</h2>
            {triggers.items.length === 0
              ? (
                <p class="muted">
                  None yet. <a href="/ui/triggers/new">Create a trigger</a> to pull events in.
                </p>
              )
              : (
                <DataTable
                  columns={healthColumns<TriggerOut>(
                    (t) => <NameLink href={`/ui/triggers/${t.id}`} name={t.name} note={t.type} />,
                    triggerState,
                    triggerLastError,
                  )}
                  rows={triggers.items}
                />
              )}
          </section>
        </div>
      </>
    ),
  };
}
