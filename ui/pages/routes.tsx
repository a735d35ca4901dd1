/** Routes: the list with each webhook URL, a new route, one route (edit, Test, delete). */
import { island } from "../components/island.tsx";
import { DataTable, NameLink } from "../components/data_table.tsx";
import { deleteButton } from "../components/delete_button.tsx";
import { ListHeader } from "../components/list_header.tsx";
import type { PageCtx, PageOut } from "../server/page.tsx";

interface Route {
  id: string;
  name: string;
  method: string;
  endpoint: string;
  active: boolean;
  destinations: Array<{ destination_id: string }>;
}

interface Dest {
  id: string;
  name: string;
  type: string;
}

const destChoices = async (p: PageCtx): Promise<Dest[]> =>
  (await p.api.get("/api/destinations?limit=500")).items.map((d: Dest) => ({
    id: d.id,
    name: d.name,
    type: d.type,
  }));

function Endpoint({ url }: { url: string }) {
  return (
    <div class="endpoint">
      <code>{url}</code>
      {island("CopyButton", { text: url, label: "Copy URL" })}
    </div>
  );
}

export async function routesList(p: PageCtx): Promise<PageOut> {
  const [routes, dests] = await Promise.all([p.api.get("/api/routes?limit=500"), destChoices(p)]);
  const names = new Map(dests.map((d) => [d.id, d.name]));
  return {
    title: "Routes",
    body: (
      <>
        <ListHeader title="Routes" newHref="/ui/routes/new" newLabel="New route" />
        {routes.items.length === 0
          ? (
            <p class="card muted">
              No routes yet. A route gives you a webhook URL and sends what arrives to its
              destinations.
            </p>
          )
          : (
            <DataTable<Route>
              columns={[
                {
                  label: "Name",
                  cell: (r) => (
                    <NameLink href={`/ui/routes/${r.id}`} name={r.name} note={r.method} />
                  ),
                },
                {
                  label: "Webhook URL",
                  cell: (r) => <Endpoint url={`${p.origin}${r.endpoint}`} />,
                },
                {
                  label: "Destinations",
                  cell: (r) =>
                    r.destinations.map((d) => names.get(d.destination_id) ?? d.destination_id)
                      .join(", ") || "—",
                },
                { label: "Active", cell: (r) => (r.active ? "yes" : "no") },
              ]}
              rows={routes.items}
            />
          )}
      </>
    ),
  };
}

export async function routeNew(p: PageCtx): Promise<PageOut> {
  return {
    title: "New route",
    body: (
      <>
        <h1>New route</h1>
        <div class="card">{island("RouteForm", { destinations: await destChoices(p) })}</div>
      </>
    ),
  };
}

export async function routeEdit(p: PageCtx): Promise<PageOut> {
  const id = p.c.req.param("id")!;
  const [route, dests] = await Promise.all([
    p.api.get(`/api/routes/${encodeURIComponent(id)}`),
    destChoices(p),
  ]);
  const url = `${p.origin}${route.endpoint}`;
  return {
    title: route.name,
    body: (
      <>
        <div class="spread">
          <h1>Route {route.name}</h1>
          <a class="button secondary" href={`/ui/events?route_id=${route.id}`}>Its events</a>
        </div>
        <section class="card" aria-labelledby="url-h">
          <h2 id="url-h">Webhook URL</h2>
          <Endpoint url={url} />
          <p class="muted small">
            Send {route.method === "ANY" ? "any method" : route.method} requests here.
          </p>
        </section>
        <div class="grid">
          <section class="card" aria-labelledby="edit-h">
            <h2 id="edit-h">Settings</h2>
            {island("RouteForm", { initial: route, destinations: dests })}
          </section>
          {island("TestPanel", {
            routeId: route.id,
            names: Object.fromEntries(dests.map((d) => [d.id, d.name])),
          })}
        </div>
        <section class="card" aria-labelledby="danger-h">
          <h2 id="danger-h">Delete</h2>
          {deleteButton({
            kind: "route",
            collection: "routes",
            id: route.id,
            name: route.name,
            warning: "Its webhook URL stops answering.",
          })}
        </section>
      </>
    ),
  };
}
