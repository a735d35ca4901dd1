/** The page frame: header with navigation and Sign out, then the page's own content. */
import type { ComponentChildren } from "preact";

export interface Me {
  id: string;
  username: string;
  role: "admin" | "user";
  must_change_password: boolean;
}

export interface Frame {
  title: string;
  css: string;
  js?: string;
  me?: Me | null;
  /** The navigation entry to mark as the current page. */
  nav?: string;
  children: ComponentChildren;
  narrow?: boolean;
}

export const NAV: Array<{ name: string; href: string; admin?: boolean }> = [
  { name: "Dashboard", href: "/ui/" },
  { name: "Routes", href: "/ui/routes" },
  { name: "Destinations", href: "/ui/destinations" },
  { name: "Triggers", href: "/ui/triggers" },
  { name: "Events", href: "/ui/events" },
  { name: "Dead letters", href: "/ui/dead-letters" },
  { name: "Live tail", href: "/ui/live" },
  { name: "Users", href: "/ui/users", admin: true },
  { name: "Settings", href: "/ui/settings", admin: true },
];

export function Layout(f: Frame) {
  const me = f.me && !f.me.must_change_password ? f.me : null;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${f.title} · Event Router`}</title>
        <link rel="stylesheet" href={f.css} />
        <link rel="icon" href="data:," />
        {f.js ? <script type="module" src={f.js} /> : null}
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/ui/">Event Router</a>
          {me
            ? (
              <nav aria-label="Main">
                {NAV.filter((n) => !n.admin || me.role === "admin").map((n) => (
                  <a
                    key={n.href}
                    href={n.href}
                    aria-current={n.name === f.nav ? "page" : undefined}
                  >
                    {n.name}
                  </a>
                ))}
                <a href="/docs">API docs</a>
              </nav>
            )
            : <span />}
          {f.me
            ? (
              <div class="who">
                <span>
                  {f.me.username} <span class="muted">({f.me.role})</span>
                </span>
                <form method="post" action="/ui/sign-out">
                  <button type="submit" class="small">Sign out</button>
                </form>
              </div>
            )
            : null}
        </header>
        <main class={f.narrow ? "narrow" : undefined}>
          {f.children}
        </main>
      </body>
    </html>
  );
}
