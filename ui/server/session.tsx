/**
 * Sign in, Change password and Sign out as plain HTML forms. The token from POST /login goes
 * straight into the HttpOnly cookie: it never reaches a page script.
 */
import type { Context, Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { SESSION_COOKIE, sessionCookieOptions } from "../../core/api/session_cookie.ts";
import { ChangePassword, SignIn } from "../pages/sign_in.tsx";
import type { Me } from "../components/layout.tsx";
import { apiClient, ApiFailure } from "./api_client.ts";
import { frame, type PageKit, signInRedirect } from "./page.tsx";
import { html } from "./render.tsx";

const field = (form: Record<string, unknown>, k: string) =>
  typeof form[k] === "string" ? (form[k] as string) : "";

/** Only a page of ours: no open redirect through `next`. */
const safeNext = (
  n: string,
) => (/^\/ui\/[\w\-\/?=&%.]*$/.test(n) && !n.startsWith("//") ? n : "/ui/");

interface Login {
  token: string;
  must_change_password: boolean;
  expires_at: string;
}

async function login(kit: PageKit, c: Context, username: string, password: string) {
  const r = await apiClient(kit.app, c, null).send<Login>("POST", "/login", { username, password });
  setCookie(
    c,
    SESSION_COOKIE,
    r.token,
    sessionCookieOptions(c.req.raw, c.env, (Date.parse(r.expires_at) - Date.now()) / 1000),
  );
  return r;
}

// deno-lint-ignore no-explicit-any
export function mountSession(ui: Hono<any>, kit: PageKit) {
  ui.get(
    "/sign-in",
    (c) =>
      html(
        c,
        200,
        { ...frame(kit, "Sign in", null), narrow: true },
        <SignIn next={c.req.query("next")} />,
      ),
  );

  ui.post("/sign-in", async (c) => {
    const form = await c.req.parseBody();
    const username = field(form, "username"), next = safeNext(field(form, "next"));
    try {
      const r = await login(kit, c, username, field(form, "password"));
      return c.redirect(r.must_change_password ? "/ui/change-password" : next, 303);
    } catch (e) {
      if (!(e instanceof ApiFailure) || e.status >= 500) throw e;
      const message = e.status === 400 ? "Enter a username and a password" : e.message;
      return html(
        c,
        e.status,
        { ...frame(kit, "Sign in", null), narrow: true },
        <SignIn username={username} error={message} next={next === "/ui/" ? undefined : next} />,
      );
    }
  });

  const me = (c: Context, token: string) => apiClient(kit.app, c, token).get<Me>("/api/me");

  ui.get("/change-password", async (c) => {
    const token = getCookie(c, SESSION_COOKIE);
    if (!token) return signInRedirect(c);
    let who: Me;
    try {
      who = await me(c, token);
    } catch {
      return signInRedirect(c);
    }
    return html(
      c,
      200,
      { ...frame(kit, "Change password", who), narrow: true },
      <ChangePassword forced={who.must_change_password} />,
    );
  });

  ui.post("/change-password", async (c) => {
    const token = getCookie(c, SESSION_COOKIE);
    if (!token) return signInRedirect(c);
    const form = await c.req.parseBody();
    const current = field(form, "current_password"), fresh = field(form, "new_password");
    let who: Me;
    try {
      who = await me(c, token);
    } catch {
      return signInRedirect(c);
    }
    try {
      await apiClient(kit.app, c, token).send("POST", "/change-password", {
        current_password: current,
        new_password: fresh,
      });
    } catch (e) {
      if (!(e instanceof ApiFailure) || e.status >= 500) throw e;
      const errors = /current_password/.test(e.message)
        ? { current: e.status === 401 ? "The current password is wrong" : e.message }
        : /new_password/.test(e.message)
        ? { new: e.message.replace(/^new_password: /, "") }
        : { form: e.message };
      return html(
        c,
        e.status,
        { ...frame(kit, "Change password", who), narrow: true },
        <ChangePassword forced={who.must_change_password} errors={errors} />,
      );
    }
    // The old token is revoked by the change: sign in again with the new password.
    await login(kit, c, who.username, fresh);
    return c.redirect("/ui/", 303);
  });

  ui.post("/sign-out", async (c) => {
    const token = getCookie(c, SESSION_COOKIE);
    if (token) {
      await apiClient(kit.app, c, token).send("POST", "/logout").catch(() => {});
    }
    deleteCookie(c, SESSION_COOKIE, {
      path: "/",
      secure: sessionCookieOptions(c.req.raw, c.env, 0).secure,
    });
    return c.redirect("/ui/sign-in", 303);
  });
}
