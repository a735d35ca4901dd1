/**
 * HMAC with keyed states cached per (hash, secret). @noble/hashes precomputes the inner and
 * outer padded-key states once per secret; each message then costs one clone plus the hash of
 * the body, synchronously (about 10 µs for 1 KiB here). Web Crypto's `sign` is asynchronous
 * and in Deno hops to a worker thread per call (about 135 µs measured), which cost a third of
 * webhook throughput on a 2-core machine. noble is audited, pure JavaScript, and runs on every
 * runtime the core targets. The cache is bounded; least-recently-used keys leave first.
 */
import { hmac as nobleHmac } from "@noble/hashes/hmac.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { sha1 } from "@noble/hashes/legacy.js";
import { timingSafeEqual } from "./timing_safe.ts";

export type HmacHash = "SHA-1" | "SHA-256" | "SHA-512";

const HASHES = { "SHA-1": sha1, "SHA-256": sha256, "SHA-512": sha512 } as const;
const MAX_KEYS = 1024;
type Keyed = ReturnType<typeof nobleHmac.create>;
const cache = new Map<string, Keyed>();
const encoder = new TextEncoder();

/** The HMAC of `data` under `secret` (UTF-8 text, or raw bytes for base64-encoded secrets). */
export function hmac(
  hash: HmacHash,
  secret: string | Uint8Array,
  data: Uint8Array,
): Promise<Uint8Array> {
  return Promise.resolve(keyed(hash, secret).clone().update(data).digest());
}

function keyed(hash: HmacHash, secret: string | Uint8Array): Keyed {
  // bytes and text get distinct cache keys so "abc" as text never aliases bytes 0x61 0x62 0x63
  const id = typeof secret === "string" ? `${hash}:t:${secret}` : `${hash}:b:${bytesId(secret)}`;
  const hit = cache.get(id);
  if (hit !== undefined) {
    cache.delete(id);
    cache.set(id, hit);
    return hit;
  }
  const raw = typeof secret === "string" ? encoder.encode(secret) : secret.slice();
  const k = nobleHmac.create(HASHES[hash], raw);
  cache.set(id, k);
  if (cache.size > MAX_KEYS) cache.delete(cache.keys().next().value!);
  return k;
}

function bytesId(bytes: Uint8Array): string {
  let id = "";
  for (let i = 0; i < bytes.length; i++) id += String.fromCharCode(bytes[i]);
  return id;
}

/**
 * True when any candidate signature equals the HMAC of `data` under any of `secrets`. One HMAC
 * per secret, compared in constant time against every candidate: rotation (several secrets)
 * and senders that send several signatures (Stripe, Standard Webhooks) both cost little.
 */
export async function hmacMatches(
  hash: HmacHash,
  secrets: readonly (string | Uint8Array)[],
  data: Uint8Array,
  candidates: readonly Uint8Array[],
): Promise<boolean> {
  const expected = await Promise.all(secrets.map((s) => hmac(hash, s, data)));
  let matched = false;
  for (const mac of expected) {
    for (const candidate of candidates) {
      // no early exit: every pair is compared whatever the outcome
      if (timingSafeEqual(mac, candidate)) matched = true;
    }
  }
  return matched;
}
