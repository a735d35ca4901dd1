/**
 * Webhook signature verification over the raw body bytes. Parse a route's signature_config
 * once with parseSignatureConfig, open its sealed secrets, then call verifyRequest per request:
 *
 * ```ts
 * const result = await verifyRequest(config, {
 *   method: req.method, url: publicUrl, headers: req.headers, rawBody, now: clock.now(),
 * });
 * if (!result.ok) return c.json({ error: { code: "unauthorized", message: "..." } }, 401);
 * // result.dedupId, when set, is the sender's delivery id: drop a repeat within replay_window
 * ```
 *
 * Check dedupId only after `ok`, so unsigned requests cannot poison the duplicate check.
 */
import { GITHUB_ID_HEADER, verifyGithub } from "./github.ts";
import { sha256 } from "@noble/hashes/sha2.js";
import { encodeHex as toHex } from "../crypto/encoding.ts";
import { type HeaderGetter, headerGetter } from "./headers.ts";
import { verifyGeneric } from "./hmac.ts";
import { SHOPIFY_ID_HEADER, verifyShopify } from "./shopify.ts";
import type { SignatureConfig } from "./signature_config.ts";
import { verifySlack } from "./slack.ts";
import { STANDARD_WEBHOOKS_ID_HEADER, verifyStandardWebhooks } from "./standard_webhooks.ts";
import { verifyStripe } from "./stripe.ts";
import { verifyApiKey, verifyBasic, verifyBearer } from "./token.ts";
import { TWILIO_ID_HEADER, verifyTwilio } from "./twilio.ts";
import { refuse, type VerifyInput, type VerifyResult } from "./types.ts";

export * from "./signature_config.ts";
export type { VerifyInput, VerifyReason, VerifyResult } from "./types.ts";
export { timingSafeEqual, timingSafeEqualText } from "./timing_safe.ts";

// an id is a short token (GUID, ULID, msg_...); a longer value is not one
const MAX_ID_LENGTH = 256;

const DEFAULT_ID_HEADERS: Partial<Record<string, string>> = {
  github: GITHUB_ID_HEADER,
  shopify: SHOPIFY_ID_HEADER,
  standard_webhooks: STANDARD_WEBHOOKS_ID_HEADER,
  twilio: TWILIO_ID_HEADER,
};

/** Verifies one request against a parsed signature_config; see the module doc. */
export async function verifyRequest(
  config: SignatureConfig,
  input: VerifyInput,
): Promise<VerifyResult> {
  const header = headerGetter(input.headers);
  const result = config.enabled ? await check(config, input, header) : { ok: true as const };
  if (!result.ok) return result;
  if (config.dedupe === "body") return { ...result, dedupBody: toHex(sha256(input.rawBody)) };

  const idHeader = config.id_header ??
    (config.enabled && config.preset ? DEFAULT_ID_HEADERS[config.preset] : undefined);
  if (idHeader === undefined) return result;
  let id = header(idHeader);
  // standard webhooks may arrive under the svix-* names
  if (id === null && config.preset === "standard_webhooks" && config.id_header === undefined) {
    id = header("svix-id");
  }
  if (id === null || id.trim() === "") return result;
  if (id.length > MAX_ID_LENGTH) return refuse("malformed_header");
  return { ...result, dedupId: id.trim() };
}

function check(
  config: SignatureConfig,
  input: VerifyInput,
  header: HeaderGetter,
): Promise<VerifyResult> | VerifyResult {
  switch (config.preset) {
    case undefined:
    case "custom":
      return verifyGeneric(config, input, header);
    case "github":
      return verifyGithub(config, input, header);
    case "stripe":
      return verifyStripe(config, input, header);
    case "slack":
      return verifySlack(config, input, header);
    case "standard_webhooks":
      return verifyStandardWebhooks(config, input, header);
    case "shopify":
      return verifyShopify(config, input, header);
    case "twilio":
      return verifyTwilio(config, input, header);
    case "bearer":
      return verifyBearer(config, header);
    case "basic":
      return verifyBasic(config, header);
    case "api_key":
      return verifyApiKey(config, header);
  }
}
