/** Destinations: the list with health and last error, a new one, one (edit, delete). */
import { island } from "../components/island.tsx";
import { fmtTime } from "../components/format.ts";
import type { PageCtx, PageOut } from "../server/page.tsx";
import { destinationState } from "./dashboard.tsx";

interface Dest {
  id: string;
  name: string;
  type: string;
  active: boolean;
  config: Record<string, unknown>;
  retry: unknown;
}

async function statsById(p: PageCtx) {
  const s = await p.api.get("/api/stats");
  // deno-lint-ignore no-explicit-any
  return new Map<string, any>(
    s.per_destination.map((d: { destination_id: string }) => [d.destination_id, d]),
  );
}

export async function destinationsList(p: PageCtx): Promise<PageOut> {
  const [dests, stats] = await Promise.all([
    p.api.get("/api/destinations?limit=500"),
    statsById(p),
  ]);
  return {
    title: "Destinations",
    body: (
      <>
        <div class="spread">
          <h1>Destinations</h1>
          <a class="button" href="/ui/destinations/new">New destination</a>
        </div>
        {dests.items.length === 0
          ? (
            <p class="card muted">
              No destinations yet. A destination is where events go: HTTP, a broker, a file.
            </p>
          )
          : (
            <table>
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Type</th>
                  <th>Health</th>
                  <th>Delivered / pending / dead</th>
                  <th>Last error</th>
                </tr>
              </thead>
              <tbody>
                {dests.items.map((d: Dest) => {
                  const s = stats.get(d.id);
                  const [cls, text] = destinationState(s);
                  return (
                    <tr key={d.id}>
                      <td data-label="Name">
                        <a href={`/ui/destinations/${d.id}`}>{d.name}</a>
                        {d.active ? null : <span class="badge">inactive</span>}
                      </td>
                      <td data-label="Type">{d.type}</td>
                      <td data-label="Health">
                        <span class={`badge ${cls}`}>{text}</span>
                      </td>
                      <td data-label="Delivered / pending / dead">
                        {s ? `${s.delivered} / ${s.pending} / ${s.dead}` : "0 / 0 / 0"}
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
      </>
    ),
  };
}

export function destinationNew(): Promise<PageOut> {
  return Promise.resolve({
    title: "New destination",
    body: (
      <>
        <h1>New destination</h1>
        <div class="card">{island("DestinationForm", {})}</div>
      </>
    ),
  });
}

export async function destinationEdit(p: PageCtx): Promise<PageOut> {
  const id = p.c.req.param("id")!;
  const [d, stats] = await Promise.all([
    p.api.get(`/api/destinations/${encodeURIComponent(id)}`),
    statsById(p),
  ]);
  const s = stats.get(d.id);
  const [cls, text] = destinationState(s);
  return {
    title: d.name,
    body: (
      <>
        <h1>Destination {d.name}</h1>
        <div class="grid">
          <section class="card" aria-labelledby="edit-h">
            <h2 id="edit-h">Settings</h2>
            {island("DestinationForm", {
              initial: {
                id: d.id,
                name: d.name,
                type: d.type,
                config: d.config,
                retry: d.retry ?? undefined,
                active: d.active,
              },
            })}
          </section>
          <section class="card" aria-labelledby="health-h">
            <h2 id="health-h">Health</h2>
            <dl class="meta">
              <dt>State</dt>
              <dd>
                <span class={`badge ${cls}`}>{text}</span>
              </dd>
              <dt>Circuit</dt>
              <dd>{s?.circuit ?? "closed"}</dd>
              <dt>Delivered</dt>
              <dd>{s?.delivered ?? 0}</dd>
              <dt>Pending</dt>
              <dd>{s?.pending ?? 0} ({s?.retrying ?? 0} retrying)</dd>
              <dt>Dead</dt>
              <dd>
                {s?.dead ?? 0}
                {s?.dead
                  ? (
                    <>
                      · <a href={`/ui/dead-letters?destination_id=${d.id}`}>see them</a>
                    </>
                  )
                  : null}
              </dd>
              <dt>Last delivery</dt>
              <dd>{fmtTime(s?.last_delivered_at)}</dd>
              <dt>Last error</dt>
              <dd class="wrap">
                {s?.last_error ? `${s.last_error} (${fmtTime(s.last_error_at)})` : "—"}
              </dd>
            </dl>
            <h2>Delete</h2>
            {island("ActionButton", {
              label: "Delete destination",
              method: "DELETE",
              path: `/api/destinations/${d.id}`,
              confirm: `Delete destination ${d.name}?`,
              done: "Deleted",
              then: "/ui/destinations",
              danger: true,
            })}
          </section>
        </div>
      </>
    ),
  };
}
