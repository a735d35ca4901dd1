/**
 * Shopify: `X-Shopify-Hmac-Sha256: <base64>`, HMAC-SHA256 of the body under the app's client
 * secret. X-Shopify-Webhook-Id is the same across retries of one delivery: the dedup id.
 */
import { decodeBase64 } from "../crypto/encoding.ts";
import type { HeaderGetter } from "./headers.ts";
import { hmacMatches } from "./hmac_key.ts";
import { type PresetConfig, secretsOf } from "./signature_config.ts";
import { refuse, type VerifyInput, type VerifyResult } from "./types.ts";

export const SHOPIFY_ID_HEADER = "X-Shopify-Webhook-Id";

export async function verifyShopify(
  config: PresetConfig,
  input: VerifyInput,
  header: HeaderGetter,
): Promise<VerifyResult> {
  const value = header("X-Shopify-Hmac-Sha256");
  if (value === null) return refuse("missing_header");
  const signature = decodeBase64(value.trim());
  if (signature === null || signature.length !== 32) return refuse("malformed_header");
  const ok = await hmacMatches("SHA-256", secretsOf(config), input.rawBody, [signature]);
  return ok ? { ok: true } : refuse("bad_signature");
}
