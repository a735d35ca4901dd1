import { createId } from "@paralleldrive/cuid2";

export type IdPrefix = "user" | "route" | "dest" | "trigger" | "evt" | "dlv";

const DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"; // ASCII order, so ids sort by time
const SPAN = 36 ** 8;

// Random bytes drawn 4 KiB at a time: one getRandomValues per ~200 ids instead of per id.
const pool = new Uint8Array(4096);
let poolAt = pool.length;
function randomByte(): number {
  if (poolAt === pool.length) {
    crypto.getRandomValues(pool);
    poolAt = 0;
  }
  return pool[poolAt++];
}

/** The letter and 8 digits of a millisecond; ids minted in the same one share it. */
let prefixAt = -1;
let prefix = "";
function timePrefix(now: number): string {
  if (now === prefixAt) return prefix;
  // "a" until 2059, then "b"...: still a letter first, still in time order.
  let time = "";
  for (let i = 0, t = now % SPAN; i < 8; i++, t = Math.floor(t / 36)) time = DIGITS[t % 36] + time;
  prefixAt = now;
  prefix = String.fromCharCode(97 + Math.floor(now / SPAN)) + time;
  return prefix;
}

/**
 * A CUID2-shaped id (a letter then 23 lowercase base-36 characters) for events and deliveries:
 * the creation time in milliseconds (the letter and 8 characters, in an order that sorts as
 * the time does), then 15 characters straight from the CSPRNG (~77 bits: nothing to guess).
 * Time first because these ids are the primary keys of the two tables every webhook writes:
 * random keys put each insert on its own B-tree page, so a commit wrote a WAL page per row;
 * ordered keys fill one page after another (measured: 111 -> 64 µs of SQLite time per event).
 * The cuid2 library itself hashes with SHA3 in JavaScript, ~330 µs per id here: too slow for
 * an event id and a delivery id per webhook.
 */
export function timeOrderedCuid(now: number = Date.now()): string {
  let s = timePrefix(now);
  // 252 = 7 * 36: values above are skipped to keep every character uniform.
  while (s.length < 24) {
    const b = randomByte();
    if (b < 252) s += DIGITS[b % 36];
  }
  return s;
}

/** A CUID2 with a type prefix, e.g. `route_clj3k8m2n0001abcd1234efgh`. Hot-path ids (events,
 * deliveries) use the time-ordered form above; entity ids use the cuid2 library itself. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${prefix === "evt" || prefix === "dlv" ? timeOrderedCuid() : createId()}`;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** A webhook endpoint token: `wh_` + 24 URL-safe random characters (144 bits). */
export function newEndpointToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  let s = "wh_";
  for (const b of bytes) s += ALPHABET[b & 63];
  return s;
}
