/**
 * Seals secrets at rest with AES-256-GCM. A sealed value is self-describing text,
 * `sealed:v1:<base64url(iv | ciphertext+tag)>`, so it fits any JSON config field and a
 * future format can sit next to it under another version tag.
 */
import type { Sealer } from "../ports.ts";
import { decodeBase64, decodeHex, encodeBase64Url } from "./encoding.ts";

export const SEALED_PREFIX = "sealed:v1:";

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** True when `value` carries the sealed-value prefix; says nothing about which key sealed it. */
export function isSealedValue(value: string): boolean {
  return value.startsWith(SEALED_PREFIX);
}

/** A Sealer over one 32-byte key. The key is imported once, non-extractable. */
export function createSealer(keyBytes: Uint8Array): Sealer {
  if (keyBytes.length !== KEY_BYTES) {
    throw new RangeError(`encryption key must be ${KEY_BYTES} bytes, got ${keyBytes.length}`);
  }
  const key = crypto.subtle.importKey(
    "raw",
    keyBytes.slice(),
    { name: "AES-GCM" },
    false,
    ["encrypt", "decrypt"],
  );
  const encoder = new TextEncoder();
  const decoder = new TextDecoder("utf-8", { fatal: true });

  return {
    isSealed: isSealedValue,

    async seal(plain: string): Promise<string> {
      // a fresh random IV per seal: GCM must never reuse an IV under one key
      const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
      const cipher = new Uint8Array(
        await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await key, encoder.encode(plain)),
      );
      const packed = new Uint8Array(IV_BYTES + cipher.length);
      packed.set(iv);
      packed.set(cipher, IV_BYTES);
      return SEALED_PREFIX + encodeBase64Url(packed);
    },

    async open(sealed: string): Promise<string> {
      if (!isSealedValue(sealed)) {
        throw new Error(`cannot open value: it does not start with "${SEALED_PREFIX}"`);
      }
      const packed = decodeBase64(sealed.slice(SEALED_PREFIX.length));
      if (packed === null || packed.length < IV_BYTES + TAG_BYTES) {
        throw new Error("cannot open sealed value: malformed payload");
      }
      let plain: ArrayBuffer;
      try {
        plain = await crypto.subtle.decrypt(
          { name: "AES-GCM", iv: packed.subarray(0, IV_BYTES) },
          await key,
          packed.subarray(IV_BYTES),
        );
      } catch {
        // GCM cannot tell the two apart: the tag check fails either way
        throw new Error("cannot open sealed value: wrong encryption key or tampered value");
      }
      return decoder.decode(plain);
    },
  };
}

/**
 * The 32 key bytes from 64 hex characters or base64 (either alphabet) of 32 bytes. The error
 * describes the input's shape, never its content, because the input is the key itself.
 */
export function parseEncryptionKey(text: string): Uint8Array {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return decodeHex(trimmed)!;
  const bytes = decodeBase64(trimmed);
  if (bytes !== null && bytes.length === KEY_BYTES) return bytes;
  const decoded = bytes === null ? "is neither hex nor base64" : `decodes to ${bytes.length} bytes`;
  throw new RangeError(
    `encryption key must be 64 hex characters or base64 of ${KEY_BYTES} bytes, ` +
      `got ${trimmed.length} characters that ${decoded}`,
  );
}
