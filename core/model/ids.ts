import { createId } from "@paralleldrive/cuid2";

export type IdPrefix = "user" | "route" | "dest" | "trigger" | "evt" | "dlv";

/** A CUID2 with a type prefix, e.g. `route_clj3k8m2n0001abcd1234efgh`. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${createId()}`;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** A webhook endpoint token: `wh_` + 24 URL-safe random characters (144 bits). */
export function newEndpointToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  let s = "wh_";
  for (const b of bytes) s += ALPHABET[b & 63];
  return s;
}
