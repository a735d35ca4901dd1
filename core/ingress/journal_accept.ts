/**
 * The durable accept through the ingest journal: a batch of fresh events (new ids, no sender
 * dedup key) is encoded, appended to the journal and fsynced, and that is the commit the 202
 * waits for. The store import follows asynchronously with the same bytes, merged with whatever
 * else the store is writing; its planned deliveries go straight to the dispatcher (`handoff`),
 * stored already leased to it, so nothing reads back the rows just written. A record leaves
 * the journal only once the store committed it; a crash before that imports it again at the
 * next start (`recover`), which the store's accept makes idempotent (event ids).
 *
 * Why: a journal append is one sequential write and one fdatasync, with no index to update,
 * so a request waits for the disk only; the store's inserts cost far more CPU and happen off
 * the request's path, in bigger transactions.
 */
import type {
  Clock,
  Envelope,
  Journal,
  JournalRef,
  Logger,
  Metrics,
  NewDelivery,
} from "../ports.ts";
import type { AcceptOptions, AcceptResult, Store } from "../store.ts";
import { createGroupCommitter } from "./group_commit.ts";
import { decodeEnvelopes, encodeEnvelopes } from "./envelope_codec.ts";

/** Who takes planned deliveries straight from the commit (the dispatcher's `offer`). */
export interface Handoff {
  offer(ds: readonly NewDelivery[], until: number, imported: Promise<boolean>): string[];
}

export interface JournalAcceptOptions {
  journal: Journal;
  store: Store;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  /** The dispatcher's owner name and claim lease, for deliveries handed over. */
  owner: string;
  leaseMs: number;
  handoff?: Handoff;
  /** After events reached the store: `handedOff` of their deliveries went to the dispatcher. */
  onImported?(events: Envelope[], handedOff: number): void;
  maxBatch?: number;
  /** Ms the newest append must have been on its way before another starts (default 2). */
  staggerMs?: number;
  /** Appends in flight at once (the journal's lanes; default 4). */
  concurrency?: number;
}

export interface JournalAccept {
  accept(events: Envelope[]): Promise<AcceptResult>;
  /** Imports what the journal kept from an earlier run; resolves to the number of events. */
  recover(): Promise<number>;
  /** Resolves once everything acknowledged before the call is in the store (or after
   * `timeoutMs`): reads of events wait for it, so a 202 is followed by a visible event. */
  imported(timeoutMs?: number): Promise<void>;
  /** Events waiting to be appended, and journal bytes not yet imported. */
  backlog(): { queuedEvents: number; journalBytes: number };
  /** Finishes appends and waits (at most `timeoutMs`) for the imports, then stops retrying
   * and closes the journal; what is left stays in it for the next start. */
  drain(timeoutMs?: number): Promise<void>;
}

/** Records imported at once by `recover`. */
const RECOVER_WINDOW = 32;

export function createJournalAccept(opts: JournalAcceptOptions): JournalAccept {
  const { journal, store, clock, log, metrics } = opts;
  let seq = 0;
  let stopped = false;
  const pending = new Set<number>();
  let waiters: { upTo: number; resolve(): void }[] = [];

  function done(n: number) {
    pending.delete(n);
    if (waiters.length === 0) return;
    let min = Infinity;
    for (const p of pending) if (p < min) min = p;
    waiters = waiters.filter((w) => (w.upTo < min ? (w.resolve(), false) : true));
  }

  /** Imports one record until it sticks; the first try may carry the handoff's lease. */
  async function importRecord(
    n: number,
    ref: JournalRef,
    events: Envelope[],
    bytes: Uint8Array,
    lease?: AcceptOptions["lease"],
  ): Promise<boolean> {
    const started = clock.now();
    try {
      await store.accept(events, { encoded: bytes, lease });
      metrics.observe("journal_import_seconds", (clock.now() - started) / 1000);
      journal.release(ref);
      done(n);
      opts.onImported?.(events, lease?.deliveryIds.length ?? 0);
      return true;
    } catch (e) {
      log.error("journal import failed; retrying (the events stay in the journal)", {
        events: events.length,
        error: String(e),
      });
      void retry(n, ref, events, bytes);
      return false;
    }
  }

  async function retry(n: number, ref: JournalRef, events: Envelope[], bytes: Uint8Array) {
    // Without the lease now: the dispatcher dropped its settle, the rows go in unclaimed.
    for (let wait = 100; !stopped; wait = Math.min(wait * 2, 5000)) {
      await new Promise((r) => setTimeout(r, wait));
      if (stopped) return; // the journal keeps it for the next start
      try {
        await store.accept(events, { encoded: bytes });
        journal.release(ref);
        done(n);
        opts.onImported?.(events, 0);
        return;
      } catch (e) {
        log.error("journal import failed again", { events: events.length, error: String(e) });
      }
    }
  }

  const committer = createGroupCommitter(async (events) => {
    const bytes = encodeEnvelopes(events);
    const started = clock.now();
    const ref = await journal.append(bytes);
    metrics.observe("journal_append_seconds", (clock.now() - started) / 1000);
    metrics.observe("journal_batch_events", events.length);
    const n = ++seq;
    pending.add(n);
    let lease: AcceptOptions["lease"];
    let importedNow: ((ok: boolean) => void) | undefined;
    const planned = opts.handoff ? events.flatMap((e) => e.planned?.deliveries ?? []) : [];
    if (planned.length) {
      const imported = new Promise<boolean>((r) => (importedNow = r));
      const until = clock.now() + opts.leaseMs;
      const ids = opts.handoff!.offer(planned, until, imported);
      if (ids.length) lease = { owner: opts.owner, until, deliveryIds: ids };
    }
    void importRecord(n, ref, events, bytes, lease).then((ok) => importedNow?.(ok));
    return { duplicates: new Map() };
  }, {
    maxBatch: opts.maxBatch ?? 1000,
    concurrency: opts.concurrency ?? 4,
    staggerMs: opts.staggerMs ?? 2,
  });

  return {
    accept: (events) => committer.accept(events),
    async recover() {
      let count = 0;
      // Several records at a time: the store commits the calls that meet in one transaction,
      // so a crash's leftovers cost a commit (an fsync) per window, not per record. One at a
      // time, 14,496 events took 6.5 s here.
      let window: Promise<void>[] = [];
      for await (const { ref, record } of journal.recovered()) {
        const events = decodeEnvelopes(record);
        count += events.length;
        window.push(
          store.accept(events, { encoded: record }).then(() => {
            journal.release(ref);
            opts.onImported?.(events, 0);
          }),
        );
        if (window.length >= RECOVER_WINDOW) (await Promise.all(window), window = []);
      }
      await Promise.all(window);
      return count;
    },
    imported(timeoutMs = 5000) {
      if (pending.size === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        waiters.push({
          upTo: seq,
          resolve: () => (clearTimeout(timer), resolve()),
        });
      });
    },
    backlog: () => ({ queuedEvents: committer.backlog(), journalBytes: journal.pendingBytes() }),
    async drain(timeoutMs = 10_000) {
      await committer.drain();
      const deadline = clock.now() + timeoutMs;
      while (pending.size && clock.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      stopped = true;
      // Deletes the segments that are all imported; the others wait for the next start.
      await journal.close();
    },
  };
}
