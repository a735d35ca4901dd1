/**
 * What is in a collection, through tsdav: the changes since a sync token (sync-collection,
 * RFC 6578), or the whole member list with ETags (an initial sync-collection, or PROPFIND
 * Depth 1 where there is no sync), and the objects' text (calendar-multiget /
 * addressbook-multiget).
 */
import { propfind, syncCollection } from "tsdav";
import { text } from "./discover.ts";
import { memberKey } from "./cursor.ts";

export interface Member {
  key: string;
  /** null: the member is gone (404 in a sync report) */
  etag: string | null;
}

export type SyncAnswer =
  | { ok: true; token: string; members: Member[] }
  | { ok: false; reason: string };

const PAGES = 100; // sync reports a server truncated (507) are followed this many times

function etagOf(props: Record<string, unknown> | undefined): string | null {
  return text(props?.getetag);
}

/** Changes since `token` ("" for every member). `ok: false` when the token is refused. */
export async function syncSince(
  fetchFn: typeof fetch,
  collection: string,
  token: string,
): Promise<SyncAnswer> {
  const members = new Map<string, Member>();
  let current = token;
  for (let page = 0; page < PAGES; page++) {
    const res = await syncCollection({
      url: collection,
      props: { "d:getetag": {} },
      syncLevel: 1,
      syncToken: current,
      fetch: fetchFn,
    });
    const first = res[0];
    if (res.length === 1 && first && !first.ok && first.props === undefined) {
      const raw = String(first.raw ?? "");
      // RFC 6578 3.2: an invalid or expired token is 403 (or 409) with DAV:valid-sync-token.
      if ((first.status === 403 || first.status === 409) && /valid-sync-token/.test(raw)) {
        return { ok: false, reason: `${first.status} valid-sync-token` };
      }
      throw new Error(
        `sync-collection on ${collection} answered ${first.status} ${first.statusText}`,
      );
    }
    const multistatus = (first?.raw as { multistatus?: { syncToken?: unknown } })?.multistatus;
    const next = text(multistatus?.syncToken);
    let truncated = false;
    for (const r of res) {
      if (!r.href) continue;
      const key = memberKey(collection, r.href);
      if (key === "" || key === "/") {
        // The collection itself: 507 means the server truncated the report (RFC 6578 3.6).
        if (r.status === 507) truncated = true;
        continue;
      }
      members.set(key, { key, etag: r.status === 404 ? null : etagOf(r.props) ?? "" });
    }
    if (!next) throw new Error(`sync-collection on ${collection} answered no sync-token`);
    current = next;
    if (!truncated) return { ok: true, token: current, members: [...members.values()] };
  }
  throw new Error(`sync-collection on ${collection} was still truncated after ${PAGES} pages`);
}

/** Every member and its ETag, by PROPFIND Depth 1 (for collections without sync). */
export async function listMembers(fetchFn: typeof fetch, collection: string): Promise<Member[]> {
  const res = await propfind({
    url: collection,
    props: { "d:getetag": {}, "d:resourcetype": {} },
    depth: "1",
    fetch: fetchFn,
  });
  if (res.length === 1 && !res[0].ok && res[0].props === undefined) {
    throw new Error(`PROPFIND on ${collection} answered ${res[0].status} ${res[0].statusText}`);
  }
  const out: Member[] = [];
  for (const r of res) {
    if (!r.href || !r.ok) continue;
    const key = memberKey(collection, r.href);
    if (
      key === "" || key === "/" || Object.keys(r.props?.resourcetype ?? {}).includes("collection")
    ) {
      continue;
    }
    out.push({ key, etag: etagOf(r.props) ?? "" });
  }
  return out;
}
