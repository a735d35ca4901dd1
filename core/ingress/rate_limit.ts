/**
 * Token buckets keyed by string (a route id, a client ip, "global"). Each key holds `burst`
 * tokens and regains `rate` per second; a request takes one. A bucket that has refilled to
 * full is the same as no bucket, so idle buckets are dropped when the map grows past
 * `maxKeys`: memory stays bounded and nothing a limit depends on is forgotten. Only when
 * every bucket is busy are the least recently used ones dropped too, which lets those keys
 * start again from a full bucket: the price of a bound under a flood of distinct keys.
 */

export interface RateLimiterOptions {
  /** Tokens regained per second; may be fractional (0.5 = one request every 2 s). */
  rate: number;
  /** Bucket size: how many requests may arrive at once after a quiet spell. */
  burst: number;
  /** Clock in milliseconds, injectable for tests. */
  now?: () => number;
  /** How many keys to track before idle ones are dropped; default 10,000. */
  maxKeys?: number;
}

export type TakeResult = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface RateLimiter {
  /** Takes one token from `key`'s bucket; when empty, says when to retry (Retry-After). */
  take(key: string): TakeResult;
  /** Buckets currently held. */
  readonly size: number;
}

interface Bucket {
  tokens: number;
  at: number; // ms when `tokens` was last brought up to date
}

const OK: TakeResult = { ok: true };

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { rate, burst, now = Date.now, maxKeys = 10_000 } = options;
  if (!(rate > 0) || !Number.isFinite(rate)) {
    throw new RangeError(`rate must be a positive number of tokens per second, got ${rate}`);
  }
  if (!(burst >= 1) || !Number.isFinite(burst)) {
    throw new RangeError(`burst must be at least 1, got ${burst}`);
  }
  if (!Number.isInteger(maxKeys) || maxKeys < 1) {
    throw new RangeError(`maxKeys must be a positive integer, got ${maxKeys}`);
  }
  const perMs = rate / 1000;
  // how long an empty bucket takes to refill: after that, it is as good as absent
  const idleMs = burst / perMs;
  const buckets = new Map<string, Bucket>();

  const evict = (t: number) => {
    for (const [key, bucket] of buckets) {
      if (t - bucket.at >= idleMs) buckets.delete(key);
    }
    // still full of busy buckets: drop the least recently used down to 90%, so the next sweep
    // is thousands of requests away rather than on the very next new key
    const target = Math.floor(maxKeys * 0.9);
    for (const key of buckets.keys()) {
      if (buckets.size <= target) break;
      buckets.delete(key);
    }
  };

  return {
    get size() {
      return buckets.size;
    },

    take(key: string): TakeResult {
      const t = now();
      let bucket = buckets.get(key);
      if (bucket === undefined) {
        if (buckets.size >= maxKeys) evict(t);
        bucket = { tokens: burst, at: t };
      } else {
        // re-inserting keeps the map in least-recently-used order for eviction
        buckets.delete(key);
        bucket.tokens = Math.min(burst, bucket.tokens + Math.max(0, t - bucket.at) * perMs);
        bucket.at = t;
      }
      buckets.set(key, bucket);
      // the epsilon absorbs float drift, so a bucket refilled to exactly one token admits
      if (bucket.tokens >= 1 - 1e-9) {
        bucket.tokens = Math.max(0, bucket.tokens - 1);
        return OK;
      }
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / rate)) };
    },
  };
}
