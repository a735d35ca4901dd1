/**
 * The durable position of a CalDAV/CardDAV trigger, per collection: the sync token (null
 * where the collection has no WebDAV sync), every member's ETag as last emitted (so an
 * invalid or expired token falls back to a full comparison that emits only real changes),
 * and `gen`, which grows each time the state is saved: it goes into the dedup keys, so a
 * poll redone after a crash repeats its keys (duplicates), while the same change happening
 * again later (an object deleted and restored byte for byte) is a new event.
 * `selector` records which collections the trigger was told to watch: a collection that
 * vanished only counts as deleted while the selection is the same.
 */
export interface CollectionState {
  token: string | null;
  gen: number;
  /** member href (relative to the collection when below it) -> ETag */
  etags: Record<string, string>;
}

export interface DavCursor {
  v: 1;
  selector: string;
  collections: Record<string, CollectionState>;
}

export function encodeDavCursor(c: DavCursor): string {
  return JSON.stringify(c);
}

export function decodeDavCursor(text: string | null): DavCursor | null {
  if (!text) return null;
  try {
    const c = JSON.parse(text);
    if (c?.v !== 1 || typeof c.selector !== "string" || typeof c.collections !== "object") {
      return null;
    }
    for (const s of Object.values(c.collections ?? {}) as CollectionState[]) {
      if (
        typeof s !== "object" || !Number.isSafeInteger(s.gen) || typeof s.etags !== "object" ||
        (s.token !== null && typeof s.token !== "string")
      ) return null;
    }
    return c as DavCursor;
  } catch {
    return null;
  }
}

/** `href` as stored: relative to `collection` when it lies below it. */
export function memberKey(collection: string, href: string): string {
  const abs = new URL(href, collection).href;
  return abs.startsWith(collection) ? abs.slice(collection.length) : abs;
}

/** The absolute URL of a stored member key. */
export function memberUrl(collection: string, key: string): string {
  return new URL(key, collection).href;
}
