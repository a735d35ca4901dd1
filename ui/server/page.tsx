/**
 * A signed-in page: reads the session cookie, asks the API who it is, sends a first login to
 * Change password, keeps non-admins out of admin pages, and turns the API's 403/404 into
 * readable pages. The loader gets an API client that carries the session's token.
 */
import type { Context, Handler } from "hono";
import { deleteCookie, getCookie } from "hono/cookie";
import type { VNode } from "preact";
import { SESSION_COOKIE } from "../../core/api/session_cookie.ts";
import type { Me } from "../components/layout.tsx";
import { type ApiClient, apiClient, ApiFailure, type FetchApp } from "./api_client.ts";
import type { AssetTable } from "./assets.ts";
import { html } from "./render.tsx";

export interface PageCtx {
  c: Context;
  api: ApiClient;
  me: Me;
  /** The node's origin as the browser sees it, for absolute webhook URLs. */
  origin: string;
}

export interface PageOut {
  title: string;
  body: VNode;
  status?: number;
}

export interface PageKit {
  app: FetchApp;
  assets: AssetTable;
}

export function publicOrigin(c: Context): string {
  const u = new URL(c.req.url);
  const e = (c.env ?? {}) as { trustProxy?: boolean };
  if (e.trustProxy) {
    const proto = c.req.header("x-forwarded-proto")?.split(",")[0].trim();
    const host = c.req.header("x-forwarded-host")?.split(",")[0].trim();
    if (host) return `${proto ?? u.protocol.slice(0, -1)}://${host}`;
  }
  return u.origin;
}

export const frame = (kit: PageKit, title: string, me: Me | null, nav?: string) => ({
  title,
  me,
  nav,
  css: kit.assets.url("app.css"),
  js: kit.assets.url("islands.js"),
});

export function signInRedirect(c: Context) {
  const here = new URL(c.req.url);
  const next = here.pathname + here.search;
  return c.redirect(
    next === "/ui/" ? "/ui/sign-in" : `/ui/sign-in?next=${encodeURIComponent(next)}`,
    303,
  );
}

export function page(
  kit: PageKit,
  nav: string,
  load: (p: PageCtx) => Promise<PageOut>,
  opts: { admin?: boolean } = {},
): Handler {
  return async (c) => {
    const token = getCookie(c, SESSION_COOKIE);
    if (!token) return signInRedirect(c);
    const api = apiClient(kit.app, c, token);
    let me: Me;
    try {
      me = await api.get<Me>("/api/me");
    } catch (e) {
      if (e instanceof ApiFailure && e.status === 401) {
        deleteCookie(c, SESSION_COOKIE, { path: "/" });
        return signInRedirect(c);
      }
      throw e;
    }
    if (me.must_change_password) return c.redirect("/ui/change-password", 303);
    if (opts.admin && me.role !== "admin") {
      return html(
        c,
        403,
        frame(kit, "Not allowed", me, nav),
        <Problem title="Not allowed" text="This page is for admins." />,
      );
    }
    try {
      const out = await load({ c, api, me, origin: publicOrigin(c) });
      return html(c, out.status ?? 200, frame(kit, out.title, me, nav), out.body);
    } catch (e) {
      if (!(e instanceof ApiFailure) || e.status >= 500) throw e;
      if (e.status === 401) return signInRedirect(c);
      const title = e.status === 404
        ? "Not found"
        : e.status === 403
        ? "Not allowed"
        : "Cannot show this page";
      return html(
        c,
        e.status,
        frame(kit, title, me, nav),
        <Problem title={title} text={e.message} />,
      );
    }
  };
}

export function Problem({ title, text }: { title: string; text: string }) {
  return (
    <div class="card">
      <h1>{title}</h1>
      <p class="alert" role="alert">{text}</p>
      <p>
        <a href="/ui/">Back to the dashboard</a>
      </p>
    </div>
  );
}
