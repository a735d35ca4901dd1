/**
 * References from operation and stage configs into the event being shaped. A plain path
 * (`order.total`, `items[*].sku`, `$` for the whole body) addresses the body; prefixes address
 * the rest:
 * - `$headers.<name>`: outgoing headers (names lower-cased, values strings);
 * - `$meta.<path>`: metadata carried with the event, not delivered;
 * - `$event.<path>`: the received event, read-only (`id`, `source`, `method`, `path`, `query`,
 *   `ip`, `headers`, `received_at`, `tenant`, `route_id`, `body`, `meta`);
 * - `$key`: the delivery's partition/ordering key.
 */
import {
  deletePath,
  expandPaths,
  formatPath,
  getAll,
  getPath,
  hasWildcard,
  parsePath,
  type Segment,
  setPath,
} from "../routing/json_path.ts";
import type { PipelineEvent } from "./types.ts";

/** The event being shaped by a pipeline. */
export interface Working {
  body: unknown;
  headers: Record<string, string>;
  meta: Record<string, unknown>;
  key?: string;
  event: PipelineEvent;
}

export interface Ref {
  readonly source: string;
  readonly wildcard: boolean;
  get(w: Working): unknown;
  set(w: Working, value: unknown): void;
  delete(w: Working): boolean;
  /**
   * Replaces the value(s) in place: each wildcard match, or the one value. `fn` sees only
   * values that exist.
   */
  update(w: Working, fn: (value: unknown) => unknown): void;
}

const views = new WeakMap<PipelineEvent, Record<string, unknown>>();

/** The read-only snake_case view of the received event used by `$event` and JSONata. */
export function eventView(e: PipelineEvent): Record<string, unknown> {
  let v = views.get(e);
  if (!v) {
    v = Object.freeze({
      id: e.id,
      tenant: e.tenant,
      route_id: e.routeId,
      source: e.source,
      received_at: e.receivedAt,
      method: e.method,
      path: e.path,
      query: e.query,
      ip: e.ip,
      headers: e.headers,
      body: e.body,
      meta: e.meta,
    });
    views.set(e, v);
  }
  return v;
}

export class RefError extends Error {
  constructor(path: string, reason: string) {
    super(`"${path}": ${reason}`);
    this.name = "RefError";
  }
}

function headerValue(v: unknown): string {
  return typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v);
}

export function compileRef(path: string): Ref {
  const [root, rest] = splitRoot(path);
  switch (root) {
    case "$headers": {
      if (rest === "") {
        return simple(path, (w) => w.headers, (w, v) => {
          if (typeof v !== "object" || v === null || Array.isArray(v)) {
            throw new RefError(path, "headers must be set to an object");
          }
          w.headers = Object.fromEntries(
            Object.entries(v).map(([k, x]) => [k.toLowerCase(), headerValue(x)]),
          );
        }, (w) => (w.headers = {}, true));
      }
      const name = rest.toLowerCase();
      return simple(path, (w) => w.headers[name], (w, v) => {
        if (v === undefined || v === null) delete w.headers[name];
        else w.headers[name] = headerValue(v);
      }, (w) => delete w.headers[name]);
    }
    case "$key":
      if (rest !== "") throw new RefError(path, "$key has no sub-path");
      return simple(path, (w) => w.key, (w, v) => {
        w.key = v === undefined || v === null ? undefined : headerValue(v);
      }, (w) => (w.key = undefined, true));
    case "$event": {
      const segs = parsePath(rest);
      const get = (w: Working) => getPath(eventView(w.event), segs);
      const ro = () => {
        throw new RefError(path, "$event is read-only; copy it to a body field first");
      };
      return {
        source: path,
        wildcard: hasWildcard(segs),
        get: hasWildcard(segs) ? (w) => getAll(eventView(w.event), segs) : get,
        set: ro,
        delete: ro,
        update: ro,
      };
    }
    case "$meta":
      return pathRef(path, parsePath(rest), (w) => w.meta, (w, v) => {
        w.meta = v as Record<string, unknown>;
      });
    default:
      return pathRef(path, parsePath(rest), (w) => w.body, (w, v) => (w.body = v));
  }
}

function splitRoot(path: string): [string, string] {
  for (const root of ["$headers", "$key", "$event", "$meta"]) {
    if (path === root) return [root, ""];
    if (path.startsWith(root + ".")) return [root, path.slice(root.length + 1)];
  }
  if (path.startsWith("$") && path !== "$" && !path.startsWith("$.") && !path.startsWith("$[")) {
    throw new RefError(path, "unknown root; use $headers, $meta, $event, $key or a body path");
  }
  return ["body", path.startsWith("$.") ? path.slice(2) : path === "$" ? "" : path];
}

function simple(
  source: string,
  get: (w: Working) => unknown,
  set: (w: Working, v: unknown) => void,
  del: (w: Working) => boolean,
): Ref {
  return {
    source,
    wildcard: false,
    get,
    set,
    delete: del,
    update(w, fn) {
      const v = get(w);
      if (v !== undefined) set(w, fn(v));
    },
  };
}

function pathRef(
  source: string,
  segs: Segment[],
  root: (w: Working) => unknown,
  setRoot: (w: Working, v: unknown) => void,
): Ref {
  const wildcard = hasWildcard(segs);
  const setAt = (w: Working, at: readonly Segment[], v: unknown) => {
    const next = setPath(root(w), at, v);
    if (next !== root(w)) setRoot(w, next);
  };
  return {
    source,
    wildcard,
    get: wildcard ? (w) => getAll(root(w), segs) : (w) => getPath(root(w), segs),
    set(w, v) {
      if (!wildcard) return setAt(w, segs, v);
      for (const at of expandPaths(root(w), segs)) setAt(w, at, v);
    },
    delete(w) {
      if (segs.length === 0) {
        setRoot(w, undefined);
        return true;
      }
      if (!wildcard) return deletePath(root(w), segs);
      // Delete from the end so array indexes of earlier matches stay valid.
      const all = expandPaths(root(w), segs).reverse();
      for (const at of all) deletePath(root(w), at);
      return all.length > 0;
    },
    update(w, fn) {
      const targets = wildcard ? expandPaths(root(w), segs) : [segs];
      for (const at of targets) {
        const v = getPath(root(w), at);
        if (v !== undefined) setAt(w, at, fn(v));
      }
    },
  };
}

export { formatPath };
