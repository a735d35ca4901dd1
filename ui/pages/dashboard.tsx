/** Dashboard: counts and the events-per-minute chart (live), health of everything. */
import { island } from "../components/island.tsx";
import { fmtTime } from "../components/format.ts";
import { ApiFailure } from "../server/api_client.ts";
import type { PageCtx, PageOut } from "../server/page.tsx";
import { type TriggerOut, triggerState } from "./triggers.tsx";

interface DestStats {
  destination_id: string;
  delivered: number;
  pending: number;
  retrying: number;
  dead: number;
  last_delivered_at: string | null;
  last_error: string | null;
  last_error_at: string | null;
  circuit: string | null;
}

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

/** ok / failing / idle for a destination, from its record and its breaker. */
export function destinationState(s: DestStats | undefined): [cls: string, text: string] {
  if (!s) return ["", "no deliveries yet"];
  if (s.circuit === "open") return ["bad", "circuit open"];
  const lastOk = s.last_delivered_at ? Date.parse(s.last_delivered_at) : 0;
  const lastBad = s.last_error_at ? Date.parse(s.last_error_at) : 0;
  if (lastBad > lastOk) return ["bad", "failing"];
  if (s.retrying > 0) return ["warn", "retrying"];
  return ["ok", "ok"];
}

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
            <table>
              <thead>
                <tr>
                  <th>Part</th>
                  <th>State</th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(health.checks).map(([k, v]) => (
                  <tr key={k}>
                    <td data-label="Part">
                      {PART_NAMES[k] ?? k}
                    </td>
                    <td data-label="State">
                      <span class={`badge ${v === "ok" ? "ok" : "bad"}`}>{v}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
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
                <table>
                  <thead>
                    <tr>
                      <th>Name</th>
                      <th>State</th>
                      <th>Last error</th>
                    </tr>
                  </thead>
                  <tbody>
                    {dests.items.map((d: { id: string; name: string; type: string }) => {
                      const s = byId.get(d.id);
                      const [cls, text] = destinationState(s);
                      return (
                        <tr key={d.id}>
                          <td data-label="Name">
                            <a href={`/ui/destinations/${d.id}`}>{d.name}</a>{" "}
                            <span class="muted small">{d.type}</span>
                          </td>
                          <td data-label="State">
                            <span class={`badge ${cls}`}>{text}</span>
                          </td>
                          <td data-label="Last error" class="small wrap">
                            {s?.last_error ? `${s.last_error} (${fmtTime(s.last_error_at)})` : "—"}
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
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
                <table>
                  <thead>
                    <tr>
                      <th>Name</th>
                      <th>State</th>
                      <th>Last error</th>
                    </tr>
                  </thead>
                  <tbody>
                    {triggers.items.map((t: TriggerOut) => {
                      const [cls, text] = triggerState(t);
                      return (
                        <tr key={t.id}>
                          <td data-label="Name">
                            <a href={`/ui/triggers/${t.id}`}>{t.name}</a>{" "}
                            <span class="muted small">{t.type}</span>
                          </td>
                          <td data-label="State">
                            <span class={`badge ${cls}`}>{text}</span>
                          </td>
                          <td data-label="Last error" class="small wrap">
                            {t.last_error ?? t.status?.last_error ?? "—"}
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              )}
          </section>
        </div>
      </>
    ),
  };
}
