import assert from "node:assert/strict";
import {
  decodeBase64,
  decodeHex,
  encodeBase64,
  encodeBase64Url,
  encodeHex,
} from "../../../core/crypto/encoding.ts";

Deno.test("hex: roundtrip, either case, refusals", () => {
  const bytes = new Uint8Array([0, 1, 0x7f, 0x80, 0xfe, 0xff]);
  assert.equal(encodeHex(bytes), "00017f80feff");
  assert.deepEqual(decodeHex("00017F80FEFF"), bytes);
  assert.equal(decodeHex("abc"), null);
  assert.equal(decodeHex("zz"), null);
});

Deno.test("base64: both alphabets, optional padding, refusals", () => {
  const bytes = new Uint8Array(Array.from({ length: 256 }, (_, i) => i));
  const std = encodeBase64(bytes);
  assert.equal(std, btoa(String.fromCharCode(...bytes)));
  assert.deepEqual(decodeBase64(std), bytes);
  const url = encodeBase64Url(bytes);
  assert.ok(!/[+/=]/.test(url));
  assert.deepEqual(decodeBase64(url), bytes);
  assert.deepEqual(decodeBase64("YQ"), new Uint8Array([0x61]));
  for (const bad of ["a", "ab cd", "abc$", "YQ==="]) assert.equal(decodeBase64(bad), null, bad);
  const big = new Uint8Array(100_000).fill(7);
  assert.deepEqual(decodeBase64(encodeBase64(big)), big);
});
