import { createId } from "@paralleldrive/cuid2";

export type IdPrefix = "user" | "route" | "dest" | "trigger" | "evt" | "dlv";

const BASE36 = "abcdefghijklmnopqrstuvwxyz0123456789";

/**
 * A CUID2-shaped id (a letter then 23 lowercase base-36 characters) drawn straight from the
 * CSPRNG: ~119 bits of randomness, nothing to enumerate, and no clock or host in it. The cuid2
 * library reaches the same properties by hashing with SHA3 in JavaScript, which measured
 * ~330 µs per id here: too slow for one event id and one delivery id per webhook.
 */
function fastCuid(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  let s = BASE36[bytes[0] % 26];
  // 252 = 7 * 36: values above are rejected to keep every character uniform.
  for (let i = 1; i < 24; i++) {
    let b = bytes[i];
    while (b >= 252) b = crypto.getRandomValues(new Uint8Array(1))[0];
    s += BASE36[b % 36];
  }
  return s;
}

/** A CUID2 with a type prefix, e.g. `route_clj3k8m2n0001abcd1234efgh`. Hot-path ids (events,
 * deliveries) use the CSPRNG form above; entity ids use the cuid2 library itself. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${prefix === "evt" || prefix === "dlv" ? fastCuid() : createId()}`;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** A webhook endpoint token: `wh_` + 24 URL-safe random characters (144 bits). */
export function newEndpointToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  let s = "wh_";
  for (const b of bytes) s += ALPHABET[b & 63];
  return s;
}
