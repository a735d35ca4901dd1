/**
 * IMAP source (`type: "imap"`): every new message in one mailbox becomes one event.
 *
 * Live: `start` keeps one connection with the mailbox selected, IDLEs where the server offers
 * it (polls every `poll_interval` otherwise, and resyncs at that pace under IDLE too), and
 * reconnects with backoff when the server drops it. `poll` (POST /api/triggers/{id}/run)
 * runs one sync on a connection of its own. Syncs of one source never overlap.
 *
 * A sync fetches the UIDs above the cursor in batches: each batch is emitted (committed),
 * then marked \Seen / moved when asked, and only then does the cursor move past it. A crash
 * in between re-emits the batch, which the dedup key (mailbox, UIDVALIDITY, UID) turns into
 * duplicates, and retries the move.
 *
 * UIDVALIDITY change (the mailbox was recreated or restored and every UID means something
 * else): the source does not re-emit the mailbox. It emits only the messages whose arrival
 * time (INTERNALDATE) is later than the newest message it had emitted (or than its first
 * look, when it had emitted none), then follows the new UIDs. A message that arrived in the
 * same second as the last emitted one is taken as seen.
 */
import type { ImapFlow } from "imapflow";
import type {
  PollResult,
  Source,
  SourceContext,
  SourceEvent,
  SourceFactory,
} from "../../../core/ports.ts";
import { Backoff } from "../../brokers/errors.ts";
import { SourceTokens } from "../oauth2.ts";
import { Serial, sleep, Wakeup } from "../wake.ts";
import { type ImapConfig, imapConfigSchema, includes } from "./config.ts";
import { HEADER_BYTES, ImapAuthError, openImap } from "./connect.ts";
import { decodeImapCursor, encodeImapCursor, type ImapCursor } from "./cursor.ts";
import {
  type BodyOptions,
  headerOnlyEvent,
  mailEvent,
  type MessageMeta,
  type StructureNode,
} from "./message.ts";

const BATCH_COUNT = 50;
const BATCH_BYTES = 16 * 1024 * 1024;
const enc = new TextEncoder();

interface Meta extends MessageMeta {
  full: boolean;
}

function errorText(e: unknown): string {
  const err = e as { responseText?: string; message?: string };
  return err?.responseText || err?.message || String(e);
}

export class ImapSource implements Source {
  readonly #cfg: ImapConfig;
  readonly #ctx: SourceContext;
  readonly #tokens: SourceTokens | null;
  readonly #serial = new Serial();
  readonly #body: BodyOptions;
  readonly #pollMs: number;

  constructor(cfg: ImapConfig, ctx: SourceContext) {
    this.#cfg = cfg;
    this.#ctx = ctx;
    this.#tokens = cfg.oauth2 ? new SourceTokens(cfg.oauth2, ctx) : null;
    this.#body = { include: includes(cfg), attachments: cfg.attachments, maxBytes: cfg.max_bytes };
    this.#pollMs = cfg.poll_interval;
  }

  /** Runs until `signal` aborts: connect, sync, wait for mail, reconnect when dropped. */
  async start(signal: AbortSignal): Promise<void> {
    const ctx = this.#ctx;
    const backoff = new Backoff(1000, 60_000);
    const authBackoff = new Backoff(15_000, 300_000);
    ctx.report({ state: "starting", mailbox: this.#cfg.mailbox });
    while (!signal.aborted) {
      try {
        await this.#live(signal, () => {
          backoff.succeeded();
          authBackoff.succeeded();
        });
        if (!signal.aborted) ctx.report({ state: "reconnecting", last_error: "connection closed" });
      } catch (e) {
        if (signal.aborted) break;
        const auth = e instanceof ImapAuthError;
        const wait = (auth ? authBackoff : backoff).failed();
        const message = errorText(e);
        ctx.log.warn("imap source failed; reconnecting", { error: message, retry_ms: wait });
        ctx.report({ state: auth ? "error" : "reconnecting", last_error: message });
        await sleep(wait, signal);
        continue;
      }
      await sleep(backoff.failed(), signal);
    }
    ctx.report({ state: "stopped" });
  }

