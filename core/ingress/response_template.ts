/**
 * A route's `response`: what the webhook endpoint answers instead of the default 202, e.g. to
 * echo Slack's url_verification `challenge`. Templates only substitute values: `{{body.a.b}}`,
 * `{{body.items.0}}` (or `items[0]`), `{{headers.name}}`, `{{query.name}}`, `{{event_id}}`.
 * Nothing is evaluated, so a sender's data can never run as code.
 */
import { z } from "zod";
import { headerGetter } from "../verify/headers.ts";

const EXPRESSION = /\{\{\s*([^{}]*?)\s*\}\}/g;
const WHOLE_EXPRESSION = /^\{\{\s*([^{}]*?)\s*\}\}$/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// the runtime computes these; a template setting them would corrupt the response framing
const RESERVED_HEADERS = new Set([
  "connection",
  "content-length",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

export const responseTemplateSchema = z.strictObject({
  status: z.number().int().min(200).max(599).optional(),
  headers: z.record(z.string(), z.string().max(8192)).optional(),
  /** A text template, or a JSON value whose string leaves are templates. */
  body: z.json().optional(),
}).superRefine((v, ctx) => {
  for (const [name, value] of Object.entries(v.headers ?? {})) {
    if (!HEADER_NAME.test(name)) {
      ctx.addIssue({ code: "custom", path: ["headers", name], message: "must be a header name" });
    } else if (RESERVED_HEADERS.has(name.toLowerCase())) {
      ctx.addIssue({ code: "custom", path: ["headers", name], message: "is set by the server" });
    }
    checkTemplate(value, ["headers", name], ctx);
  }
  forEachString(v.body, [], (text, path) => checkTemplate(text, ["body", ...path], ctx));
});

export type ResponseTemplate = z.output<typeof responseTemplateSchema>;

export interface RenderContext {
  /** The request body parsed as JSON (or a parsed form), undefined when it is neither. */
  bodyJson: unknown;
  headers: Headers | Record<string, string>;
  query: URLSearchParams | Record<string, string>;
  eventId: string;
}

export interface RenderedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * The response for one request. A JSON leaf that is exactly one `{{...}}` keeps the value's
 * JSON type (a number stays a number); anything else is text. A missing value renders as
 * empty text (JSON null for a whole leaf). Content-Type defaults to text/plain for a text body
 * and application/json for a JSON body.
 */
export function renderResponse(tpl: ResponseTemplate, ctx: RenderContext): RenderedResponse {
  const lookup = lookupIn(ctx);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(tpl.headers ?? {})) {
    // header values from sender data lose CR, LF and other bytes that are invalid there
    headers[name] = renderText(value, lookup).replace(/[^\t\x20-\x7e\x80-\xff]/g, "");
  }
  let body = "";
  let type: string | undefined;
  if (typeof tpl.body === "string") {
    body = renderText(tpl.body, lookup);
    type = "text/plain; charset=utf-8";
  } else if (tpl.body !== undefined) {
    body = JSON.stringify(renderJson(tpl.body, lookup));
    type = "application/json";
  }
  const hasType = Object.keys(headers).some((n) => n.toLowerCase() === "content-type");
  if (type !== undefined && !hasType) headers["content-type"] = type;
  return { status: tpl.status ?? 200, headers, body };
}

type Lookup = (expression: string) => unknown;

function renderText(template: string, lookup: Lookup): string {
  return template.replace(EXPRESSION, (_, expression: string) => toText(lookup(expression)));
}

function renderJson(value: unknown, lookup: Lookup): unknown {
  if (typeof value === "string") {
    const whole = WHOLE_EXPRESSION.exec(value);
    return whole === null ? renderText(value, lookup) : lookup(whole[1]) ?? null;
  }
  if (Array.isArray(value)) return value.map((item) => renderJson(item, lookup));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = renderJson(item, lookup);
    return out;
  }
  return value;
}

function lookupIn(ctx: RenderContext): Lookup {
  const header = headerGetter(ctx.headers);
  const query = ctx.query;
  return (expression) => {
    if (expression === "event_id") return ctx.eventId;
    const [root, ...path] = segments(expression);
    if (root === "body") return walk(ctx.bodyJson, path);
    const name = path.join(".");
    if (root === "headers") return header(name) ?? undefined;
    if (root === "query") {
      const value = query instanceof URLSearchParams
        ? query.get(name)
        : Object.hasOwn(query, name)
        ? query[name]
        : null;
      return value ?? undefined;
    }
    return undefined;
  };
}

function walk(value: unknown, path: string[]): unknown {
  let node = value;
  for (const key of path) {
    // own properties only: `{{body.__proto__}}` must reach nothing
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function segments(expression: string): string[] {
  return expression.replace(/\[(\d+)\]/g, ".$1").split(".");
}

function toText(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

function checkTemplate(text: string, path: (string | number)[], ctx: z.RefinementCtx): void {
  for (const match of text.matchAll(EXPRESSION)) {
    const expression = match[1];
    const [root, ...rest] = segments(expression);
    const valid = expression === "event_id" ||
      (root === "body" && rest.every((s) => s !== "")) ||
      (root === "headers" && rest.length > 0 && HEADER_NAME.test(rest.join("."))) ||
      (root === "query" && rest.length > 0 && rest.join(".") !== "");
    if (!valid) {
      ctx.addIssue({
        code: "custom",
        path,
        message: `unknown template value {{${expression}}}; use body.<path>, headers.<name>, ` +
          "query.<name> or event_id",
      });
    }
  }
}

function forEachString(
  value: unknown,
  path: (string | number)[],
  visit: (text: string, path: (string | number)[]) => void,
): void {
  if (typeof value === "string") visit(value, path);
  else if (Array.isArray(value)) value.forEach((v, i) => forEachString(v, [...path, i], visit));
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) forEachString(v, [...path, k], visit);
  }
}
