/**
 * Retry timing. The schedule gives the delay before each retry (default: immediately, 5 s,
 * 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: eight attempts). Full jitter within each step: the
 * delay is drawn uniformly between the previous step and this one, so retries of a burst
 * spread out yet never come earlier than the step before promised.
 */
export const DEFAULT_SCHEDULE_SECONDS = [0, 5, 300, 1800, 7200, 18000, 36000, 36000];

export interface RetryPolicy {
  maxAttempts: number;
  scheduleSeconds: number[];
}

export function retryPolicy(
  p?: { max_attempts?: number; schedule_seconds?: number[] },
): RetryPolicy {
  const scheduleSeconds = p?.schedule_seconds ?? DEFAULT_SCHEDULE_SECONDS;
  return { maxAttempts: p?.max_attempts ?? scheduleSeconds.length, scheduleSeconds };
}

/** Delay in ms before the attempt after `attemptsMade` attempts (1-based count so far). */
export function retryDelayMs(policy: RetryPolicy, attemptsMade: number, random = Math.random) {
  const s = policy.scheduleSeconds;
  const i = Math.min(attemptsMade, s.length - 1);
  const hi = s[i] * 1000;
  const lo = i > 0 ? Math.min(s[i - 1] * 1000, hi) : 0;
  return Math.round(lo + random() * (hi - lo));
}