  /** One sync now, on its own connection. */
  async poll(signal: AbortSignal): Promise<PollResult> {
    const client = await openImap(this.#cfg, this.#ctx, this.#tokens, signal);
    try {
      await client.mailboxOpen(this.#cfg.mailbox, { readOnly: !this.#writes() });
      return await this.#serial.run(() => this.#sync(client, signal));
    } finally {
      await client.logout().catch(() => client.close());
    }
  }

  #writes(): boolean {
    return this.#cfg.mark_seen || this.#cfg.move_to !== undefined;
  }

  async #live(signal: AbortSignal, connected: () => void): Promise<void> {
    const ctx = this.#ctx;
    const client = await openImap(this.#cfg, ctx, this.#tokens, signal);
    const wake = new Wakeup();
    let closed = false;
    client.on("exists", () => wake.notify());
    client.on("close", () => {
      closed = true;
      wake.notify();
    });
    const onAbort = () => wake.notify();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const box = await client.mailboxOpen(this.#cfg.mailbox, { readOnly: !this.#writes() });
      const idle = client.capabilities.has("IDLE");
      connected();
      ctx.report({
        state: "connected",
        last_error: null,
        mailbox: box.path,
        uidvalidity: String(box.uidValidity),
        idle,
      });
      while (!signal.aborted && !closed) {
        await this.#serial.run(() => this.#sync(client, signal));
        if (signal.aborted || closed) break;
        ctx.report({ state: idle ? "idle" : "polling", last_error: null });
        // IDLE runs until the next command breaks it (the sync after a wake-up).
        if (idle) client.idle().catch(() => {});
        await wake.wait(this.#pollMs, signal);
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      if (closed) client.close();
      else await client.logout().catch(() => client.close());
    }
  }

  async #cursor(client: ImapFlow): Promise<ImapCursor> {
    const box = client.mailbox;
    if (!box) throw new Error("imap: no mailbox selected");
    const uidvalidity = String(box.uidValidity);
    const saved = decodeImapCursor(await this.#ctx.cursor.get());
    if (saved && saved.mailbox === this.#cfg.mailbox) return saved;
    // First look (or another mailbox now): the baseline is what is there already.
    const base: ImapCursor = {
      v: 1,
      mailbox: this.#cfg.mailbox,
      uidvalidity,
      uid: this.#cfg.emit_existing ? 0 : Math.max(0, box.uidNext - 1),
      after: this.#cfg.emit_existing ? 0 : this.#ctx.clock.now(),
    };
    await this.#ctx.cursor.set(encodeImapCursor(base));
    return base;
  }

  async #sync(client: ImapFlow, signal: AbortSignal): Promise<PollResult> {
    const result: PollResult = { emitted: 0, duplicates: 0, ids: [] };
    const cursor = await this.#cursor(client);
    const uidvalidity = String((client.mailbox || { uidValidity: 0n }).uidValidity);
    if (cursor.uidvalidity === uidvalidity) {
      const found = await client.search({ uid: `${cursor.uid + 1}:*` }, { uid: true }) || [];
      // "n:*" also answers the highest UID when it is below n.
      const uids = found.filter((u) => u > cursor.uid).sort((a, b) => a - b);
      await this.#process(client, uids, cursor, result, signal);
      return result;
    }
    const uids = await this.#resyncCandidates(client, cursor);
    const all = await client.search({ all: true }, { uid: true }) || [];
    const top = all.reduce((m, u) => Math.max(m, u), 0);
    this.#ctx.log.warn("imap: UIDVALIDITY changed; emitting only mail newer than the last", {
      mailbox: cursor.mailbox,
      from: cursor.uidvalidity,
      to: uidvalidity,
      after: new Date(cursor.after).toISOString(),
      candidates: uids.length,
    });
    // The cursor stays in the old epoch until every candidate is committed: a crash before
    // that redoes the resync (re-emitting duplicates), never takes old mail for new.
    const after = await this.#process(client, uids, null, result, signal);
    if (signal.aborted) return result;
    const next = { ...cursor, uidvalidity, uid: top, after: Math.max(cursor.after, after) };
    await this.#ctx.cursor.set(encodeImapCursor(next));
    this.#ctx.report({ uidvalidity, uid: top });
    return result;
  }

  /** After a UIDVALIDITY change: the UIDs of mail that arrived after `cursor.after`. */
  async #resyncCandidates(client: ImapFlow, cursor: ImapCursor): Promise<number[]> {
    // SEARCH SINCE has day granularity (and the server's time zone): look a day further
    // back, then compare INTERNALDATE exactly.
    const since = new Date(cursor.after - 86_400_000);
    const uids = await client.search({ since }, { uid: true }) || [];
    if (!uids.length) return [];
    const out: number[] = [];
    for await (const m of client.fetch(uids, { uid: true, internalDate: true }, { uid: true })) {
      const t = m.internalDate ? new Date(m.internalDate).getTime() : 0;
      if (t > cursor.after) out.push(m.uid);
    }
    return out.sort((a, b) => a - b);
  }

