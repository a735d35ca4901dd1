/**
 * What routing reads from an event, and how a condition's `field` maps onto it. The pipeline's
 * PipelineEvent extends this shape.
 */
import { getPath, parsePath } from "./json_path.ts";

export interface RoutingEvent {
  id: string;
  tenant: string;
  routeId: string | null;
  source: string;
  receivedAt: number;
  method: string;
  path: string;
  /** Parsed query string; a repeated parameter becomes an array. */
  query: Record<string, string | string[]>;
  ip: string;
  /** Lower-cased names. */
  headers: Record<string, string>;
  /** Parsed JSON (or form/XML object), or the text for other content types. */
  body: unknown;
  meta: Record<string, unknown>;
  /** The bytes as received, when known; `body_contains` searches these. */
  rawBody?: Uint8Array;
}

export type FieldGetter = (event: RoutingEvent, item?: unknown) => unknown;

/**
 * Compiles a field reference (`body.order.total`, `headers.X-GitHub-Event`, `query.page`, `ip`,
 * ...) into a getter. Header names are matched case-insensitively; `item` is the array element
 * inside the `filter` operation.
 */
export function compileField(field: string): FieldGetter {
  const dot = field.indexOf(".");
  const root = dot < 0 ? field : field.slice(0, dot);
  const rest = dot < 0 ? "" : field.slice(dot + 1);
  switch (root) {
    case "id":
      return (e) => e.id;
    case "tenant":
      return (e) => e.tenant;
    case "route_id":
      return (e) => e.routeId ?? undefined;
    case "source":
      return (e) => e.source;
    case "method":
      return (e) => e.method;
    case "path":
      return (e) => e.path;
    case "ip":
      return (e) => e.ip;
    case "received_at":
      return (e) => e.receivedAt;
    case "headers": {
      if (!rest) return (e) => e.headers;
      const name = rest.toLowerCase();
      return (e) => e.headers[name];
    }
    case "query":
      if (!rest) return (e) => e.query;
      return (e) => Object.hasOwn(e.query, rest) ? e.query[rest] : undefined;
    case "body": {
      const segs = parsePath(rest);
      return (e) => getPath(e.body, segs);
    }
    case "meta": {
      const segs = parsePath(rest);
      return (e) => getPath(e.meta, segs);
    }
    case "item": {
      const segs = parsePath(rest);
      return (_e, item) => getPath(item, segs);
    }
  }
  throw new Error(`unknown field "${field}"`);
}

const decoded = new WeakMap<RoutingEvent, string>();

/** The body as text, decoded once per event; JSON-encoded when the raw bytes are unknown. */
export function bodyText(event: RoutingEvent): string {
  let text = decoded.get(event);
  if (text === undefined) {
    if (event.rawBody) text = new TextDecoder().decode(event.rawBody);
    else if (typeof event.body === "string") text = event.body;
    else text = event.body === undefined ? "" : JSON.stringify(event.body);
    decoded.set(event, text);
  }
  return text;
}
