import assert from "node:assert/strict";
import { createSealer, parseEncryptionKey } from "../../../core/crypto/sealer.ts";

const key = () => crypto.getRandomValues(new Uint8Array(32));

Deno.test("sealer: roundtrip, and the stored value is not the clear text", async () => {
  const sealer = createSealer(key());
  const plain = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw ünïcode";
  const sealed = await sealer.seal(plain);
  assert.match(sealed, /^sealed:v1:[A-Za-z0-9_-]+$/);
  assert.ok(!sealed.includes("whsec_") && !sealed.includes(plain));
  assert.equal(sealer.isSealed(sealed), true);
  assert.equal(sealer.isSealed(plain), false);
  assert.equal(await sealer.open(sealed), plain);
  assert.equal(await sealer.open(await sealer.seal("")), "");
});

Deno.test("sealer: a fresh IV per seal, so equal secrets seal differently", async () => {
  const sealer = createSealer(key());
  const a = await sealer.seal("same");
  const b = await sealer.seal("same");
  assert.notEqual(a, b);
  assert.notEqual(a.slice(10, 26), b.slice(10, 26));
});

Deno.test("sealer: opening with a wrong key fails clearly", async () => {
  const sealed = await createSealer(key()).seal("secret");
  await assert.rejects(
    () => createSealer(key()).open(sealed),
    /cannot open sealed value: wrong encryption key or tampered value/,
  );
});

Deno.test("sealer: any tampering fails", async () => {
  const sealer = createSealer(key());
  const sealed = await sealer.seal("secret");
  const body = sealed.slice("sealed:v1:".length);
  for (let i = 0; i < body.length; i++) {
    const c = body[i] === "A" ? "B" : "A";
    const tampered = "sealed:v1:" + body.slice(0, i) + c + body.slice(i + 1);
    await assert.rejects(() => sealer.open(tampered), /cannot open sealed value/, `at ${i}`);
  }
  await assert.rejects(() => sealer.open(sealed.slice(0, 20)), /malformed payload/);
  await assert.rejects(() => sealer.open("sealed:v1:***"), /malformed payload/);
  await assert.rejects(() => sealer.open("plain"), /does not start with "sealed:v1:"/);
});

Deno.test("sealer: refuses a key that is not 32 bytes", () => {
  assert.throws(() => createSealer(new Uint8Array(16)), /encryption key must be 32 bytes, got 16/);
});

Deno.test("parseEncryptionKey: 64 hex characters or base64 of 32 bytes", () => {
  const bytes = key();
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  assert.deepEqual(parseEncryptionKey(hex), bytes);
  assert.deepEqual(parseEncryptionKey(hex.toUpperCase()), bytes);
  const b64 = btoa(String.fromCharCode(...bytes));
  assert.deepEqual(parseEncryptionKey(b64), bytes);
  assert.deepEqual(parseEncryptionKey(` ${b64}\n`), bytes);
  const b64url = b64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  assert.deepEqual(parseEncryptionKey(b64url), bytes);
});

Deno.test("parseEncryptionKey: precise errors that never echo the key", () => {
  const cases: [string, RegExp][] = [
    ["abcd", /got 4 characters that decodes to 3 bytes/],
    ["a".repeat(63) + "=", /got 64 characters that is neither hex nor base64/],
    ["A".repeat(63), /got 63 characters that decodes to 47 bytes/],
    [btoa("x".repeat(31)), /got 44 characters that decodes to 31 bytes/],
    ["not a key at all!", /is neither hex nor base64/],
  ];
  for (const [input, pattern] of cases) {
    assert.throws(() => parseEncryptionKey(input), pattern, input);
    try {
      parseEncryptionKey(input);
    } catch (e) {
      assert.ok(!String(e).includes(input), String(e));
      assert.match(String(e), /must be 64 hex characters or base64 of 32 bytes/);
    }
  }
});
