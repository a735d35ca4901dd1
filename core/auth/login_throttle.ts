/**
 * Slows down password guessing: after `freeFailures` failed logins from one address within the
 * window, each further attempt must wait an exponentially growing delay (429 + Retry-After).
 */
export interface LoginThrottle {
  check(key: string, now: number): { ok: true } | { ok: false; retryAfterSeconds: number };
  fail(key: string, now: number): void;
  succeed(key: string): void;
}

export function createLoginThrottle(
  opts: { freeFailures?: number; windowMs?: number; maxDelayMs?: number } = {},
): LoginThrottle {
  const free = opts.freeFailures ?? 5, windowMs = opts.windowMs ?? 15 * 60_000;
  const maxDelay = opts.maxDelayMs ?? 15 * 60_000;
  const state = new Map<string, { failures: number; first: number; blockedUntil: number }>();
  return {
    check(key, now) {
      const s = state.get(key);
      if (!s) return { ok: true };
      if (now - s.first > windowMs && now >= s.blockedUntil) {
        state.delete(key);
        return { ok: true };
      }
      if (now < s.blockedUntil) {
        return { ok: false, retryAfterSeconds: Math.ceil((s.blockedUntil - now) / 1000) };
      }
      return { ok: true };
    },
    fail(key, now) {
      const s = state.get(key) ?? { failures: 0, first: now, blockedUntil: 0 };
      s.failures++;
      if (s.failures >= free) {
        s.blockedUntil = now + Math.min(maxDelay, 1000 * 2 ** (s.failures - free));
      }
      state.set(key, s);
      if (state.size > 100_000) state.delete(state.keys().next().value!);
    },
    succeed(key) {
      state.delete(key);
    },
  };
}
