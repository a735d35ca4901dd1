/**
 * Standard Webhooks signing, for HTTP destinations and the edge hop alike:
 * `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, computed over the body's raw bytes
 * so binary payloads sign exactly as sent. Web Crypto only.
 */
import { encodeBase64 } from "../crypto/encoding.ts";

const enc = new TextEncoder();

export function importSigningKey(key: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

/** The `webhook-signature` header value for one message. */
export async function signWebhook(
  key: CryptoKey,
  id: string,
  timestampSeconds: number,
  body: Uint8Array,
): Promise<string> {
  const prefix = enc.encode(`${id}.${timestampSeconds}.`);
  const data = new Uint8Array(prefix.length + body.length);
  data.set(prefix);
  data.set(body, prefix.length);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
  return `v1,${encodeBase64(mac)}`;
}
