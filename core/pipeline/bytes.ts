/** Byte/text helpers over Web APIs only (no Buffer): UTF-8, base64 (standard and URL), hex. */
const enc = new TextEncoder();
const strictDec = new TextDecoder("utf-8", { fatal: true });

export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return enc.encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  return strictDec.decode(bytes);
}

export function toBase64(bytes: Uint8Array, urlSafe = false): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  const b64 = btoa(bin);
  return urlSafe ? b64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "") : b64;
}

/** Accepts standard and URL-safe alphabets, with or without padding. */
export function fromBase64(text: string): Uint8Array {
  let s = text.trim().replace(/-/g, "+").replace(/_/g, "/");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new Error("invalid base64");
  s = s.replace(/=+$/, "");
  if (s.length % 4 === 1) throw new Error("invalid base64 length");
  s += "=".repeat((4 - (s.length % 4)) % 4);
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}
