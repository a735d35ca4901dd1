/**
 * Stripe: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`, HMAC-SHA256 of
 * `<t>.<body>` under the endpoint secret (the whole `whsec_...` string is the key). During a
 * secret roll Stripe sends one v1 per active secret; any may match. Other schemes (v0) are
 * ignored, as Stripe's own libraries do.
 */
import { decodeHex } from "../crypto/encoding.ts";
import type { HeaderGetter } from "./headers.ts";
import { hmacMatches } from "./hmac_key.ts";
import { type PresetConfig, secretsOf } from "./signature_config.ts";
import { parseSignatureHeader } from "./signature_format.ts";
import { concatBytes } from "./signature_input.ts";
import { checkWindow, parseTimestamp } from "./timestamp.ts";
import { refuse, type VerifyInput, type VerifyResult } from "./types.ts";

const encoder = new TextEncoder();

export async function verifyStripe(
  config: PresetConfig,
  input: VerifyInput,
  header: HeaderGetter,
): Promise<VerifyResult> {
  const value = header("Stripe-Signature");
  if (value === null) return refuse("missing_header");
  const parsed = parseSignatureHeader("t=${timestamp},v1=${signature}", value);
  if (parsed === null) return refuse("malformed_header");
  const t = parsed.values.timestamp;
  const timestamp = parseTimestamp(t);
  if (timestamp === null) return refuse("malformed_header");
  const stale = checkWindow(timestamp, input.now, config.replay_window);
  if (stale !== null) return refuse(stale);

  const candidates = parsed.signatures.map(decodeHex).filter((s) => s !== null);
  if (candidates.length === 0) return refuse("malformed_header");
  const data = concatBytes(encoder.encode(`${t}.`), input.rawBody);
  const ok = await hmacMatches("SHA-256", secretsOf(config), data, candidates);
  return ok ? { ok: true, timestamp } : refuse("bad_signature");
}
