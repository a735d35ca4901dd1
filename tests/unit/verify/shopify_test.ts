// Shopify's npm library needs an app runtime; the expected value follows Shopify's documented
// algorithm: base64(HMAC-SHA256(client secret, raw body)).
import assert from "node:assert/strict";
import { flipB64, hmacBytes, refused, toB64, verify } from "./_helpers.ts";

const SECRET = "shpss_0123456789abcdef0123456789ab";
const BODY = JSON.stringify({ id: 820982911946154500, email: "jon@example.com" });
const config = (extra: Record<string, unknown> = {}) => ({
  enabled: true,
  preset: "shopify",
  secret: SECRET,
  ...extra,
});
const headers = async (secret = SECRET, body = BODY) => ({
  "X-Shopify-Hmac-Sha256": toB64(await hmacBytes("SHA-256", secret, body)),
  "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
  "X-Shopify-Topic": "orders/create",
});

Deno.test("shopify: accepts a correctly signed body; dedup id is X-Shopify-Webhook-Id", async () => {
  assert.deepEqual(await verify(config(), { headers: await headers(), body: BODY }), {
    ok: true,
    dedupId: "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
  });
});

Deno.test("shopify: refuses a tampered body, another secret, a right-length wrong value", async () => {
  const h = await headers();
  assert.equal(refused(await verify(config(), { headers: h, body: BODY + "\n" })), "bad_signature");
  const other = await headers("shpss_other");
  assert.equal(refused(await verify(config(), { headers: other, body: BODY })), "bad_signature");
  const flipped = { ...h, "X-Shopify-Hmac-Sha256": flipB64(h["X-Shopify-Hmac-Sha256"]) };
  assert.equal(refused(await verify(config(), { headers: flipped, body: BODY })), "bad_signature");
});

Deno.test("shopify: refuses missing and malformed headers", async () => {
  const { "X-Shopify-Hmac-Sha256": _, ...rest } = await headers();
  assert.equal(refused(await verify(config(), { headers: rest, body: BODY })), "missing_header");
  for (const value of ["not base64!", btoa("too short")]) {
    const bad = { ...rest, "X-Shopify-Hmac-Sha256": value };
    assert.equal(refused(await verify(config(), { headers: bad, body: BODY })), "malformed_header");
  }
});

Deno.test("shopify: rotation accepts the old secret while listed, refuses it once removed", async () => {
  const old = await headers("shpss_old");
  const both = config({ secret: undefined, secrets: [SECRET, "shpss_old"] });
  assert.equal((await verify(both, { headers: old, body: BODY })).ok, true);
  assert.equal(refused(await verify(config(), { headers: old, body: BODY })), "bad_signature");
});
