/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex>`, HMAC-SHA256 of the body under the webhook
 * secret. The legacy SHA-1 header is not accepted. Deliveries carry X-GitHub-Delivery, a GUID
 * kept across redeliveries, which serves as the dedup id.
 */
import { decodeHex } from "../crypto/encoding.ts";
import type { HeaderGetter } from "./headers.ts";
import { hmacMatches } from "./hmac_key.ts";
import { type PresetConfig, secretsOf } from "./signature_config.ts";
import { refuse, type VerifyInput, type VerifyResult } from "./types.ts";

export const GITHUB_ID_HEADER = "X-GitHub-Delivery";

export async function verifyGithub(
  config: PresetConfig,
  input: VerifyInput,
  header: HeaderGetter,
): Promise<VerifyResult> {
  const value = header("X-Hub-Signature-256");
  if (value === null) return refuse("missing_header");
  const signature = value.startsWith("sha256=") ? decodeHex(value.slice(7)) : null;
  if (signature === null || signature.length !== 32) return refuse("malformed_header");
  const ok = await hmacMatches("SHA-256", secretsOf(config), input.rawBody, [signature]);
  return ok ? { ok: true } : refuse("bad_signature");
}
