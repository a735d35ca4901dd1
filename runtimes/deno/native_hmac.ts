/** The full node's HMAC for signature checks: node:crypto's synchronous native HMAC. */
import { createHmac } from "node:crypto";
import { type HmacHash, setHmacProvider } from "../../core/verify/hmac_key.ts";

const NAMES: Record<HmacHash, string> = {
  "SHA-1": "sha1",
  "SHA-256": "sha256",
  "SHA-512": "sha512",
};

export function installNativeHmac(): void {
  setHmacProvider((hash, secret, data) =>
    new Uint8Array(createHmac(NAMES[hash], secret).update(data).digest())
  );
}
