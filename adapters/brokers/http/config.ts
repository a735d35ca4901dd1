/** Destination config of type `http`: a webhook endpoint signed the Standard Webhooks way. */
import { z } from "zod";
import { decodeBase64, encodeBase64 } from "../../../core/crypto/encoding.ts";
import { parseConfigWith } from "../errors.ts";

/** A header name as RFC 9110 allows it (a token). */
export const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Headers the publisher sets itself (or the HTTP stack does); config may not override them. */
export const RESERVED_HEADERS = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "proxy-authorization",
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
]);

const WHSEC = "whsec_";

export const httpConfigSchema = z.strictObject({
  /**
   * Where to send: an http:// or https:// URL. `user:password@` in it is sent as Basic
   * authorization (as curl does; a configured Authorization header wins, as curl's -H does),
   * and sealed at rest like every URL with a password.
   */
  url: z.string().refine((u) => {
    try {
      const p = new URL(u).protocol;
      return p === "http:" || p === "https:";
    } catch {
      return false;
    }
  }, "expected an http:// or https:// URL"),
  method: z.string().transform((m) => m.toUpperCase()).pipe(z.enum(["POST", "PUT", "PATCH"]))
    .default("POST"),
  /** Static headers added to every request (they override the event's own headers). */
  headers: z.record(z.string(), z.string()).superRefine((headers, ctx) => {
    for (const [name, value] of Object.entries(headers)) {
      const issue = (message: string) => ctx.addIssue({ code: "custom", path: [name], message });
      if (!TOKEN.test(name)) issue("not a valid header name");
      else if (RESERVED_HEADERS.has(name.toLowerCase())) {
        issue("this header is set by the publisher");
      } else if (/[\r\n\0]/.test(value)) issue("header values cannot hold CR, LF or NUL");
      else if (value.length > 8192) issue("header value longer than 8192 characters");
    }
  }).default({}),
  /**
   * Signing secret. `whsec_<base64>` is a Standard Webhooks secret: the key is the decoded
   * bytes. Any other string is used as the HMAC key as its UTF-8 bytes (receivers using the
   * standardwebhooks libraries then pass those bytes with `{ format: "raw" }`).
   */
  secret: z.string().min(1).max(1024).refine(
    (s) => !s.startsWith(WHSEC) || (decodeBase64(s.slice(WHSEC.length))?.length ?? 0) > 0,
    "a whsec_ secret must be base64 after the prefix",
  ).optional(),
  /** Per-request timeout, headers and response excerpt included. */
  timeout_ms: z.number().int().min(1).max(300_000).default(15_000),
  /** Requests of one batch in flight at once. */
  concurrency: z.number().int().min(1).max(64).default(8),
});

/** The `Authorization: Basic` value for a URL's `user:password@`, or null when it has none. */
export function urlCredentials(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (!u.username && !u.password) return null;
  const pair = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
  return `Basic ${encodeBase64(new TextEncoder().encode(pair))}`;
}

export type HttpConfig = z.output<typeof httpConfigSchema>;

export function parseHttpConfig(input: unknown): HttpConfig {
  return parseConfigWith("http", httpConfigSchema, input);
}

/** The HMAC key bytes of a configured secret (see `secret` above). */
export function secretKeyBytes(secret: string): Uint8Array<ArrayBuffer> {
  if (secret.startsWith(WHSEC)) {
    const key = decodeBase64(secret.slice(WHSEC.length));
    if (key && key.length > 0) return key;
    throw new Error("http config: secret: a whsec_ secret must be base64 after the prefix");
  }
  return new TextEncoder().encode(secret);
}
