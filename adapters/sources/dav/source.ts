/**
 * The polling core CalDAV and CardDAV share (the sync logic is the same; only the collection
 * kind, the multiget report and the parser differ). One poll, per watched collection:
 *
 * - with a sync token (sync-collection offered, `sync: "auto"`): the changes since it;
 * - a refused token (403/409 valid-sync-token: expired, or the server lost its history), no
 *   sync, or `sync: "etag"`: the whole member list, compared with the ETags of the cursor,
 *   so only what really changed is emitted;
 * - created and updated objects are fetched in multiget batches and parsed.
 *
 * Each change is one event (`action` created | updated | deleted). The collection's new
 * state (token, ETags) is saved only after its events are committed; the dedup key carries
 * the state's generation, so a poll redone after a crash yields duplicates, not new events.
 */
import type { PollResult, Source, SourceContext, SourceEvent } from "../../../core/ports.ts";
import { SourceTokens } from "../oauth2.ts";
import type { DavCommon } from "./config.ts";
import {
  type CollectionState,
  type DavCursor,
  decodeDavCursor,
  encodeDavCursor,
  memberUrl,
} from "./cursor.ts";
import { type Collection, DavDiscovery, type DavType, text } from "./discover.ts";
import { type DavAuth, davFetch } from "./http.ts";
import { listMembers, type Member, syncSince } from "./listing.ts";

export interface Parsed {
  object: Record<string, unknown> | null;
  uid: string | null;
  error?: string;
}

/** What differs between CalDAV and CardDAV. */
export interface DavKind {
  type: DavType;
  /** The multiget REPORT for `hrefs` (paths) of `collection`, with getetag and the data. */
  multiget(fetchFn: typeof fetch, collection: string, hrefs: string[]): Promise<
    { href?: string; status: number; props?: Record<string, unknown> }[]
  >;
  /** The props key of the object text in a multiget answer. */
  dataKey: string;
  parse(text: string): Parsed;
}

interface Change {
  action: "created" | "updated" | "deleted";
  key: string;
  etag: string;
}

const EMIT_BATCH = 50;
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;
const enc = new TextEncoder();

function diff(known: Record<string, string>, members: Member[]): Change[] {
  const out: Change[] = [];
  const seen = new Set<string>();
  for (const m of members) {
    if (m.etag === null) continue;
    seen.add(m.key);
    const prev = known[m.key];
    if (prev === undefined) out.push({ action: "created", key: m.key, etag: m.etag });
    else if (prev !== m.etag) out.push({ action: "updated", key: m.key, etag: m.etag });
  }
  for (const [key, etag] of Object.entries(known)) {
    if (!seen.has(key)) out.push({ action: "deleted", key, etag });
  }
  return out;
}

/** Changes a sync report names, measured against the known ETags. */
function fromReport(known: Record<string, string>, members: Member[]): Change[] {
  const out: Change[] = [];
  for (const m of members) {
    const prev = known[m.key];
    if (m.etag === null) {
      if (prev !== undefined) out.push({ action: "deleted", key: m.key, etag: prev });
    } else if (prev === undefined) out.push({ action: "created", key: m.key, etag: m.etag });
    else if (prev !== m.etag) out.push({ action: "updated", key: m.key, etag: m.etag });
  }
  return out;
}

export class DavSource<C extends DavCommon> implements Source {
  readonly #cfg: C;
  readonly #ctx: SourceContext;
  readonly #kind: DavKind;
  readonly #discovery: DavDiscovery;
  readonly #auth: DavAuth;
  readonly #selector: string;
  readonly #intervalMs: number;
  #failures = 0;

  constructor(cfg: C, ctx: SourceContext, kind: DavKind, select: string | undefined) {
    this.#cfg = cfg;
    this.#ctx = ctx;
    this.#kind = kind;
    this.#discovery = new DavDiscovery(kind.type, cfg.url, select);
    this.#selector = JSON.stringify([cfg.url, select ?? null]);
    this.#intervalMs = cfg.interval;
    this.#auth = cfg.oauth2
      ? { tokens: new SourceTokens(cfg.oauth2, ctx) }
      : cfg.token !== undefined
      ? { bearer: cfg.token }
      : cfg.password !== undefined
      ? { basic: { username: cfg.username!, password: cfg.password } }
      : {};
  }

