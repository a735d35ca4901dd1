/**
 * Size limits on the admin surface's request bodies (login, password change, every API body,
 * the pages' forms): 413 before reading past the limit (hono's bodyLimit: a Content-Length
 * over it is refused unread, a chunked body is cut off where it passes it). Route definitions
 * (JSON Schemas, JSONata, samples for the dry run) may be larger than the rest.
 */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { errorBody } from "./errors.ts";

export const ADMIN_BODY_MAX = 64 * 1024;
export const ROUTE_BODY_MAX = 1024 * 1024;

const limited = (maxSize: number) =>
  bodyLimit({
    maxSize,
    onError: (c) =>
      c.json(
        errorBody("payload_too_large", `the request body is over the limit of ${maxSize} bytes`),
        413,
      ),
  });

/** The limit for each admin path: routes get ROUTE_BODY_MAX, everything else ADMIN_BODY_MAX. */
export function adminBodyLimit(): MiddlewareHandler {
  const small = limited(ADMIN_BODY_MAX);
  const large = limited(ROUTE_BODY_MAX);
  return (c, next) =>
    (c.req.path === "/api/routes" || c.req.path.startsWith("/api/routes/") ? large : small)(
      c,
      next,
    );
}
