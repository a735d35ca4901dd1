/** Triggers: the list with live state, a new trigger, one trigger (edit, Run now, delete). */
import { island } from "../components/island.tsx";
import { fmtTime } from "../components/format.ts";
import type { PageCtx, PageOut } from "../server/page.tsx";

export interface TriggerOut {
  id: string;
  name: string;
  description?: string;
  type: string;
  route_id: string;
  config: Record<string, unknown>;
  active: boolean;
  status: { state?: string; last_error?: string | null; lag?: number | null; [k: string]: unknown };
  last_run_at: string | null;
  next_run_at: string | null;
  last_error: string | null;
  events_emitted: number;
  cursor: unknown;
}

/** ok / failing / off for a trigger, from its live status. */
export function triggerState(t: TriggerOut): [cls: string, text: string] {
  const s = t.status?.state ?? (t.active ? "starting" : "stopped");
  if (!t.active) return ["", "inactive"];
  if (s === "error" || t.last_error || t.status?.last_error) {
    return ["bad", s === "error" ? "error" : `${s}, last run failed`];
  }
  if (s === "reconnecting" || s === "starting") return ["warn", s];
  return ["ok", s];
}

const routeNames = async (p: PageCtx) =>
  (await p.api.get("/api/routes?limit=500")).items.map((r: { id: string; name: string }) => ({
    id: r.id,
    name: r.name,
  })) as Array<{ id: string; name: string }>;

export async function triggersList(p: PageCtx): Promise<PageOut> {
  const [triggers, routes] = await Promise.all([
    p.api.get("/api/triggers?limit=500"),
    routeNames(p),
  ]);
  const names = new Map(routes.map((r) => [r.id, r.name]));
  return {
    title: "Triggers",
    body: (
      <>
        <div class="spread">
          <h1>Triggers</h1>
          <a class="button" href="/ui/triggers/new">New trigger</a>
        </div>
        {triggers.items.length === 0
          ? (
            <p class="card muted">
              No triggers yet. A trigger pulls events into a route: a schedule, API polling, a
              broker, a mailbox, a calendar or an address book.
            </p>
          )
          : (
            <table>
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Route</th>
                  <th>State</th>
                  <th>Last run</th>
                  <th>Events</th>
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
                      <td data-label="Route">
                        <a href={`/ui/routes/${t.route_id}`}>
                          {names.get(t.route_id) ?? t.route_id}
                        </a>
                      </td>
                      <td data-label="State">
                        <span class={`badge ${cls}`}>{text}</span>
                      </td>
                      <td data-label="Last run" class="small">{fmtTime(t.last_run_at)}</td>
                      <td data-label="Events">{t.events_emitted}</td>
                      <td data-label="Last error" class="small wrap">
                        {t.last_error ?? t.status?.last_error ?? "—"}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
      </>
    ),
  };
}

export async function triggerNew(p: PageCtx): Promise<PageOut> {
  const [types, routes] = await Promise.all([p.api.get("/api/triggers/types"), routeNames(p)]);
  return {
    title: "New trigger",
    body: (
      <>
        <h1>New trigger</h1>
        <div class="card">{island("TriggerForm", { types: types.items, routes })}</div>
      </>
    ),
  };
}

export async function triggerEdit(p: PageCtx): Promise<PageOut> {
  const id = p.c.req.param("id")!;
  const [t, types, routes] = await Promise.all([
    p.api.get(`/api/triggers/${encodeURIComponent(id)}`) as Promise<TriggerOut>,
    p.api.get("/api/triggers/types"),
    routeNames(p),
  ]);
  const [cls, text] = triggerState(t);
  const { state: _s, last_error: _e, ...details } = t.status ?? {};
  return {
    title: t.name,
    body: (
      <>
        <div class="spread">
          <h1>Trigger {t.name}</h1>
          <a class="button secondary" href={`/ui/events?route_id=${t.route_id}`}>
            Its route's events
          </a>
        </div>
        <div class="grid">
          <section class="card" aria-labelledby="edit-h">
            <h2 id="edit-h">Settings</h2>
            {island("TriggerForm", {
              initial: {
                id: t.id,
                name: t.name,
                description: t.description,
                type: t.type,
                route_id: t.route_id,
                config: t.config,
                active: t.active,
              },
              types: types.items,
              routes,
            })}
          </section>
          <section class="card" aria-labelledby="health-h">
            <h2 id="health-h">Health</h2>
            <dl class="meta">
              <dt>State</dt>
              <dd>
                <span class={`badge ${cls}`}>{text}</span>
              </dd>
              <dt>Last run</dt>
              <dd>{fmtTime(t.last_run_at)}</dd>
              <dt>Next run</dt>
              <dd>{fmtTime(t.next_run_at)}</dd>
              <dt>Events</dt>
              <dd>{t.events_emitted}</dd>
              <dt>Last error</dt>
              <dd class="wrap">{t.last_error ?? t.status?.last_error ?? "—"}</dd>
              {t.status?.lag != null
                ? (
                  <>
                    <dt>Waiting</dt>
                    <dd>{t.status.lag}</dd>
                  </>
                )
                : null}
            </dl>
            {Object.keys(details).length
              ? (
                <>
                  <h3>Status</h3>
                  <pre>{JSON.stringify(details, null, 2)}</pre>
                </>
              )
              : null}
            {t.cursor != null
              ? (
                <>
                  <h3>Cursor</h3>
                  <pre>{typeof t.cursor === "string" ? t.cursor : JSON.stringify(t.cursor, null, 2)}</pre>
                </>
              )
              : null}
            <div class="row">
              {island("ActionButton", {
                label: "Run now",
                method: "POST",
                path: `/api/triggers/${t.id}/run`,
                done: "Ran: {emitted} new, {duplicates} already seen",
              })}
              {island("ActionButton", {
                label: "Delete trigger",
                method: "DELETE",
                path: `/api/triggers/${t.id}`,
                confirm: `Delete trigger ${t.name}?`,
                done: "Deleted",
                then: "/ui/triggers",
                danger: true,
              })}
            </div>
          </section>
        </div>
      </>
    ),
  };
}
