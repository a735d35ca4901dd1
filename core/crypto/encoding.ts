/**
 * Hex and base64 codecs over bytes, written against Web APIs only (atob/btoa) so the core
 * runs unchanged on Deno, Deno Deploy and Cloudflare Workers.
 */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Lower-case hex of `bytes`. */
export function encodeHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]];
  return out;
}

/** Bytes of a hex string (either case), or null when it is not hex of whole bytes. */
export function decodeHex(text: string): Uint8Array<ArrayBuffer> | null {
  if (text.length % 2 !== 0) return null;
  const out = new Uint8Array(text.length / 2);
  // char codes rather than parseInt over slices: this runs on every signed webhook
  for (let i = 0; i < out.length; i++) {
    const high = hexDigit(text.charCodeAt(i * 2));
    const low = hexDigit(text.charCodeAt(i * 2 + 1));
    if (high < 0 || low < 0) return null;
    out[i] = (high << 4) | low;
  }
  return out;
}

function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  if (code >= 65 && code <= 70) return code - 55; // A-F
  return -1;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Standard base64 with padding. */
export function encodeBase64(bytes: Uint8Array): string {
  // btoa takes a binary string; build it in chunks to stay clear of argument-count limits
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** URL-safe base64 without padding (RFC 4648 section 5). */
export function encodeBase64Url(bytes: Uint8Array): string {
  return encodeBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Bytes of base64 text in either alphabet (standard or URL-safe), padding optional, or null
 * when the text is not base64. Whitespace and
 * non-canonical endings are refused: signatures and keys never contain them.
 */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9+/\-_]*={0,2}$/.test(text)) return null;
  let normalized = text.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  const rest = normalized.length % 4;
  if (rest === 1) return null;
  // the last character's unused low bits must be zero: each byte string has one encoding, so
  // a changed character always means changed bytes
  if (rest !== 0) {
    const last = ALPHABET.indexOf(normalized[normalized.length - 1]);
    if ((last & (rest === 2 ? 0x0f : 0x03)) !== 0) return null;
  }
  normalized += "=".repeat((4 - (normalized.length % 4)) % 4);
  let binary: string;
  try {
    binary = atob(normalized);
  } catch {
    return null;
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
