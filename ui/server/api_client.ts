/**
 * The pages read through the JSON API, in-process (`app.fetch`), with the session's token: the
 * same validation, tenant scoping and secret masking as any API client, written once.
 */
import type { Context } from "hono";

export interface FetchApp {
  fetch(req: Request, env?: unknown): Response | Promise<Response>;
}

export class ApiFailure extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export interface ApiClient {
  // deno-lint-ignore no-explicit-any
  get<T = any>(path: string): Promise<T>;
  // deno-lint-ignore no-explicit-any
  send<T = any>(method: string, path: string, body?: unknown): Promise<T>;
}

export function apiClient(app: FetchApp, c: Context, token: string | null): ApiClient {
  const base = new URL(c.req.url).origin;
  const call = async (method: string, path: string, body?: unknown) => {
    const headers: Record<string, string> = { accept: "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    const rid = c.res.headers.get("x-request-id") ?? c.req.header("x-request-id");
    if (rid) headers["x-request-id"] = rid;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await app.fetch(
      new Request(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
      c.env,
    );
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: reported below by status
    }
    if (!res.ok) {
      const e = (parsed as { error?: { code?: string; message?: string } })?.error;
      throw new ApiFailure(
        res.status,
        e?.code ?? "error",
        e?.message ?? `${method} ${path} answered ${res.status}`,
      );
    }
    return parsed;
  };
  return {
    // deno-lint-ignore no-explicit-any
    get: (path) => call("GET", path) as Promise<any>,
    // deno-lint-ignore no-explicit-any
    send: (method, path, body) => call(method, path, body) as Promise<any>,
  };
}
