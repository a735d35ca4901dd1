/** Live tail, and the admins' pages: Users and Settings. */
import { island } from "../components/island.tsx";
import { fmtTime } from "../components/format.ts";
import { DataTable } from "../components/data_table.tsx";
import type { PageCtx, PageOut } from "../server/page.tsx";

export async function liveTail(p: PageCtx): Promise<PageOut> {
  const routes = await p.api.get("/api/routes?limit=500");
  const want = p.c.req.query("route_id") ?? "";
  return {
    title: "Live tail",
    body: (
      <>
        <h1>Live tail</h1>
        <p class="muted">New events appear here as they arrive.</p>
        {island("LiveTail", {
          routes: routes.items.map((r: { id: string; name: string }) => ({
            id: r.id,
            name: r.name,
          })),
          initialRoute: routes.items.some((r: { id: string }) => r.id === want) ? want : "",
        })}
      </>
    ),
  };
}

interface User {
  id: string;
  username: string;
  role: string;
  must_change_password: boolean;
  created_at: string;
}

export async function users(p: PageCtx): Promise<PageOut> {
  const list = await p.api.get("/api/users?limit=500");
  return {
    title: "Users",
    body: (
      <>
        <h1>Users</h1>
        <div class="grid">
          <DataTable<User>
            columns={[
              {
                label: "Username",
                cell: (u) => (
                  <>
                    {u.username}
                    {u.must_change_password
                      ? <span class="badge warn">must change password</span>
                      : null}
                  </>
                ),
              },
              { label: "Role", cell: (u) => u.role },
              { label: "Created", class: "small", cell: (u) => fmtTime(u.created_at) },
              {
                label: "Action",
                cell: (u) =>
                  u.id === p.me.id ? <span class="muted small">you</span> : island("ActionButton", {
                    label: "Delete",
                    method: "DELETE",
                    path: `/api/users/${u.id}`,
                    confirm: `Delete user ${u.username} and everything it owns?`,
                    done: "Deleted",
                    then: "/ui/users",
                    danger: true,
                  }),
              },
            ]}
            rows={list.items}
          />
          <section class="card" aria-labelledby="new-h">
            <h2 id="new-h">New user</h2>
            {island("UserForm", {})}
          </section>
        </div>
      </>
    ),
  };
}

export async function settings(p: PageCtx): Promise<PageOut> {
  const s = await p.api.get("/api/settings");
  return {
    title: "Settings",
    body: (
      <>
        <h1>Settings</h1>
        <div class="card">{island("SettingsForm", { initial: s })}</div>
      </>
    ),
  };
}
