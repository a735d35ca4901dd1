/** Events: search by route, status and time (a plain GET form), and one event in full. */
import { Fragment } from "preact";
import { island } from "../components/island.tsx";
import { fmtTime, prettyBody } from "../components/format.ts";
import { DataTable } from "../components/data_table.tsx";
import { StateBadge } from "../components/health.tsx";
import type { PageCtx, PageOut } from "../server/page.tsx";

const STATUSES = ["accepted", "processed", "failed", "dropped", "held"];
const PAGE = 50;

interface Ev {
  id: string;
  route_id: string | null;
  received_at: string;
  method: string;
  status: string;
  error: string | null;
  source: string;
}

/** datetime-local (UTC, as labelled) -> the API's ISO time; empty stays out. */
const utc = (
  v: string | undefined,
) => (v && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(v) ? `${v}Z` : undefined);

export async function eventsList(p: PageCtx): Promise<PageOut> {
  const q = p.c.req.query();
  const offset = Math.max(0, Number(q.offset) || 0);
  const params = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  if (q.route_id) params.set("route_id", q.route_id);
  if (q.status && STATUSES.includes(q.status)) params.set("status", q.status);
  const since = utc(q.since), until = utc(q.until);
  if (since) params.set("since", since);
  if (until) params.set("until", until);
  const [events, routes] = await Promise.all([
    p.api.get(`/api/events?${params}`),
    p.api.get("/api/routes?limit=500"),
  ]);
  const names = new Map<string, string>(
    routes.items.map((r: { id: string; name: string }) => [r.id, r.name]),
  );
  const link = (o: number) => {
    const u = new URLSearchParams(q);
    u.set("offset", String(o));
    return `/ui/events?${u}`;
  };
  return {
    title: "Events",
    body: (
      <>
        <h1>Events</h1>
        <form
          method="get"
          action="/ui/events"
          class="card filters"
          role="search"
          aria-label="Search events"
        >
          <div class="field">
            <label for="f-route">Route</label>
            <select id="f-route" name="route_id">
              <option value="">All routes</option>
              {routes.items.map((r: { id: string; name: string }) => (
                <option key={r.id} value={r.id} selected={q.route_id === r.id}>{r.name}</option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="f-status">Status</label>
            <select id="f-status" name="status">
              <option value="">Any status</option>
              {STATUSES.map((s) => <option key={s} value={s} selected={q.status === s}>{s}
              </option>)}
            </select>
          </div>
          <div class="field">
            <label for="f-since">From (UTC)</label>
            <input id="f-since" name="since" type="datetime-local" value={q.since ?? ""} />
          </div>
          <div class="field">
            <label for="f-until">To (UTC)</label>
            <input id="f-until" name="until" type="datetime-local" value={q.until ?? ""} />
          </div>
          <div class="row">
            <button type="submit">Search</button>
            <a href="/ui/events" class="button secondary">Reset</a>
          </div>
        </form>
        <p class="muted small" role="status">
          {events.total} {events.total === 1 ? "event" : "events"}
          {events.total > PAGE
            ? `, ${offset + 1}–${Math.min(offset + PAGE, events.total)} shown`
            : ""}
        </p>
        {events.items.length
          ? (
            <DataTable<Ev>
              columns={[
                { label: "Received", class: "small", cell: (e) => fmtTime(e.received_at) },
                {
                  label: "Event",
                  cell: (e) => (
                    <>
                      <a href={`/ui/events/${e.id}`} class="mono">{e.id}</a>{" "}
                      <span class="muted small">{e.method}</span>
                    </>
                  ),
                },
                {
                  label: "Route",
                  cell: (e) => (e.route_id ? names.get(e.route_id) ?? e.route_id : e.source),
                },
                {
                  label: "Status",
                  cell: (e) => (
                    <>
                      <StateBadge state={[e.status, e.status]} />
                      {e.error ? <div class="error small">{e.error}</div> : null}
                    </>
                  ),
                },
              ]}
              rows={events.items}
            />
          )
          : <p class="card muted">No events match.</p>}
        <nav class="row" aria-label="Pages">
          {offset > 0 ? <a href={link(Math.max(0, offset - PAGE))}>Newer</a> : null}
          {offset + PAGE < events.total ? <a href={link(offset + PAGE)}>Older</a> : null}
        </nav>
      </>
    ),
  };
}

interface Attempt {
  n: number;
  at: string;
  outcome: string;
  error: string | null;
  duration_ms: number | null;
}

interface Delivery {
  id: string;
  destination_id: string;
  status: string;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  attempt_log: Attempt[];
}

export async function eventPage(p: PageCtx): Promise<PageOut> {
  const id = p.c.req.param("id")!;
  const e = await p.api.get(`/api/events/${encodeURIComponent(id)}`);
  const [route, dests] = await Promise.all([
    e.route_id ? p.api.get(`/api/routes/${e.route_id}`).catch(() => null) : null,
    p.api.get("/api/destinations?limit=500"),
  ]);
  const names = new Map<string, string>(
    dests.items.map((d: { id: string; name: string }) => [d.id, d.name]),
  );
  return {
    title: `Event ${e.id}`,
    body: (
      <>
        <div class="spread">
          <h1 class="wrap">
            Event <span class="mono">{e.id}</span>
          </h1>
          {island("ActionButton", {
            label: "Replay",
            method: "POST",
            path: `/api/events/${e.id}/replay`,
            confirm: "Run this event through its route again? Its destinations get it once more.",
            done: "Replayed: new deliveries are on their way",
          })}
        </div>
        <div class="grid">
          <section class="card" aria-labelledby="about-h">
            <h2 id="about-h">About</h2>
            <dl class="meta">
              <dt>Status</dt>
              <dd>
                <StateBadge state={[e.status, e.status]} />
                {e.error ? <span class="error">{e.error}</span> : null}
              </dd>
              <dt>Received</dt>
              <dd>{fmtTime(e.received_at)}</dd>
              <dt>Route</dt>
              <dd>
                {route ? <a href={`/ui/routes/${route.id}`}>{route.name}</a> : e.route_id ?? "—"}
              </dd>
              <dt>Source</dt>
              <dd>{e.source}</dd>
              <dt>Request</dt>
              <dd class="mono">{e.method} {e.path}{e.query ? `?${e.query}` : ""}</dd>
              <dt>From</dt>
              <dd>{e.source_ip}</dd>
            </dl>
          </section>
          <section class="card" aria-labelledby="headers-h">
            <h2 id="headers-h">Headers</h2>
            <dl class="meta small">
              {Object.entries(e.headers as Record<string, string>).map(([k, v]) => (
                <Fragment key={k}>
                  <dt class="mono">{k}</dt>
                  <dd class="mono">{v}</dd>
                </Fragment>
              ))}
            </dl>
          </section>
        </div>
        <section class="card" aria-labelledby="body-h">
          <h2 id="body-h">Body</h2>
          {e.body_encoding === "base64"
            ? <p class="muted small">Not UTF-8 text: shown as base64.</p>
            : null}
          <pre>{prettyBody(e.body, e.body_encoding)}</pre>
        </section>
        <section aria-labelledby="deliveries-h">
          <h2 id="deliveries-h">Deliveries</h2>
          {e.deliveries.length === 0
            ? <p class="card muted">No deliveries (yet, or the route sent it nowhere).</p>
            : null}
          {e.deliveries.map((d: Delivery) => (
            <div class="card" key={d.id}>
              <div class="spread">
                <h3>
                  To{" "}
                  <a href={`/ui/destinations/${d.destination_id}`}>
                    {names.get(d.destination_id) ?? d.destination_id}
                  </a>
                </h3>
                <StateBadge state={[d.status, d.status]} />
              </div>
              <p class="muted small">
                {d.attempts} {d.attempts === 1 ? "attempt" : "attempts"}
                {d.next_attempt_at ? ` · next at ${fmtTime(d.next_attempt_at)}` : ""}
                {" · "}
                <span class="mono">{d.id}</span>
              </p>
              <ol
                class="timeline"
                aria-label={`Delivery attempts to ${
                  names.get(d.destination_id) ?? d.destination_id
                }`}
              >
                {d.attempt_log.map((a) => (
                  <li key={a.n} class={a.outcome}>
                    <strong>Attempt {a.n}: {a.outcome}</strong>{" "}
                    <span class="muted small">
                      {fmtTime(a.at)}
                      {a.duration_ms != null ? ` · ${a.duration_ms} ms` : ""}
                    </span>
                    {a.error ? <div class="error">{a.error}</div> : null}
                  </li>
                ))}
                {d.status === "pending" && d.attempt_log.length === 0
                  ? <li>Waiting for its first attempt</li>
                  : null}
              </ol>
              {d.status === "dead"
                ? island("ActionButton", {
                  label: "Retry",
                  method: "POST",
                  path: `/api/dlq/retry/${d.id}`,
                  done: "Retrying",
                })
                : null}
            </div>
          ))}
        </section>
      </>
    ),
  };
}
