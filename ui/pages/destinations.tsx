/** Destinations: the list with health and last error, a new one, one (edit, delete). */
import { island } from "../components/island.tsx";
import { fmtTime } from "../components/format.ts";
import { DataTable } from "../components/data_table.tsx";
import { deleteButton } from "../components/delete_button.tsx";
import { ListHeader } from "../components/list_header.tsx";
import {
  destinationLastError,
  destinationState,
  type DestStats,
  StateBadge,
} from "../components/health.tsx";
import type { PageCtx, PageOut } from "../server/page.tsx";

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
  return new Map<string, DestStats>(
    (s.per_destination as DestStats[]).map((d) => [d.destination_id, d]),
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
        <ListHeader
          title="Destinations"
          newHref="/ui/destinations/new"
          newLabel="New destination"
        />
        {dests.items.length === 0
          ? (
            <p class="card muted">
              No destinations yet. A destination is where events go: HTTP, a broker, a file.
            </p>
          )
          : (
            <DataTable<Dest>
              columns={[
                {
                  label: "Name",
                  cell: (d) => (
                    <>
                      <a href={`/ui/destinations/${d.id}`}>{d.name}</a>
                      {d.active ? null : <span class="badge">inactive</span>}
                    </>
                  ),
                },
                { label: "Type", cell: (d) => d.type },
                {
                  label: "Health",
                  cell: (d) => <StateBadge state={destinationState(stats.get(d.id))} />,
                },
                {
                  label: "Delivered / pending / dead",
                  cell: (d) => {
                    const s = stats.get(d.id);
                    return s ? `${s.delivered} / ${s.pending} / ${s.dead}` : "0 / 0 / 0";
                  },
                },
                {
                  label: "Last error",
                  class: "small wrap",
                  cell: (d) => destinationLastError(stats.get(d.id)),
                },
              ]}
              rows={dests.items}
            />
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
                <StateBadge state={destinationState(s)} />
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
              <dd class="wrap">{destinationLastError(s)}</dd>
            </dl>
            <h2>Delete</h2>
            {deleteButton({
              kind: "destination",
              collection: "destinations",
              id: d.id,
              name: d.name,
            })}
          </section>
        </div>
      </>
    ),
  };
}
