/**
 * Constant-time comparison. The loop always runs over the longer input and never exits
 * early, so the time taken says nothing about where, or whether, the inputs differ.
 */

/** True when `a` and `b` hold the same bytes. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  const length = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  for (let i = 0; i < length; i++) {
    // `| 0` maps a read past the end (undefined) to 0 without a branch
    diff |= (a[i] | 0) ^ (b[i] | 0);
  }
  return diff === 0;
}

const encoder = new TextEncoder();

/** timingSafeEqual over the UTF-8 bytes of two strings (tokens, passwords, API keys). */
export function timingSafeEqualText(a: string, b: string): boolean {
  return timingSafeEqual(encoder.encode(a), encoder.encode(b));
}
