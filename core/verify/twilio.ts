/**
 * Twilio: `X-Twilio-Signature: <base64>`, HMAC-SHA1 under the account's auth token over the
 * full URL Twilio called, followed for form posts by every POST parameter sorted by name, each
 * as name then value. JSON posts instead carry `bodySHA256` in the URL query: the signature is
 * over the URL alone and the body must hash to that value. The URL must be the public one the
 * sender used; like Twilio's own library, it is tried with and without the default port.
 */
import { decodeBase64, encodeHex } from "../crypto/encoding.ts";
import type { HeaderGetter } from "./headers.ts";
import { hmacMatches } from "./hmac_key.ts";
import { type PresetConfig, secretsOf } from "./signature_config.ts";
import { timingSafeEqualText } from "./timing_safe.ts";
import { refuse, type VerifyInput, type VerifyResult } from "./types.ts";

export const TWILIO_ID_HEADER = "I-Twilio-Idempotency-Token";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export async function verifyTwilio(
  config: PresetConfig,
  input: VerifyInput,
  header: HeaderGetter,
): Promise<VerifyResult> {
  const value = header("X-Twilio-Signature");
  if (value === null) return refuse("missing_header");
  const signature = decodeBase64(value.trim());
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    return refuse("malformed_header");
  }
  if (signature === null || signature.length !== 20) return refuse("malformed_header");

  const bodyHash = url.searchParams.get("bodySHA256");
  let params = "";
  if (bodyHash !== null) {
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", input.rawBody as Uint8Array<ArrayBuffer>),
    );
    if (!timingSafeEqualText(encodeHex(digest), bodyHash.toLowerCase())) {
      return refuse("bad_signature");
    }
  } else if (isForm(input.method, header("Content-Type"))) {
    params = sortedParams(decoder.decode(input.rawBody));
  }

  const secrets = secretsOf(config);
  for (const candidate of urlVariants(input.url, url)) {
    const data = encoder.encode(candidate + params);
    if (await hmacMatches("SHA-1", secrets, data, [signature])) return { ok: true };
  }
  return refuse("bad_signature");
}

function isForm(method: string, contentType: string | null): boolean {
  return method.toUpperCase() === "POST" &&
    contentType !== null &&
    contentType.toLowerCase().startsWith("application/x-www-form-urlencoded");
}

/** Names sorted by code unit; a repeated name adds each distinct value, values sorted too. */
function sortedParams(body: string): string {
  const byName = new Map<string, Set<string>>();
  for (const [name, value] of new URLSearchParams(body)) {
    const values = byName.get(name) ?? new Set<string>();
    values.add(value);
    byName.set(name, values);
  }
  let out = "";
  for (const name of [...byName.keys()].sort()) {
    for (const value of [...byName.get(name)!].sort()) out += name + value;
  }
  return out;
}

/** The URL as given, then without and with its default port (Twilio signs either form). */
function urlVariants(raw: string, url: URL): string[] {
  const variants = new Set([raw]);
  const defaultPort = url.protocol === "https:" ? "443" : url.protocol === "http:" ? "80" : "";
  // URL drops a default port, so an empty port means "none written or the default one"
  if (url.port === "" && defaultPort !== "") {
    variants.add(url.href);
    const auth = url.username === ""
      ? ""
      : `${url.username}${url.password === "" ? "" : ":" + url.password}@`;
    const rest = `${url.pathname}${url.search}${url.hash}`;
    variants.add(`${url.protocol}//${auth}${url.hostname}:${defaultPort}${rest}`);
  }
  return [...variants];
}
