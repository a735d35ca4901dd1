/**
 * Standard Webhooks (standardwebhooks.com, also Svix): headers webhook-id, webhook-timestamp
 * and webhook-signature, the last a space-separated list of `v1,<base64>` (several during key
 * rotation). The HMAC-SHA256 is over `<id>.<timestamp>.<body>` and the key is the base64 after
 * the `whsec_` prefix of the secret. The svix-* header names are accepted as well.
 */
import { decodeBase64 } from "../crypto/encoding.ts";
import type { HeaderGetter } from "./headers.ts";
import { hmacMatches } from "./hmac_key.ts";
import { type PresetConfig, secretsOf } from "./signature_config.ts";
import { concatBytes } from "./signature_input.ts";
import { checkWindow, parseTimestamp } from "./timestamp.ts";
import { refuse, type VerifyInput, type VerifyResult } from "./types.ts";

export const STANDARD_WEBHOOKS_ID_HEADER = "webhook-id";

const MAX_SIGNATURES = 16;
const encoder = new TextEncoder();

export async function verifyStandardWebhooks(
  config: PresetConfig,
  input: VerifyInput,
  header: HeaderGetter,
): Promise<VerifyResult> {
  const prefix = header("webhook-signature") !== null ? "webhook-" : "svix-";
  const id = header(prefix + "id");
  const t = header(prefix + "timestamp");
  const list = header(prefix + "signature");
  if (id === null || t === null || list === null) return refuse("missing_header");
  const timestamp = parseTimestamp(t);
  if (timestamp === null) return refuse("malformed_header");
  const stale = checkWindow(timestamp, input.now, config.replay_window);
  if (stale !== null) return refuse(stale);

  const candidates: Uint8Array[] = [];
  const entries = list.split(" ").filter((e) => e !== "");
  if (entries.length > MAX_SIGNATURES) return refuse("malformed_header");
  for (const entry of entries) {
    // other versions (v1a is asymmetric) are skipped, as the reference libraries do
    if (!entry.startsWith("v1,")) continue;
    const signature = decodeBase64(entry.slice(3));
    if (signature !== null) candidates.push(signature);
  }
  if (candidates.length === 0) return refuse("malformed_header");

  const keys = secretsOf(config).map(secretKey).filter((k) => k !== null);
  const data = concatBytes(encoder.encode(`${id}.${t.trim()}.`), input.rawBody);
  const ok = await hmacMatches("SHA-256", keys, data, candidates);
  return ok ? { ok: true, timestamp } : refuse("bad_signature");
}

/** The key bytes of a `whsec_<base64>` secret (prefix optional), or null when not base64. */
export function secretKey(secret: string): Uint8Array | null {
  return decodeBase64(secret.startsWith("whsec_") ? secret.slice(6) : secret);
}
