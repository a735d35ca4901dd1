/**
 * Change detection of the polling trigger: given the response and the durable cursor, which
 * events to emit and the cursor to store after they are committed. Every event's dedupKey is
 * derived from the cursor it advances from, so a poll repeated after a crash (events committed,
 * cursor not yet written) yields the same keys and the store answers them as duplicates.
 */
import type { SourceEvent } from "../../../core/ports.ts";
import { getPath, parsePath, type Segment } from "../../../core/routing/json_path.ts";
import type { PollingConfig } from "./config.ts";

export interface PollCursor {
  /** Changes emitted so far: part of each change's dedupKey, so A -> B -> A is three events. */
  seq: number;
  hash?: string;
  etag?: string;
  last_modified?: string;
  /** items: version (updated field or content hash) per item id seen in the last response. */
  items?: Record<string, string>;
}

/** Most item versions a cursor keeps (the ids of the latest response). */
export const MAX_ITEMS = 10_000;

export interface Fetched {
  status: number;
  body: Uint8Array;
  etag: string | null;
  lastModified: string | null;
  headers: Record<string, string>;
}

export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  return Array.from(h, (b) => b.toString(16).padStart(2, "0")).join("");
}

const segs = (p: string): Segment[] => parsePath(p.replace(/^\$\.?/, ""));

export async function detect(
  cfg: PollingConfig,
  cursor: PollCursor,
  res: Fetched,
): Promise<{ events: SourceEvent[]; next: PollCursor }> {
  const mode = cfg.change_detection;
  if (mode === "items") return await detectItems(cfg, cursor, res);
  const hash = await sha256Hex(res.body);
  const next: PollCursor = { ...cursor, hash };
  if (res.etag) next.etag = res.etag;
  if (res.lastModified) next.last_modified = res.lastModified;
  if (mode === "none") return { events: [{ body: res.body, headers: res.headers }], next };
  // etag / last_modified: the server answered 200 to a conditional request (or ignores it);
  // the validator, else the body hash, tells whether it really changed.
  const version = mode === "etag"
    ? res.etag ?? hash
    : mode === "last_modified"
    ? res.lastModified ?? hash
    : hash;
  const previous = mode === "etag"
    ? cursor.etag ?? cursor.hash
    : mode === "last_modified"
    ? cursor.last_modified ?? cursor.hash
    : cursor.hash;
  if (previous === version) return { events: [], next };
  next.seq = cursor.seq + 1;
  return {
    events: [{ body: res.body, headers: res.headers, dedupKey: `${mode}:${next.seq}:${version}` }],
    next,
  };
}

async function detectItems(cfg: PollingConfig, cursor: PollCursor, res: Fetched) {
  const spec = cfg.items!;
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(res.body));
  } catch (e) {
    throw new Error(`items: the response is not JSON: ${(e as Error).message}`);
  }
  const list = getPath(doc, segs(spec.path));
  if (!Array.isArray(list)) {
    throw new Error(`items: ${spec.path} is not an array in the response`);
  }
  const seen = cursor.items ?? {};
  const items: Record<string, string> = {};
  const events: SourceEvent[] = [];
  for (const item of list) {
    const rawId = getPath(item, segs(spec.id));
    if (rawId === undefined || rawId === null || typeof rawId === "object") {
      throw new Error(`items: an item has no scalar id at ${spec.id}`);
    }
    const id = String(rawId);
    const json = JSON.stringify(item);
    const updated = spec.updated ? getPath(item, segs(spec.updated)) : undefined;
    const version = updated !== undefined && updated !== null
      ? `u:${String(updated)}`
      : `h:${(await sha256Hex(json)).slice(0, 32)}`;
    if (Object.keys(items).length < MAX_ITEMS) items[id] = version;
    if (seen[id] === version) continue;
    events.push({
      body: new TextEncoder().encode(json),
      headers: {
        ...res.headers,
        "content-type": "application/json",
        "x-poll-item-id": id,
        "x-poll-item-change": id in seen ? "changed" : "new",
      },
      // An item's version is its identity: the same version of the same item is one event.
      dedupKey: `item:${id}:${version}`,
    });
  }
  return { events, next: { ...cursor, seq: cursor.seq + events.length, items } };
}