  /** After a failure the next poll waits longer (doubling, up to 15 min or the interval). */
  nextRunAt(lastRunAt: number | null, now: number): number {
    if (lastRunAt === null) return now;
    const wait = this.#intervalMs * 2 ** Math.min(this.#failures, 10);
    return lastRunAt + Math.min(wait, Math.max(this.#intervalMs, 15 * 60_000));
  }

  async poll(signal: AbortSignal): Promise<PollResult> {
    const ctx = this.#ctx;
    ctx.report({ state: "polling" });
    try {
      const r = await this.#poll(signal);
      this.#failures = 0;
      ctx.report({ state: "idle", last_error: null });
      return r;
    } catch (e) {
      this.#failures++;
      this.#discovery.reset();
      const message = e instanceof Error ? e.message : String(e);
      ctx.report({ state: "error", last_error: message });
      throw e;
    }
  }

  async #poll(signal: AbortSignal): Promise<PollResult> {
    const fetchFn = davFetch(this.#ctx, this.#auth, {
      timeoutMs: this.#cfg.timeout_ms,
      maxAnswerBytes: MAX_ANSWER_BYTES,
      signal,
    });
    const result: PollResult = { emitted: 0, duplicates: 0, ids: [] };
    const saved = decodeDavCursor(await this.#ctx.cursor.get());
    const first = saved === null;
    const sameSelection = saved?.selector === this.#selector;
    const cursor: DavCursor = {
      v: 1,
      selector: this.#selector,
      collections: sameSelection ? { ...saved!.collections } : {},
    };
    const collections = await this.#discovery.collections(fetchFn);
    this.#ctx.report({ collections: collections.map((c) => c.name ?? c.url) });
    for (const c of collections) {
      if (signal.aborted) return result;
      const state = cursor.collections[c.url];
      const { changes, next } = await this.#changes(fetchFn, c, state, first);
      const fetched = await this.#emit(fetchFn, c, state?.gen ?? 0, changes, result, signal);
      if (signal.aborted) return result;
      for (const [key, etag] of fetched) {
        if (etag === null) delete next.etags[key];
        else next.etags[key] = etag;
      }
      if (!state || changes.length || next.token !== state.token) {
        cursor.collections[c.url] = next;
        await this.#ctx.cursor.set(encodeDavCursor(cursor));
      }
    }
    // A collection that is gone (deleted on the server) takes its objects with it.
    const present = new Set(collections.map((c) => c.url));
    for (const [url, state] of Object.entries(cursor.collections)) {
      if (present.has(url) || signal.aborted) continue;
      const gone: Change[] = Object.entries(state.etags).map(([key, etag]) => ({
        action: "deleted",
        key,
        etag,
      }));
      await this.#emit(fetchFn, { url, name: null, sync: false }, state.gen, gone, result, signal);
      delete cursor.collections[url];
      await this.#ctx.cursor.set(encodeDavCursor(cursor));
    }
    if (!sameSelection && saved !== null) await this.#ctx.cursor.set(encodeDavCursor(cursor));
    return result;
  }

  async #changes(
    fetchFn: typeof fetch,
    c: Collection,
    state: CollectionState | undefined,
    first: boolean,
  ): Promise<{ changes: Change[]; next: CollectionState }> {
    const useSync = c.sync && this.#cfg.sync === "auto";
    const gen = (state?.gen ?? 0) + 1;
    if (state && useSync && state.token) {
      const r = await syncSince(fetchFn, c.url, state.token);
      if (r.ok) {
        const changes = fromReport(state.etags, r.members);
        return { changes, next: { token: r.token, gen, etags: apply(state.etags, changes) } };
      }
      this.#ctx.log.warn("dav: sync token refused; comparing every ETag", {
        collection: c.url,
        reason: r.reason,
      });
    }
    // The whole member list: an initial sync gives it with a fresh token in one report.
    let token: string | null = null;
    let members: Member[];
    const full = useSync ? await syncSince(fetchFn, c.url, "") : null;
    if (full?.ok) {
      token = full.token;
      members = full.members.filter((m) => m.etag !== null);
    } else members = await listMembers(fetchFn, c.url);
    let changes: Change[];
    if (state) changes = diff(state.etags, members);
    else if (first && !this.#cfg.emit_existing) changes = [];
    else changes = members.map((m) => ({ action: "created", key: m.key, etag: m.etag! }));
    const etags = Object.fromEntries(members.map((m) => [m.key, m.etag!]));
    return { changes, next: { token, gen, etags } };
  }

  /** Emits `changes` in batches; answers the ETags the objects really had when fetched
   * (null: gone by then), which the saved state takes over. */
  async #emit(
    fetchFn: typeof fetch,
    c: Collection,
    gen: number,
    changes: Change[],
    result: PollResult,
    signal: AbortSignal,
  ): Promise<Map<string, string | null>> {
    const seen = new Map<string, string | null>();
    // Objects are fetched in multiget batches small enough to stay within the answer bound.
    const per = Math.max(
      1,
      Math.min(EMIT_BATCH, Math.floor(48 * 1024 * 1024 / this.#cfg.max_bytes)),
    );
    for (let i = 0; i < changes.length && !signal.aborted; i += per) {
      const batch = changes.slice(i, i + per);
      const data = await this.#fetchData(
        fetchFn,
        c.url,
        batch.filter((b) => b.action !== "deleted"),
      );
      const events: SourceEvent[] = [];
      for (let ch of batch) {
        const got = data.get(ch.key);
        if (ch.action !== "deleted" && got?.status === 404) {
          // Deleted between the listing and the fetch.
          seen.set(ch.key, null);
          if (ch.action === "created") continue;
          ch = { ...ch, action: "deleted" };
        } else if (got?.etag) seen.set(ch.key, got.etag);
        events.push(this.#event(c, gen, ch, got));
      }
      if (!events.length) continue;
      const r = await this.#ctx.emit(events);
      result.emitted += r.accepted;
      result.duplicates += r.duplicates;
      result.ids.push(...r.ids);
    }
    return seen;
  }

  async #fetchData(fetchFn: typeof fetch, collection: string, changes: Change[]) {
    const out = new Map<string, { status: number; etag: string | null; data: string | null }>();
    if (!changes.length) return out;
    const paths = changes.map((ch) => new URL(memberUrl(collection, ch.key)).pathname);
    const res = await this.#kind.multiget(fetchFn, collection, paths);
    for (const r of res) {
      if (!r.href) continue;
      const key = new URL(r.href, collection).href.slice(collection.length);
      out.set(key, {
        status: r.status,
        etag: text(r.props?.getetag),
        data: text(r.props?.[this.#kind.dataKey]),
      });
    }
    return out;
  }

  #event(
    c: Collection,
    gen: number,
    ch: Change,
    got: { status: number; etag: string | null; data: string | null } | undefined,
  ): SourceEvent {
    const href = memberUrl(c.url, ch.key);
    const body: Record<string, unknown> = {
      action: ch.action,
      href,
      etag: got?.etag ?? ch.etag,
      collection: { url: c.url, name: c.name },
      uid: null,
      object: null,
      raw: null,
    };
    if (ch.action !== "deleted") {
      const data = got?.data ?? null;
      if (data === null) {
        body.parse_error = `the server returned no data for this object (status ${
          got?.status ?? "none"
        })`;
      } else if (enc.encode(data).length > this.#cfg.max_bytes) {
        body.parse_error = `object is ${
          enc.encode(data).length
        } bytes, more than max_bytes ${this.#cfg.max_bytes}`;
      } else {
        const p = this.#kind.parse(data);
        body.uid = p.uid;
        body.object = p.object;
        body.raw = data;
        if (p.error) body.parse_error = p.error;
      }
    }
    return {
      body: enc.encode(JSON.stringify(body)),
      headers: {
        "content-type": "application/json",
        "x-dav-action": ch.action,
        "x-dav-href": href,
        "x-dav-etag": String(body.etag ?? ""),
        "x-dav-collection": c.url,
      },
      dedupKey: `${c.url}|${gen}|${ch.action}|${ch.key}|${ch.etag}`,
    };
  }
}

function apply(etags: Record<string, string>, changes: Change[]): Record<string, string> {
  const out = { ...etags };
  for (const ch of changes) {
    if (ch.action === "deleted") delete out[ch.key];
    else out[ch.key] = ch.etag;
  }
  return out;
}
