/** Trigger config of type `polling`: an HTTP API fetched every `interval`, changes emitted. */
import { z } from "zod";
import { duration } from "../duration.ts";
import { oauth2ConfigSchema } from "../oauth2.ts";

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const httpUrl = z.string().max(4096).refine((u) => {
  try {
    const p = new URL(u).protocol;
    return p === "http:" || p === "https:";
  } catch {
    return false;
  }
}, "expected an http:// or https:// URL");

const headers = z.record(z.string(), z.string()).superRefine((h, ctx) => {
  const names = Object.keys(h);
  if (names.length > 50) ctx.addIssue({ code: "custom", message: "at most 50 headers" });
  for (const [name, value] of Object.entries(h)) {
    const issue = (message: string) => ctx.addIssue({ code: "custom", path: [name], message });
    if (!TOKEN.test(name)) issue("not a valid header name");
    else if (/^(host|content-length|transfer-encoding|connection)$/i.test(name)) {
      issue("this header is set by the HTTP client");
    } else if (/[\r\n\0]/.test(value)) issue("header values cannot hold CR, LF or NUL");
    else if (value.length > 8192) issue("header value longer than 8192 characters");
  }
});

/** JSONPath-like path into the response: "$.data", "$.result.items", "$" for the root. */
const path = z.string().min(1).max(200).regex(/^\$(\.|\[|$)/, 'must start with "$"');

export const pollingConfigSchema = z.strictObject({
  url: httpUrl,
  method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]).default("GET"),
  /** Sent with every request; `${oauth_token}` in a value is replaced by the OAuth2 token. */
  headers: headers.default({}),
  /** Request body: a string as is, anything else as JSON. */
  body: z.unknown().refine(
    (v) => v === undefined || (typeof v === "string" ? v : JSON.stringify(v)).length <= 1 << 20,
    "body larger than 1 MiB",
  ).optional(),
  /** How often to poll: "30s", "5m" (at least 1 s). */
  interval: duration(1000, 30 * 86_400_000).prefault("1m"),
  timeout_ms: z.number().int().min(100).max(300_000).default(30_000),
  /** Largest response body read; a larger one fails the poll. */
  max_bytes: z.number().int().min(1).max(64 << 20).default(10 << 20),
  auth: z.discriminatedUnion("type", [
    z.strictObject({ type: z.literal("bearer"), token: z.string().min(1).max(8192) }),
    z.strictObject({
      type: z.literal("basic"),
      username: z.string().max(1024),
      password: z.string().max(1024),
    }),
    z.strictObject({
      type: z.literal("api_key"),
      api_key: z.string().min(1).max(8192),
      /** Header that carries it (default X-API-Key), or a query parameter when `query` is set. */
      header: z.string().regex(TOKEN, "not a valid header name").optional(),
      query: z.string().min(1).max(100).optional(),
    }),
  ]).optional(),
  /** OAuth2: client credentials, or the refresh-token grant when `refresh_token` is set. */
  oauth2: oauth2ConfigSchema.optional(),
  /** What counts as a change worth an event. */
  change_detection: z.enum(["hash", "etag", "last_modified", "items", "none"]).default("hash"),
  /** For `items`: where the list is, each item's id, and optionally its version field. */
  items: z.strictObject({ path, id: path, updated: path.optional() }).optional(),
}).superRefine((c, ctx) => {
  if (c.change_detection === "items" && !c.items) {
    ctx.addIssue({
      code: "custom",
      path: ["items"],
      message: 'required when change_detection is "items"',
    });
  }
  if (c.change_detection !== "items" && c.items) {
    ctx.addIssue({
      code: "custom",
      path: ["items"],
      message: 'only used when change_detection is "items"',
    });
  }
  if (c.auth && c.oauth2) {
    ctx.addIssue({ code: "custom", path: ["auth"], message: "use either auth or oauth2" });
  }
});

export type PollingConfig = z.output<typeof pollingConfigSchema>;
