// Test helpers that compute expected signatures with crypto.subtle directly, independently of
// the implementation under test.
import {
  parseSignatureConfig,
  verifyRequest,
  type VerifyResult,
} from "../../../core/verify/mod.ts";

export const enc = new TextEncoder();
export const NOW = 1_750_000_000_000; // ms
export const NOW_S = NOW / 1000;

export async function hmacBytes(
  hash: "SHA-1" | "SHA-256" | "SHA-512",
  key: string | Uint8Array,
  data: string | Uint8Array,
): Promise<Uint8Array> {
  const raw = typeof key === "string" ? enc.encode(key) : key;
  const k = await crypto.subtle.importKey(
    "raw",
    raw as BufferSource,
    { name: "HMAC", hash },
    false,
    [
      "sign",
    ],
  );
  const bytes = typeof data === "string" ? enc.encode(data) : data;
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, bytes as BufferSource));
}

export const toHex = (b: Uint8Array) =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
export const toB64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

/** Flips the last hex digit: same length, different value. */
export function flipHex(hex: string): string {
  return hex.slice(0, -1) + (hex.at(-1) === "0" ? "1" : "0");
}

/** Changes one base64 character before any padding: same length, different value. */
export function flipB64(b64: string): string {
  const i = b64.replace(/=+$/, "").length - 2;
  return b64.slice(0, i) + (b64[i] === "A" ? "B" : "A") + b64.slice(i + 1);
}

export interface Req {
  headers: Record<string, string> | Headers;
  body?: string | Uint8Array;
  url?: string;
  method?: string;
  now?: number;
}

export function verify(config: unknown, req: Req): Promise<VerifyResult> {
  return verifyRequest(parseSignatureConfig(config), {
    method: req.method ?? "POST",
    url: req.url ?? "https://router.example.com/webhook/wh_test",
    headers: req.headers,
    rawBody: typeof req.body === "string" ? enc.encode(req.body) : req.body ?? new Uint8Array(),
    now: req.now ?? NOW,
  });
}

export function refused(result: VerifyResult): string {
  if (result.ok) throw new Error("expected a refusal, got ok");
  return result.reason;
}
