/**
 * The hop between an edge and the full node, both ways authenticated by `EDGE_SECRET` with
 * the Standard Webhooks scheme (webhook-id, webhook-timestamp, webhook-signature = HMAC over
 * `<id>.<timestamp>.<body>`): the same signing code as HTTP destinations, the same verifier
 * as a route's `standard_webhooks` preset, so the timestamp window applies too.
 */
import { encodeBase64 } from "../crypto/encoding.ts";
import { importSigningKey, signWebhook } from "../verify/standard_webhooks_sign.ts";
import { parseSignatureConfig, type SignatureConfig } from "../verify/signature_config.ts";
import { verifyRequest } from "../verify/mod.ts";
import type { VerifyResult } from "../verify/types.ts";
import { newId } from "../model/ids.ts";
import { createSealer } from "../crypto/sealer.ts";
import type { Sealer } from "../ports.ts";

export const MIN_EDGE_SECRET_LENGTH = 32;
/** Seconds a hop message's timestamp may differ from the receiver's clock. */
export const HOP_WINDOW_SECONDS = 300;

const enc = new TextEncoder();

export interface HopKey {
  sign(body: Uint8Array, now: number): Promise<Record<string, string>>;
  verify(headers: Headers, body: Uint8Array, now: number): Promise<VerifyResult>;
  /** Seals the routes document (it holds signature secrets) in transit and at rest at the
   * edge: AES-256-GCM under a key derived from the secret with HKDF-SHA256. */
  sealer: Sealer;
}

/** The hop key of an `EDGE_SECRET` (any text of at least 32 characters, used as UTF-8). */
export function hopKey(secret: string): HopKey {
  if (secret.length < MIN_EDGE_SECRET_LENGTH) {
    throw new RangeError(
      `EDGE_SECRET must be at least ${MIN_EDGE_SECRET_LENGTH} characters, got ${secret.length}`,
    );
  }
  const raw = enc.encode(secret);
  const signing = importSigningKey(raw);
  const config: SignatureConfig = parseSignatureConfig({
    enabled: true,
    preset: "standard_webhooks",
    secret: `whsec_${encodeBase64(raw)}`,
    replay_window: HOP_WINDOW_SECONDS,
  });
  const sealer = derivedSealer(raw);
  return {
    sealer,
    async sign(body, now) {
      const id = newId("evt").replace("evt_", "hop_");
      const ts = Math.floor(now / 1000);
      return {
        "webhook-id": id,
        "webhook-timestamp": String(ts),
        "webhook-signature": await signWebhook(await signing, id, ts, body),
      };
    },
    verify(headers, body, now) {
      return verifyRequest(config, { method: "POST", url: "", headers, rawBody: body, now });
    },
  };
}

function derivedSealer(secret: Uint8Array<ArrayBuffer>): Sealer {
  const sealer = (async () => {
    const base = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveBits"]);
    const bits = await crypto.subtle.deriveBits(
      {
        name: "HKDF",
        hash: "SHA-256",
        salt: enc.encode("event-router edge"),
        info: enc.encode("routes v1"),
      },
      base,
      256,
    );
    return createSealer(new Uint8Array(bits));
  })();
  return {
    isSealed: (v) => v.startsWith("sealed:"),
    seal: async (plain) => (await sealer).seal(plain),
    open: async (sealed) => (await sealer).open(sealed),
  };
}
