/**
 * Group commit: concurrent requests share one store transaction. A request's events join the
 * open batch; the batch is committed when the running commit finishes (or after `maxWaitMs`
 * when idle), so under load each commit carries every request that arrived while the previous
 * one was being written. Each caller's promise settles with its own part of the result.
 */
import type { Envelope } from "../ports.ts";
import type { AcceptResult } from "../store.ts";

interface Waiter {
  events: Envelope[];
  resolve(r: AcceptResult): void;
  reject(e: unknown): void;
}

export interface GroupCommitter {
  accept(events: Envelope[]): Promise<AcceptResult>;
  /** Resolves once everything queued so far is committed or failed. */
  drain(): Promise<void>;
  stats(): { commits: number; events: number };
  /** Events waiting for a commit or in the running one. */
  backlog(): number;
}

export function createGroupCommitter(
  commit: (events: Envelope[]) => Promise<AcceptResult>,
  opts: {
    maxBatch?: number;
    maxWaitMs?: number;
    /**
     * Commits in flight at once (default 1). Where a commit waits on a device more than on the
     * CPU (the journal's fdatasync into separate files), a second one may start while the
     * first is still on its way, so a request waits one commit, not one and a half.
     */
    concurrency?: number;
    /**
     * With `concurrency` above 1: a further commit starts only once the newest one started
     * has been on its way this long (default 0, at once). Each commit costs CPU (a write, an
     * fdatasync, the kernel's journal), so while the device answers fast one commit at a time
     * carries the most requests; when it is slow, the others open and a request still waits
     * about one commit.
     */
    staggerMs?: number;
    /** After each successful commit, with its events. */
    onCommitted?: (events: Envelope[]) => void;
  } = {},
): GroupCommitter {
  const maxBatch = opts.maxBatch ?? 1000;
  const maxWait = opts.maxWaitMs ?? 0;
  const concurrency = opts.concurrency ?? 1;
  const stagger = opts.staggerMs ?? 0;
  let queue: Waiter[] = [];
  let queued = 0;
  const running = new Set<Promise<void>>();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let staggerTimer: ReturnType<typeof setTimeout> | null = null;
  let lastStart = 0;
  let commits = 0, total = 0, inCommit = 0;

  function flush() {
    timer = null;
    if (running.size >= concurrency || queue.length === 0) return;
    if (stagger > 0) {
      const now = performance.now();
      const wait = running.size > 0 ? lastStart + stagger - now : 0;
      if (wait > 0) {
        staggerTimer ??= setTimeout(() => {
          staggerTimer = null;
          flush();
        }, wait);
        return;
      }
      lastStart = now;
    }
    const batch = queue;
    queue = [];
    queued = 0;
    const events = batch.flatMap((w) => w.events);
    inCommit += events.length;
    const p = (async () => {
      try {
        const r = await commit(events);
        commits++;
        total += events.length;
        for (const w of batch) {
          const duplicates = new Map<string, string>();
          for (const e of w.events) {
            const d = r.duplicates.get(e.id);
            if (d) duplicates.set(e.id, d);
          }
          w.resolve({ duplicates });
        }
        opts.onCommitted?.(events);
      } catch (e) {
        for (const w of batch) w.reject(e);
      }
    })();
    running.add(p);
    void p.then(() => {
      running.delete(p);
      inCommit -= events.length;
      if (queue.length) schedule(true);
    });
  }

  // With no wait configured the batch closes at the end of the current microtask run: a timer,
  // even of 0 ms, costs a millisecond or more of latency per commit when the node is idle.
  let microtask = false;
  function schedule(now: boolean) {
    if (timer || running.size >= concurrency || microtask) return;
    if (now || maxWait <= 0) {
      microtask = true;
      queueMicrotask(() => {
        microtask = false;
        flush();
      });
    } else timer = setTimeout(flush, maxWait);
  }

  return {
    accept(events) {
      return new Promise<AcceptResult>((resolve, reject) => {
        queue.push({ events, resolve, reject });
        queued += events.length;
        if (queued >= maxBatch && running.size < concurrency) {
          if (timer) clearTimeout(timer);
          timer = null;
          flush();
        } else schedule(false);
      });
    },
    async drain() {
      while (running.size || queue.length || timer || microtask || staggerTimer) {
        if (running.size) await Promise.all([...running]);
        else await new Promise((r) => setTimeout(r, 1));
      }
    },
    stats: () => ({ commits, events: total }),
    backlog: () => queued + inCommit,
  };
}
