/**
 * A fast, synchronous 32-bit string hash (FNV-1a followed by murmur3's finalizer for
 * avalanche). Used where a decision must be deterministic per event id, such as the weighted
 * split; it is not a cryptographic hash.
 */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A number in [0, 1) derived from the text. */
export function unitHash(text: string): number {
  return hash32(text) / 0x1_0000_0000;
}
