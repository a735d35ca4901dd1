/** Timestamp parsing and the replay window shared by every scheme that signs a timestamp. */
import type { VerifyReason } from "./types.ts";

// Unix seconds stay below this until the year 5138; anything larger is milliseconds
const MILLIS_THRESHOLD = 1e11;

/** Milliseconds since the epoch from Unix seconds (or milliseconds) as digits, else null. */
export function parseTimestamp(text: string): number | null {
  const trimmed = text.trim();
  if (!/^\d{1,16}$/.test(trimmed)) return null;
  const value = Number(trimmed);
  return value >= MILLIS_THRESHOLD ? value : value * 1000;
}

/**
 * Null when `timestampMs` lies within `windowSeconds` of `nowMs` on either side, else why not.
 * The future side is refused too: a sender's clock far ahead would otherwise let a captured
 * request be replayed for longer than the window.
 */
export function checkWindow(
  timestampMs: number,
  nowMs: number,
  windowSeconds: number,
): VerifyReason | null {
  const skew = nowMs - timestampMs;
  if (skew > windowSeconds * 1000) return "stale_timestamp";
  if (skew < -windowSeconds * 1000) return "future_timestamp";
  return null;
}
