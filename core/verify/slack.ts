/**
 * Slack: `X-Slack-Signature: v0=<hex>`, HMAC-SHA256 of `v0:<X-Slack-Request-Timestamp>:<body>`
 * under the app's signing secret. Slack has no delivery id header; the timestamp window is the
 * replay protection.
 */
import { decodeHex } from "../crypto/encoding.ts";
import type { HeaderGetter } from "./headers.ts";
import { hmacMatches } from "./hmac_key.ts";
import { type PresetConfig, secretsOf } from "./signature_config.ts";
import { concatBytes } from "./signature_input.ts";
import { checkWindow, parseTimestamp } from "./timestamp.ts";
import { refuse, type VerifyInput, type VerifyResult } from "./types.ts";

const encoder = new TextEncoder();

export async function verifySlack(
  config: PresetConfig,
  input: VerifyInput,
  header: HeaderGetter,
): Promise<VerifyResult> {
  const value = header("X-Slack-Signature");
  const t = header("X-Slack-Request-Timestamp");
  if (value === null || t === null) return refuse("missing_header");
  const timestamp = parseTimestamp(t);
  const signature = value.startsWith("v0=") ? decodeHex(value.slice(3)) : null;
  if (timestamp === null || signature === null || signature.length !== 32) {
    return refuse("malformed_header");
  }
  const stale = checkWindow(timestamp, input.now, config.replay_window);
  if (stale !== null) return refuse(stale);

  const data = concatBytes(encoder.encode(`v0:${t.trim()}:`), input.rawBody);
  const ok = await hmacMatches("SHA-256", secretsOf(config), data, [signature]);
  return ok ? { ok: true, timestamp } : refuse("bad_signature");
}
