/**
 * The browser session: the same JWT the API hands out, kept in an HttpOnly, SameSite=Strict
 * cookie (Secure over https) so page scripts never see it. A request authenticated by the
 * cookie that changes state must also come from this origin: SameSite=Strict already keeps
 * other sites' requests cookie-less, and the origin check covers browsers or proxies that
 * get SameSite wrong.
 */
import type { CookieOptions } from "hono/utils/cookie";

export const SESSION_COOKIE = "er_session";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export const isSafeMethod = (method: string) => SAFE_METHODS.has(method.toUpperCase());

/** https as the client sees it: the URL itself, or X-Forwarded-Proto from a trusted proxy. */
export function isHttps(req: Request, env: unknown): boolean {
  if (new URL(req.url).protocol === "https:") return true;
  const e = (env ?? {}) as { trustProxy?: boolean };
  return e.trustProxy === true &&
    req.headers.get("x-forwarded-proto")?.split(",")[0].trim() === "https";
}

export function sessionCookieOptions(
  req: Request,
  env: unknown,
  maxAgeSeconds: number,
): CookieOptions {
  return {
    httpOnly: true,
    sameSite: "Strict",
    secure: isHttps(req, env),
    path: "/",
    maxAge: Math.max(0, Math.floor(maxAgeSeconds)),
  };
}

/**
 * Whether a state-changing request comes from a page of this node. Browsers send
 * Sec-Fetch-Site and Origin on every POST/PUT/DELETE; a request with neither is refused, since
 * only a browser carries the cookie (other clients use a bearer token).
 */
export function sameOrigin(req: Request): boolean {
  const site = req.headers.get("sec-fetch-site");
  if (site) return site === "same-origin";
  const origin = req.headers.get("origin");
  if (!origin || origin === "null") return false;
  try {
    // The host only: behind a TLS-terminating proxy the node sees http:// for an https page.
    return new URL(origin).host === (req.headers.get("host") ?? new URL(req.url).host);
  } catch {
    return false;
  }
}
