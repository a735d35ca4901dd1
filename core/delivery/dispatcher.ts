/**
 * Claims due deliveries under a lease, publishes them in batches per destination and settles
 * each: delivered; retry at the destination's schedule (honouring Retry-After); dead after the
 * last attempt or at once on a permanent error, moving the work to the fallback destination
 * when the route named one. Open circuits are skipped at claim time so they cost nothing.
 */
import type { Clock, Delivery, Logger, Metrics, Outgoing, Settlement } from "../ports.ts";
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
}

export function createDispatcher(deps: DispatcherDeps) {
  const batchSize = deps.batchSize ?? 500;
  const leaseMs = deps.leaseMs ?? 60_000;
  const concurrency = deps.concurrency ?? 8;
  const publishTimeout = deps.publishTimeoutMs ?? 30_000;

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
    /** Publishes one claimed batch; resolves to how many deliveries it settled. */
    async runOnce(): Promise<number> {
      const now = deps.clock.now();
      const due = await deps.store.claimDue(
        now,
        batchSize,
        deps.owner,
        leaseMs,
        deps.breakers.blocked(now),
      );
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
