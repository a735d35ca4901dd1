/** The one error shape of the API: `{"error": {"code", "message"}}` with the right status. */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "@hono/zod-openapi";

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

export function sendError(c: Context, e: ApiError) {
  for (const [k, v] of Object.entries(e.headers)) c.header(k, v);
  return c.json(errorBody(e.code, e.message), e.status);
}

/** "name: Too small: expected string to have >=1 characters; config.url: Invalid URL" */
export function describeZodError(err: z.ZodError, prefix = ""): string {
  return err.issues.slice(0, 10).map((i) => {
    const path = [prefix, ...i.path.map(String)].filter(Boolean).join(".");
    return `${path || "(body)"}: ${i.message}`;
  }).join("; ");
}

export const notFound = (what: string, id: string) =>
  new ApiError(404, "not_found", `${what} ${id} not found`);
