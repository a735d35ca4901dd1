/** What every verification scheme receives and returns. */

export interface VerifyInput {
  method: string;
  /** The full URL the sender called (the public one, as the sender saw it: Twilio signs it). */
  url: string;
  /** Request headers; a plain record may use any case for names. */
  headers: Headers | Record<string, string>;
  /** The body exactly as received: signatures are over these bytes, never over re-encoded text. */
  rawBody: Uint8Array;
  /** Current time in milliseconds since the epoch. */
  now: number;
}

/**
 * `reason` is a short machine code for logs and metrics, one of VerifyReason. It never carries
 * a secret, a signature or a header value, so it is safe to log and to count by.
 */
export type VerifyResult =
  /** `dedupBody`: SHA-256 (hex) of the signed body, when the config asks for `dedupe: "body"`. */
  | { ok: true; dedupId?: string; dedupBody?: string; timestamp?: number }
  | { ok: false; reason: VerifyReason };

export type VerifyReason =
  | "missing_header"
  | "malformed_header"
  | "bad_signature"
  | "bad_credentials"
  | "stale_timestamp"
  | "future_timestamp";

/** A refusal with its reason code. */
export function refuse(reason: VerifyReason): VerifyResult {
  return { ok: false, reason };
}
