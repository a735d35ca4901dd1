/** The one error shape of the API: `{"error": {"code", "message"}}` with the right status. */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "@hono/zod-openapi";

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

/**
 * A config's parse error named from the body's root: a ZodError's issues as `config.url: ...`,
 * and an adapter's `<type> config: url: ...; headers.x: ...` as `config.url: ...; config.headers.x`.
 */
export function describeConfigError(e: unknown): string {
  if (e instanceof z.ZodError) return describeZodError(e, "config");
  const text = e instanceof Error ? e.message : String(e);
  const m = text.match(/^[\w-]+ config: ([\s\S]*)$/);
  if (!m) return `config: ${text}`;
  return m[1].split("; ").map((part) =>
    part.startsWith("(config)") ? `config${part.slice(8)}` : `config.${part}`
  ).join("; ");
}
