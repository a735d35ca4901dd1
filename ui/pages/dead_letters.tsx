/**
 * Dead letters grouped by error: retry one, or retry / discard a whole group after a
 * confirmation. A group is its exact error text (`error_is`), never a substring.
 */
import { island } from "../components/island.tsx";
import { fmtTime, plural } from "../components/format.ts";
import { DataTable } from "../components/data_table.tsx";
import type { PageCtx, PageOut } from "../server/page.tsx";

const GROUPS = 20, PER_GROUP = 10;

interface Dead {
  id: string;
  event_id: string;
  destination_id: string;
  route_id: string | null;
  attempts: number;
  last_error: string | null;
  updated_at: string;
}

export async function deadLetters(p: PageCtx): Promise<PageOut> {
  const destFilter = p.c.req.query("destination_id");
  const [stats, dests] = await Promise.all([
    p.api.get("/api/dlq/stats"),
    p.api.get("/api/destinations?limit=500"),
  ]);
  const names = new Map<string, string>(
    dests.items.map((d: { id: string; name: string }) => [d.id, d.name]),
  );
  const groups = (stats.by_error as Array<{ error: string; count: number }>).slice(0, GROUPS);
  const only = destFilter ? `&destination_id=${encodeURIComponent(destFilter)}` : "";
  const items = await Promise.all(
    groups.map((g) =>
      p.api.get(
        `/api/dlq/messages?limit=${PER_GROUP}&error_is=${encodeURIComponent(g.error)}${only}`,
      )
    ),
  );
  const shown = groups.map((g, i) => ({ ...g, page: items[i] })).filter((g) => g.page.total > 0);
  return {
    title: "Dead letters",
    body: (
      <>
        <h1>Dead letters</h1>
        <p class="muted">
          {plural(stats.total, "dead letter")} in{" "}
          {plural(stats.by_error.length, "group")}, grouped by their error.
          {destFilter
            ? (
              <>
                Showing only {names.get(destFilter) ?? destFilter}:{" "}
                <a href="/ui/dead-letters">show all</a>.
              </>
            )
            : null}
        </p>
        {shown.length === 0
          ? (
            <p class="card muted">
              Nothing is dead. Deliveries that run out of attempts land here.
            </p>
          )
          : null}
        {shown.map((g, gi) => {
          const filter = {
            error_is: g.error,
            ...(destFilter ? { destination_id: destFilter } : {}),
          };
          const n = g.page.total as number;
          return (
            <section class="card" key={gi} aria-labelledby={`g${gi}`}>
              <div class="spread">
                <h2 id={`g${gi}`} class="wrap">
                  {g.error || "(no error text)"} <span class="badge dead">{n}</span>
                </h2>
                <div class="row">
                  {island("ActionButton", {
                    label: "Retry group",
                    method: "POST",
                    path: "/api/dlq/retry",
                    body: filter,
                    confirm: `Retry all ${plural(n, "dead letter")} with this error?`,
                    done: `Retrying ${plural(n, "delivery", "deliveries")}`,
                  })}
                  {island("ActionButton", {
                    label: "Discard group",
                    method: "POST",
                    path: "/api/dlq/discard",
                    body: filter,
                    confirm: `Discard all ${
                      plural(n, "dead letter")
                    } with this error? They will not be delivered.`,
                    done: "Discarded",
                    danger: true,
                  })}
                </div>
              </div>
              <DataTable<Dead>
                columns={[
                  { label: "Died", class: "small", cell: (d) => fmtTime(d.updated_at) },
                  {
                    label: "Destination",
                    cell: (d) => names.get(d.destination_id) ?? d.destination_id,
                  },
                  {
                    label: "Event",
                    cell: (d) => <a href={`/ui/events/${d.event_id}`} class="mono">{d.event_id}</a>,
                  },
                  {
                    label: "Action",
                    cell: (d) =>
                      island("ActionButton", {
                        label: "Retry",
                        method: "POST",
                        path: `/api/dlq/retry/${d.id}`,
                        done: "Retrying",
                      }),
                  },
                ]}
                rows={g.page.items as Dead[]}
              />
              {n > PER_GROUP ? <p class="muted small">and {n - PER_GROUP} more</p> : null}
            </section>
          );
        })}
      </>
    ),
  };
}
