/**
 * The soak's bookkeeping: what the load generator was told (each request's acknowledged event
 * id, or none) against what each destination received (event id -> deliveries). Pure, so the
 * rules are tested on their own (tests/unit/soak_accounting_test.ts).
 */

export interface RequestRecord {
  seq: number;
  /** When the open-loop schedule said to send it (ms, performance.now()). */
  scheduledAt: number;
  attempts: number;
  /** The event id of the first 2xx answer (202, or 200 for a duplicate of an earlier event). */
  eventId?: string;
  status?: number;
  /** From scheduledAt to the 2xx answer of the first attempt; unset if that attempt failed. */
  latencyMs?: number;
  /** The last failure: an HTTP status or a network error's name. */
  lastError?: string;
}

export interface DestinationAccount {
  /** Acknowledged events that arrived at least once. */
  delivered: number;
  /** Arrivals beyond the first, over acknowledged events. */
  duplicates: number;
  /** Acknowledged events that never arrived: must be 0. */
  lost: number;
  /** Events that arrived although no request was acknowledged with their id (an answer lost in a
   * crash after the commit, or a request the generator gave up on). */
  unacknowledged: number;
  /** A few lost event ids, to look up in the router's API. */
  lostSample: string[];
}

export interface Summary {
  requests: number;
  acked: number;
  /** Requests that never got a 2xx (refused while the node was down, timed out, 503). */
  notAcked: number;
  retried: number;
  /** Distinct event ids acknowledged (a retried request without a sender id may have two). */
  ackedEvents: number;
  latency: { p50: number; p99: number; p999: number; max: number; samples: number };
  destinations: Record<string, DestinationAccount>;
}

/** The q-quantile (0..1) of sorted values by the nearest-rank rule; NaN when empty. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function account(
  requests: RequestRecord[],
  /** Event ids the generator was answered with beyond the first (retries of a request). */
  extraAcks: string[],
  received: Record<string, Map<string, number>>,
): Summary {
  const acked = new Set<string>();
  let ackedRequests = 0, retried = 0;
  const lat: number[] = [];
  for (const r of requests) {
    if (r.attempts > 1) retried++;
    if (r.eventId) {
      ackedRequests++;
      acked.add(r.eventId);
    }
    if (r.latencyMs !== undefined) lat.push(r.latencyMs);
  }
  for (const id of extraAcks) acked.add(id);
  lat.sort((a, b) => a - b);
  const destinations: Record<string, DestinationAccount> = {};
  for (const [name, seen] of Object.entries(received)) {
    const d: DestinationAccount = {
      delivered: 0,
      duplicates: 0,
      lost: 0,
      unacknowledged: 0,
      lostSample: [],
    };
    for (const id of acked) {
      const n = seen.get(id) ?? 0;
      if (n === 0) {
        d.lost++;
        if (d.lostSample.length < 10) d.lostSample.push(id);
      } else {
        d.delivered++;
        d.duplicates += n - 1;
      }
    }
    for (const [id, n] of seen) {
      if (!acked.has(id)) {
        d.unacknowledged++;
        d.duplicates += n - 1;
      }
    }
    destinations[name] = d;
  }
  return {
    requests: requests.length,
    acked: ackedRequests,
    notAcked: requests.length - ackedRequests,
    retried,
    ackedEvents: acked.size,
    latency: {
      p50: quantile(lat, 0.5),
      p99: quantile(lat, 0.99),
      p999: quantile(lat, 0.999),
      max: lat.length ? lat[lat.length - 1] : NaN,
      samples: lat.length,
    },
    destinations,
  };
}