  /**
   * Emits `uids` (ascending) in batches bounded by count and bytes. Each batch is committed,
   * then marked/moved, then (when `cursor` is given) the cursor moves past it. Returns the
   * newest arrival time emitted.
   */
  async #process(
    client: ImapFlow,
    uids: number[],
    cursor: ImapCursor | null,
    result: PollResult,
    signal: AbortSignal,
  ): Promise<number> {
    let newest = 0;
    for (let i = 0; i < uids.length && !signal.aborted; i += BATCH_COUNT) {
      const chunk = uids.slice(i, i + BATCH_COUNT);
      const metas = await this.#metas(client, chunk);
      for (let j = 0; j < metas.length && !signal.aborted;) {
        let bytes = 0, n = j;
        do bytes += metas[n].full ? metas[n].size : HEADER_BYTES; while (
          ++n < metas.length && bytes + metas[n].size <= BATCH_BYTES
        );
        const batch = metas.slice(j, n);
        j = n;
        const r = await this.#ctx.emit(await this.#events(client, batch));
        result.emitted += r.accepted;
        result.duplicates += r.duplicates;
        result.ids.push(...r.ids);
        await this.#afterCommit(client, batch.map((m) => m.uid));
        for (const m of batch) newest = Math.max(newest, m.internalDate?.getTime() ?? 0);
        if (cursor) {
          // The last batch of a chunk also covers UIDs that vanished since the search.
          const upTo = j < metas.length ? batch[batch.length - 1].uid : chunk[chunk.length - 1];
          cursor = {
            ...cursor,
            uid: Math.max(cursor.uid, upTo),
            after: Math.max(cursor.after, newest),
          };
          await this.#ctx.cursor.set(encodeImapCursor(cursor));
          this.#ctx.report({ uid: cursor.uid });
        }
      }
      if (cursor && metas.length === 0 && !signal.aborted) {
        cursor = { ...cursor, uid: Math.max(cursor.uid, chunk[chunk.length - 1]) };
        await this.#ctx.cursor.set(encodeImapCursor(cursor));
      }
    }
    return newest;
  }

  async #metas(client: ImapFlow, uids: number[]): Promise<Meta[]> {
    const box = client.mailbox || null;
    const out: Meta[] = [];
    const q = { uid: true, size: true, internalDate: true, flags: true };
    for await (const m of client.fetch(uids, q, { uid: true })) {
      out.push({
        uid: m.uid,
        uidvalidity: String(box?.uidValidity ?? ""),
        mailbox: this.#cfg.mailbox,
        size: m.size ?? 0,
        internalDate: m.internalDate ? new Date(m.internalDate) : null,
        flags: [...(m.flags ?? [])],
        full: (m.size ?? 0) <= this.#cfg.max_bytes,
      });
    }
    return out.sort((a, b) => a.uid - b.uid);
  }

  async #events(client: ImapFlow, batch: Meta[]): Promise<SourceEvent[]> {
    const full = batch.filter((m) => m.full).map((m) => m.uid);
    const big = batch.filter((m) => !m.full).map((m) => m.uid);
    const raw = new Map<number, Uint8Array>();
    const heads = new Map<number, { head: Uint8Array; structure: StructureNode | null }>();
    if (full.length) {
      for await (const m of client.fetch(full, { uid: true, source: true }, { uid: true })) {
        if (m.source) raw.set(m.uid, new Uint8Array(m.source));
      }
    }
    if (big.length) {
      const q = { uid: true, bodyStructure: true, source: { maxLength: HEADER_BYTES } };
      for await (const m of client.fetch(big, q, { uid: true })) {
        heads.set(m.uid, {
          head: m.source ? new Uint8Array(m.source) : new Uint8Array(0),
          structure: (m.bodyStructure ?? null) as StructureNode | null,
        });
      }
    }
    const out: SourceEvent[] = [];
    for (const meta of batch) {
      let body: Record<string, unknown>;
      const source = raw.get(meta.uid);
      if (source) body = await mailEvent(meta, source, this.#body);
      else {
        const h = heads.get(meta.uid);
        const why = meta.full
          ? "the server returned no content for the message"
          : `message is ${meta.size} bytes, more than max_bytes ${this.#cfg.max_bytes}: ` +
            "only its headers and attachment list were read";
        body = await headerOnlyEvent(
          meta,
          h?.head ?? new Uint8Array(0),
          h?.structure ?? null,
          why,
          true,
        );
      }
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "x-imap-mailbox": meta.mailbox,
        "x-imap-uid": String(meta.uid),
        "x-imap-uidvalidity": meta.uidvalidity,
      };
      if (typeof body.message_id === "string") {
        headers["x-imap-message-id"] = body.message_id.slice(0, 998);
      }
      out.push({
        body: enc.encode(JSON.stringify(body)),
        headers,
        dedupKey: `${meta.mailbox}:${meta.uidvalidity}:${meta.uid}`,
      });
    }
    return out;
  }

  async #afterCommit(client: ImapFlow, uids: number[]): Promise<void> {
    if (!uids.length) return;
    if (this.#cfg.mark_seen) {
      const ok = await client.messageFlagsAdd(uids, ["\\Seen"], { uid: true });
      if (!ok) throw new Error(`imap: could not mark ${uids.length} message(s) \\Seen`);
    }
    if (this.#cfg.move_to !== undefined) {
      try {
        const r = await client.messageMove(uids, this.#cfg.move_to, { uid: true });
        if (!r) throw new Error("the server refused MOVE");
      } catch (e) {
        throw new Error(
          `imap: could not move ${uids.length} message(s) to ${this.#cfg.move_to}: ${errorText(e)}`,
        );
      }
    }
  }
}

export const imapSourceFactory: SourceFactory<ImapConfig> = {
  type: "imap",
  schema: imapConfigSchema as unknown as SourceFactory<ImapConfig>["schema"],
  parseConfig: (config) => imapConfigSchema.parse(config),
  create: (config, ctx) => new ImapSource(config, ctx),
};
