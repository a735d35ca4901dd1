/**
 * Claims due deliveries under a lease, publishes them in batches per destination and settles
 * each: delivered; retry at the destination's schedule (honouring Retry-After); dead after the
 * last attempt or at once on a permanent error, moving the work to the fallback destination
 * when the route named one. Open circuits are skipped at claim time so they cost nothing.
 *
 * Fresh deliveries can also be handed over straight from the ingest commit (`offer`): they are
 * stored already leased to this dispatcher, so it publishes them without a claim query reading
 * back the rows just written. Their settle waits until their import reached the store.
 */
import type {
  Clock,
  Delivery,
  Logger,
  Metrics,
  NewDelivery,
  Outgoing,
  Settlement,
} from "../ports.ts";
import type { Store } from "../store.ts";
import { newId } from "../model/ids.ts";
import { retryDelayMs, retryPolicy } from "./backoff.ts";
import type { CircuitBreakers } from "./circuit_breaker.ts";
import { PublisherConfigError, type PublisherPool } from "./publisher_pool.ts";

export interface DispatcherDeps {
  store: Store;
  pool: PublisherPool;
  breakers: CircuitBreakers;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  owner: string;
  batchSize?: number;
  leaseMs?: number;
  /** Destinations published to at once. */
  concurrency?: number;
  /** Upper bound on one publish call, so a hung broker cannot hold a lease forever. */
  publishTimeoutMs?: number;
  signal?: AbortSignal;
  /** Offered deliveries held at most (beyond, an offer is declined and the store has them). */
  maxOffered?: number;
  /** Called when an offer added work (wake the dispatch loops). */
  onOffered?: () => void;
}

interface Offered {
  d: Delivery;
  /** The end of the lease the import gave them. */
  until: number;
  /** True once the import committed; false if it failed (then the store has no row yet). */
  imported: Promise<boolean>;
}

