/** Triggers: the list with live state, a new trigger, one trigger (edit, Run now, delete). */
import { island } from "../components/island.tsx";
import { fmtTime } from "../components/format.ts";
import { DataTable, NameLink } from "../components/data_table.tsx";
import { deleteButton } from "../components/delete_button.tsx";
import { ListHeader } from "../components/list_header.tsx";
import { StateBadge, triggerLastError, triggerState } from "../components/health.tsx";
import type { PageCtx, PageOut } from "../server/page.tsx";
import type { TriggerValue } from "../islands/trigger_form.tsx";

/** A trigger as GET /api/triggers answers it: what the form edits, and its live state. */
export interface TriggerOut extends TriggerValue {
  id: string;
  status: { state?: string; last_error?: string | null; lag?: number | null; [k: string]: unknown };
  last_run_at: string | null;
  next_run_at: string | null;
  last_error: string | null;
  events_emitted: number;
  cursor: unknown;
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
        <ListHeader title="Triggers" newHref="/ui/triggers/new" newLabel="New trigger" />
        {triggers.items.length === 0
          ? (
            <p class="card muted">
              No triggers yet. A trigger pulls events into a route: a schedule, API polling, a
              broker, a mailbox, a calendar or an address book.
            </p>
          )
          : (
            <DataTable<TriggerOut>
              columns={[
                {
                  label: "Name",
                  cell: (t) => (
                    <NameLink href={`/ui/triggers/${t.id}`} name={t.name} note={t.type} />
                  ),
                },
                {
                  label: "Route",
                  cell: (t) => (
                    <a href={`/ui/routes/${t.route_id}`}>{names.get(t.route_id) ?? t.route_id}</a>
                  ),
                },
                { label: "State", cell: (t) => <StateBadge state={triggerState(t)} /> },
                { label: "Last run", class: "small", cell: (t) => fmtTime(t.last_run_at) },
                { label: "Events", cell: (t) => t.events_emitted },
                { label: "Last error", class: "small wrap", cell: triggerLastError },
              ]}
              rows={triggers.items}
            />
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
                <StateBadge state={triggerState(t)} />
              </dd>
              <dt>Last run</dt>
              <dd>{fmtTime(t.last_run_at)}</dd>
              <dt>Next run</dt>
              <dd>{fmtTime(t.next_run_at)}</dd>
              <dt>Events</dt>
              <dd>{t.events_emitted}</dd>
              <dt>Last error</dt>
              <dd class="wrap">{triggerLastError(t)}</dd>
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
              {deleteButton({ kind: "trigger", collection: "triggers", id: t.id, name: t.name })}
            </div>
          </section>
        </div>
      </>
    ),
  };
}
