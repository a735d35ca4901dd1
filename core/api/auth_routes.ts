/** POST /login, /logout, /change-password and the bearer-token middleware. */
import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { ApiError } from "./errors.ts";
import { body, doc, errors, json, security } from "./openapi_helpers.ts";
import { Ok } from "./response_schemas.ts";
import type { AppEnv, Mount } from "./env.ts";
import type { AppDeps } from "../app_deps.ts";
import { changePasswordBody, loginBody } from "../model/user.ts";
import { DUMMY_HASH, hashPassword, verifyPassword } from "../auth/password.ts";
import { passwordVersion, signToken, verifyToken } from "../auth/jwt.ts";
import { timingSafeEqualText } from "../verify/timing_safe.ts";
import { isLoopback, socketAddress } from "../ingress/client_ip.ts";
import { createLoginThrottle } from "../auth/login_throttle.ts";
import { clientIp } from "../ingress/client_ip.ts";
import { isSafeMethod, sameOrigin, SESSION_COOKIE } from "./session_cookie.ts";

const TokenResponse = z.object({
  token: z.string(),
  must_change_password: z.boolean(),
  expires_at: z.string(),
}).openapi("TokenResponse");

/** Paths a user who must change the password may still call. */
const ALLOWED_BEFORE_CHANGE = new Set(["/change-password", "/logout", "/api/me"]);

export function requireAuth(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const h = c.req.header("authorization") ?? "";
    const m = h.match(/^Bearer\s+(.+)$/i);
    // The admin pages' session cookie carries the same token (session_cookie.ts).
    const cookie = m ? undefined : getCookie(c, SESSION_COOKIE);
    if (!m && !cookie) throw new ApiError(401, "unauthorized", "missing bearer token");
    if (cookie && !isSafeMethod(c.req.method) && !sameOrigin(c.req.raw)) {
      throw new ApiError(
        403,
        "cross_site",
        "a cookie session may change state only from this origin",
      );
    }
    const claims = await verifyToken(deps.jwtSecret, m ? m[1].trim() : cookie!);
    if (!claims || await deps.store.isRevoked(claims.jti)) {
      throw new ApiError(401, "unauthorized", "invalid or expired token");
    }
    const user = await deps.store.getUser(claims.sub);
    if (!user) throw new ApiError(401, "unauthorized", "the token's user no longer exists");
    // A password changed since the token was issued ends the session (every one of them).
    if (!timingSafeEqualText(claims.pwv, await passwordVersion(user.passwordHash))) {
      throw new ApiError(401, "unauthorized", "the password changed: log in again");
    }
    if (user.mustChangePassword && !ALLOWED_BEFORE_CHANGE.has(c.req.path)) {
      throw new ApiError(
        403,
        "password_change_required",
        "change the password with POST /change-password before using the API",
      );
    }
    c.set("scope", { userId: user.id, role: user.role });
    c.set("jti", claims.jti);
    c.set("exp", claims.exp);
    c.set("sessionValid", async () => {
      if (Date.now() >= claims.exp * 1000 || await deps.store.isRevoked(claims.jti)) return false;
      const now = await deps.store.getUser(claims.sub);
      return !!now && timingSafeEqualText(claims.pwv, await passwordVersion(now.passwordHash));
    });
    await next();
  };
}

export const mountAuth: Mount = (app, deps) => {
  const throttle = createLoginThrottle();

  app.openapi(
    createRoute({
      method: "post",
      path: "/login",
      tags: ["auth"],
      summary: "Log in and get a bearer token",
      request: body(loginBody),
      responses: { 200: json(TokenResponse), 400: errors[400], 401: errors[401] },
    }),
    async (c) => {
      const ip = clientIp(c.req.raw, c.env);
      const now = deps.clock.now();
      const gate = throttle.check(ip, now);
      if (!gate.ok) {
        throw new ApiError(429, "too_many_attempts", "too many failed logins; try again later", {
          "Retry-After": String(gate.retryAfterSeconds),
        });
      }
      const { username, password } = c.req.valid("json");
      const user = await deps.store.getUserByName(username);
      const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
      if (!user || !ok) {
        throttle.fail(ip, now);
        deps.metrics.inc("login_failures_total");
        throw new ApiError(401, "invalid_credentials", "invalid username or password");
      }
      // Until the first-start password is changed, anyone who can reach the node could use
      // it: such an account logs in only from this machine (the socket's address, never a
      // forwarded one).
      if (user.mustChangePassword && !isLoopback(socketAddress(c.env))) {
        throw new ApiError(
          403,
          "loopback_only",
          `${user.username} still has its first-start password: log in from this machine ` +
            "(127.0.0.1 or ::1) and change it first, or set it with `event-router user passwd`",
        );
      }
      throttle.succeed(ip);
      const t = await signToken(deps.jwtSecret, {
        sub: user.id,
        role: user.role,
        mcp: user.mustChangePassword,
        pwv: await passwordVersion(user.passwordHash),
      }, deps.tokenTtlSeconds);
      return c.json({
        token: t.token,
        must_change_password: user.mustChangePassword,
        expires_at: new Date(t.exp * 1000).toISOString(),
      }, 200);
    },
  );

  app.use("/logout", requireAuth(deps));
  app.openapi(
    createRoute({
      method: "post",
      path: "/logout",
      tags: ["auth"],
      summary: "Revoke the current token",
      security,
      responses: { 200: doc(Ok), 401: errors[401] },
    }),
    async (c) => {
      await deps.store.revokeToken(c.get("jti"), c.get("exp") * 1000);
      return c.json({ ok: true }, 200);
    },
  );

  app.use("/change-password", requireAuth(deps));
  app.openapi(
    createRoute({
      method: "post",
      path: "/change-password",
      tags: ["auth"],
      summary: "Change the password (required after the first login as admin/admin)",
      security,
      request: body(changePasswordBody),
      responses: {
        200: doc(Ok),
        400: errors[400],
        401: errors[401],
      },
    }),
    async (c) => {
      const { current_password, new_password } = c.req.valid("json");
      const user = await deps.store.getUser(c.get("scope").userId);
      if (!user || !(await verifyPassword(current_password, user.passwordHash))) {
        throw new ApiError(401, "invalid_credentials", "current_password is wrong");
      }
      if (current_password === new_password) {
        throw new ApiError(400, "invalid_body", "new_password: must differ from the current one");
      }
      await deps.store.updateUser(user.id, {
        passwordHash: await hashPassword(new_password),
        mustChangePassword: false,
      });
      // The new password hash ends every session of this user, this one included (its
      // fingerprint no longer matches); revoking this one too keeps the intent explicit.
      await deps.store.revokeToken(c.get("jti"), c.get("exp") * 1000);
      return c.json({ ok: true }, 200);
    },
  );
};