export function createDispatcher(deps: DispatcherDeps) {
  const batchSize = deps.batchSize ?? 500;
  const leaseMs = deps.leaseMs ?? 60_000;
  const concurrency = deps.concurrency ?? 8;
  const publishTimeout = deps.publishTimeoutMs ?? 30_000;
  const maxOffered = deps.maxOffered ?? batchSize * 4;
  let offered: Offered[] = [];
  let lastClaim = 0;

  /** Up to `batchSize` offered deliveries whose lease still covers a whole publish. */
  function takeOffered(now: number): Offered[] {
    const out: Offered[] = [];
    let i = 0;
    for (; i < offered.length && out.length < batchSize; i++) {
      // One whose lease could run out mid-publish is left to expire and be claimed instead.
      if (offered[i].until - now > publishTimeout) out.push(offered[i]);
    }
    offered = offered.slice(i);
    return out;
  }

  async function publishGroup(destinationId: string, ds: Delivery[]): Promise<Settlement[]> {
    const started = deps.clock.now();
    let entry;
    try {
      entry = await deps.pool.get(destinationId);
    } catch (e) {
      const permanent = e instanceof PublisherConfigError;
      return ds.map((d) => decide(d, { ok: false, permanent, error: String(e) }, null));
    }
    if (!entry) {
      return ds.map((d) =>
        decide(d, { ok: false, permanent: true, error: "destination no longer exists" }, null)
      );
    }
    const policy = retryPolicy(entry.destination.retry);
    if (!entry.destination.active) {
      return ds.map((d) =>
        decide(d, { ok: false, permanent: false, error: "destination is inactive" }, policy)
      );
    }
    const signal = AbortSignal.any([
      AbortSignal.timeout(publishTimeout),
      ...(deps.signal ? [deps.signal] : []),
    ]);
    const batch: Outgoing[] = ds.map((d) => ({
      id: d.id,
      eventId: d.eventId,
      body: d.body,
      headers: d.headers,
      key: d.key,
      attempt: d.attempts,
    }));
    let results;
    try {
      if (!entry.connected) {
        await untilAborted(entry.publisher.connect(signal), signal);
        entry.connected = true;
      }
      results = await untilAborted(entry.publisher.publish(batch, signal), signal);
    } catch (e) {
      entry.connected = false;
      const error = signal.aborted && !deps.signal?.aborted
        ? `publish timed out after ${publishTimeout} ms`
        : String((e as Error)?.message ?? e);
      // An adapter may mark a thrown error permanent (bad credentials, missing exchange):
      // retrying the same config cannot succeed, so the delivery goes dead at once.
      const permanent = !signal.aborted && (e as { permanent?: unknown })?.permanent === true;
      results = batch.map(() => ({ ok: false as const, permanent, error }));
    }
    const took = deps.clock.now() - started;
    const anyOk = results.some((r) => r.ok);
    const allRetriable = results.every((r) => !r.ok && !r.permanent);
    if (anyOk) deps.breakers.success(destinationId);
    else if (allRetriable) deps.breakers.failure(destinationId, deps.clock.now());
    deps.metrics.observe("publish_batch_seconds", took / 1000, {
      type: entry.destination.type,
    });
    return ds.map((d, i) =>
      decide(d, results[i] ?? { ok: false, permanent: false, error: "no result" }, policy, took)
    );
  }

  function decide(
    d: Delivery,
    r: { ok: true } | { ok: false; permanent: boolean; error: string; retryAfterMs?: number },
    policy: ReturnType<typeof retryPolicy> | null,
    durationMs?: number,
  ): Settlement {
    const at = deps.clock.now();
    if (r.ok) {
      deps.metrics.inc("delivery_attempts_total", { outcome: "delivered" });
      // From the delivery's creation (its event processed) to its success, retries included.
      deps.metrics.observe("delivery_latency_seconds", Math.max(0, at - d.createdAt) / 1000);
      return { id: d.id, outcome: "delivered", at, durationMs };
    }
    const p = policy ?? retryPolicy();
    if (r.permanent || d.attempts >= p.maxAttempts) {
      deps.metrics.inc("delivery_attempts_total", { outcome: "dead" });
      return { id: d.id, outcome: "dead", at, error: r.error, durationMs };
    }
    const delay = Math.max(retryDelayMs(p, d.attempts), r.retryAfterMs ?? 0);
    deps.metrics.inc("delivery_attempts_total", { outcome: "retry" });
    return { id: d.id, outcome: "retry", at, nextAt: at + delay, error: r.error, durationMs };
  }

  return {
    /**
     * Takes fresh deliveries from the ingest commit, as many as fit, skipping destinations
     * whose circuit is open; answers the ids taken, which the caller stores leased to this
     * dispatcher until `until`. `imported` settles once they are in the store.
     */
    offer(ds: readonly NewDelivery[], until: number, imported: Promise<boolean>): string[] {
      const now = deps.clock.now();
      const ids: string[] = [];
      for (const d of ds) {
        if (offered.length >= maxOffered) break;
        if (deps.breakers.state(d.destinationId, now) !== "closed") continue;
        offered.push({
          d: {
            ...d,
            status: "pending",
            attempts: 1,
            lastError: null,
            createdAt: now,
            updatedAt: now,
          },
          until,
          imported,
        });
        ids.push(d.id);
      }
      if (ids.length) deps.onOffered?.();
      return ids;
    },
    /** Offered deliveries not yet taken by a run. */
    offered: () => offered.length,
    /** Publishes one batch (offered deliveries, else claimed ones); resolves to how many it
     * settled. While offers keep coming, a claim still runs every 200 ms, so retries and
     * work stored without an offer are not starved. */
    async runOnce(): Promise<number> {
      const now = deps.clock.now();
      const handed = takeOffered(now);
      let claimed: Delivery[] = [];
      if (handed.length < batchSize && (handed.length === 0 || now - lastClaim >= 200)) {
        lastClaim = now;
        claimed = await deps.store.claimDue(
          now,
          batchSize - handed.length,
          deps.owner,
          leaseMs,
          deps.breakers.blocked(now),
        );
      }
      const due = handed.length ? [...handed.map((o) => o.d), ...claimed] : claimed;
      if (due.length === 0) return 0;
      const groups = new Map<string, Delivery[]>();
      for (const d of due) {
        const g = groups.get(d.destinationId);
        if (g) g.push(d);
        else groups.set(d.destinationId, [d]);
      }
      const settlements: Settlement[] = [];
      const queue = [...groups];
      await Promise.all(
        Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
          for (let next = queue.shift(); next; next = queue.shift()) {
            settlements.push(...await publishGroup(next[0], next[1]));
          }
        }),
      );
      // Work that died on its primary moves to the route's fallback destination, in the
      // settle's own transaction and only where this node still held the lease.
      const byId = new Map(due.map((d) => [d.id, d]));
      for (const s of settlements) {
        const d = byId.get(s.id);
        if (s.outcome !== "dead" || !d?.fallbackDestinationId) continue;
        if (d.fallbackDestinationId === d.destinationId) continue;
        s.fallback = {
          id: newId("dlv"),
          eventId: d.eventId,
          tenant: d.tenant,
          routeId: d.routeId,
          destinationId: d.fallbackDestinationId,
          fallbackDestinationId: null,
          body: d.body,
          headers: d.headers,
          key: d.key,
          nextAt: deps.clock.now(),
        };
      }
      // An offered delivery's row may still be on its way into the store: its settle waits for
      // that, and is dropped if the import failed (the journal imports it again, unleased).
      if (handed.length) {
        const failed = new Set<string>();
        const imports = new Map<Promise<boolean>, string[]>();
        for (const o of handed) {
          const ids = imports.get(o.imported);
          if (ids) ids.push(o.d.id);
          else imports.set(o.imported, [o.d.id]);
        }
        for (const [p, ids] of imports) if (!(await p)) ids.forEach((id) => failed.add(id));
        if (failed.size) {
          await deps.store.settle(settlements.filter((s) => !failed.has(s.id)), deps.owner);
          return due.length;
        }
      }
      await deps.store.settle(settlements, deps.owner);
      return due.length;
    },
  };
}

/** Settles with `p`, or rejects once `signal` aborts: a publisher that ignores it cannot hang us. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
