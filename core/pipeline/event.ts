/** Envelope -> PipelineEvent: the body parsed by its content type, the query string parsed. */
import type { Envelope } from "../ports.ts";
import { parseForm, parseXml } from "./parse_body.ts";
import type { PipelineEvent } from "./types.ts";

const lenient = new TextDecoder();

/**
 * JSON (application/json, any +json) -> value; form (x-www-form-urlencoded) -> object; XML
 * (application/xml, text/xml, any +xml) -> object; anything else -> text. A body that fails to
 * parse stays text, so routing and the pipeline still see it. Without a content type, text
 * that looks like JSON is tried as JSON. An empty body is null.
 */
export function parseBody(bytes: Uint8Array, contentType: string | undefined): unknown {
  if (bytes.length === 0) return null;
  const text = lenient.decode(bytes);
  const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
  const tryParse = (fn: (t: string) => unknown) => {
    try {
      return fn(text);
    } catch {
      return text;
    }
  };
  if (type === "application/json" || type.endsWith("+json")) return tryParse(JSON.parse);
  if (type === "application/x-www-form-urlencoded") return parseForm(text);
  if (type === "application/xml" || type === "text/xml" || type.endsWith("+xml")) {
    return tryParse(parseXml);
  }
  if (type === "" && /^\s*[[{]/.test(text)) return tryParse(JSON.parse);
  return text;
}

/** "a=1&b=2&b=3" (or with a leading "?") -> {a: "1", b: ["2", "3"]}. */
export function parseQuery(query: string | Record<string, string | string[]> | undefined) {
  if (query === undefined) return {};
  if (typeof query !== "string") return query;
  return parseForm(query.startsWith("?") ? query.slice(1) : query);
}

export function toPipelineEvent(
  envelope: Envelope,
  meta: Record<string, unknown> = {},
): PipelineEvent {
  const m = { ...meta };
  if (envelope.dedupKey) m.dedup_key = envelope.dedupKey;
  return {
    id: envelope.id,
    tenant: envelope.tenant,
    routeId: envelope.routeId,
    source: envelope.source,
    receivedAt: envelope.receivedAt,
    method: envelope.method,
    path: envelope.path,
    query: parseQuery(envelope.query),
    ip: envelope.ip,
    headers: envelope.headers,
    body: parseBody(envelope.body, envelope.headers["content-type"]),
    meta: m,
    rawBody: envelope.body,
  };
}
