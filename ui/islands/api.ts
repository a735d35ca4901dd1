/**
 * The islands' calls to the JSON API: same origin, the session cookie (the browser sends it;
 * page scripts never see it), JSON in and out. A failure carries the API's message and, when
 * it names fields ("config.url: Invalid URL; name: Required"), the message per field, so a
 * form can show each one next to its input.
 */
export interface ApiResult<T> {
  ok: boolean;
  status: number;
  data?: T;
  /** The whole readable message of a failure. */
  message?: string;
  /** Parts of the message by the body field they name first ("config", "name", ...). */
  fields?: Record<string, string>;
}

export function splitFieldErrors(message: string, known: readonly string[]) {
  const fields: Record<string, string> = {};
  const rest: string[] = [];
  for (const part of message.split("; ")) {
    const m = part.match(/^([A-Za-z_][\w]*)(?:[.\[][^:]*)?: /);
    if (m && known.includes(m[1])) {
      fields[m[1]] = fields[m[1]] ? `${fields[m[1]]}; ${part}` : part;
    } else rest.push(part);
  }
  return { fields, rest: rest.join("; ") };
}

// deno-lint-ignore no-explicit-any
export async function api<T = any>(
  method: string,
  path: string,
  body?: unknown,
  known: readonly string[] = [],
): Promise<ApiResult<T>> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined
        ? { accept: "application/json" }
        : { accept: "application/json", "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    return { ok: false, status: 0, message: `the node did not answer: ${(e as Error).message}` };
  }
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (res.ok) return { ok: true, status: res.status, data: data as T };
  const msg = (data as { error?: { message?: string } })?.error?.message ??
    `the request failed with status ${res.status}`;
  if (res.status === 401) {
    return { ok: false, status: 401, message: "your session ended: sign in again" };
  }
  const { fields, rest } = splitFieldErrors(msg, known);
  return { ok: false, status: res.status, message: rest || undefined, fields, data: undefined };
}

/** Parses a JSON editor's text; empty means "not set". */
export function parseJsonField(
  text: string,
  kind: "object" | "array" | "any",
): { value?: unknown; error?: string } {
  if (!text.trim()) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { error: `not valid JSON: ${(e as Error).message}` };
  }
  if (kind === "array" && !Array.isArray(v)) return { error: "must be a JSON array ([...])" };
  if (kind === "object" && (v === null || typeof v !== "object" || Array.isArray(v))) {
    return { error: "must be a JSON object ({...})" };
  }
  return { value: v };
}

export const pretty = (v: unknown) =>
  v === undefined || v === null ? "" : JSON.stringify(v, null, 2);
