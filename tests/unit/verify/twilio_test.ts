// Twilio's npm library is not installed; expected values follow Twilio's documented algorithm
// (base64 HMAC-SHA1 over URL + sorted name/value pairs), plus the worked example from
// TwilioDevEd/api-snippets (security/signature_validation).
import assert from "node:assert/strict";
import { flipB64, hmacBytes, refused, toB64, toHex, verify } from "./_helpers.ts";

const TOKEN = "12345";
const URL_ = "https://mycompany.com/myapp.php?foo=1&bar=2";
const PARAMS: Record<string, string> = {
  CallSid: "CA1234567890ABCDE",
  Caller: "+14158675310",
  Digits: "1234",
  From: "+14158675310",
  To: "+18005551212",
};
const FORM = { "Content-Type": "application/x-www-form-urlencoded" };
const config = (extra: Record<string, unknown> = {}) => ({
  enabled: true,
  preset: "twilio",
  secret: TOKEN,
  ...extra,
});
const form = (params: Record<string, string>) => new URLSearchParams(params).toString();

async function sign(url: string, params: [string, string][], token = TOKEN) {
  const sorted = [...params].sort(([a, av], [b, bv]) => a < b ? -1 : a > b ? 1 : av < bv ? -1 : 1);
  const data = url + sorted.map(([k, v]) => k + v).join("");
  return toB64(await hmacBytes("SHA-1", token, data));
}

Deno.test("twilio: accepts the documented example", async () => {
  const result = await verify(config(), {
    url: URL_,
    headers: { ...FORM, "X-Twilio-Signature": "GvWf1cFY/Q7PnoempGyD5oXAezc=" },
    body: form(PARAMS),
  });
  assert.equal(result.ok, true);
});

Deno.test("twilio: sorts params by name, keeps repeated names, decodes form encoding", async () => {
  const params: [string, string][] = [["To", "+1 800"], ["Body", "héllo & bye"], ["Media", "b"], [
    "Media",
    "a",
  ]];
  const body = new URLSearchParams(params).toString();
  const signature = await sign(URL_, params);
  const result = await verify(config(), {
    url: URL_,
    headers: { ...FORM, "X-Twilio-Signature": signature, "I-Twilio-Idempotency-Token": "idem-1" },
    body,
  });
  assert.deepEqual(result, { ok: true, dedupId: "idem-1" });
});

Deno.test("twilio: a signature over the URL with :443 matches a URL without it, and back", async () => {
  const params = Object.entries(PARAMS);
  const withPort = await sign("https://mycompany.com:443/myapp.php?foo=1&bar=2", params);
  const a = await verify(config(), {
    url: URL_,
    headers: { ...FORM, "X-Twilio-Signature": withPort },
    body: form(PARAMS),
  });
  assert.equal(a.ok, true);
  const b = await verify(config(), {
    url: "https://mycompany.com:443/myapp.php?foo=1&bar=2",
    headers: { ...FORM, "X-Twilio-Signature": await sign(URL_, params) },
    body: form(PARAMS),
  });
  assert.equal(b.ok, true);
});

Deno.test("twilio: JSON bodies are checked through bodySHA256", async () => {
  const body = JSON.stringify({ EventType: "onMessageAdded", Body: "hi" });
  const digest = toHex(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body))),
  );
  const url = `https://router.example.com/webhook/wh_t?bodySHA256=${digest}`;
  const headers = {
    "Content-Type": "application/json",
    "X-Twilio-Signature": await sign(url, []),
  };
  assert.equal((await verify(config(), { url, headers, body })).ok, true);
  const tampered = await verify(config(), { url, headers, body: body.replace("hi", "ho") });
  assert.equal(refused(tampered), "bad_signature");
});

Deno.test("twilio: refuses a tampered param, another URL, another token, a right-length wrong value", async () => {
  const signature = await sign(URL_, Object.entries(PARAMS));
  const headers = { ...FORM, "X-Twilio-Signature": signature };
  const tampered = form({ ...PARAMS, Digits: "9999" });
  assert.equal(
    refused(await verify(config(), { url: URL_, headers, body: tampered })),
    "bad_signature",
  );
  const otherUrl = URL_.replace("foo=1", "foo=2");
  assert.equal(
    refused(await verify(config(), { url: otherUrl, headers, body: form(PARAMS) })),
    "bad_signature",
  );
  assert.equal(
    refused(await verify(config({ secret: "54321" }), { url: URL_, headers, body: form(PARAMS) })),
    "bad_signature",
  );
  const flipped = { ...FORM, "X-Twilio-Signature": flipB64(signature) };
  assert.equal(
    refused(await verify(config(), { url: URL_, headers: flipped, body: form(PARAMS) })),
    "bad_signature",
  );
});

Deno.test("twilio: refuses missing and malformed headers", async () => {
  assert.equal(
    refused(await verify(config(), { url: URL_, headers: FORM, body: form(PARAMS) })),
    "missing_header",
  );
  for (const value of ["not base64!", btoa("short")]) {
    const headers = { ...FORM, "X-Twilio-Signature": value };
    assert.equal(
      refused(await verify(config(), { url: URL_, headers, body: form(PARAMS) })),
      "malformed_header",
    );
  }
});

Deno.test("twilio: rotation accepts the old token while listed, refuses it once removed", async () => {
  const old = await sign(URL_, Object.entries(PARAMS), "old-token");
  const headers = { ...FORM, "X-Twilio-Signature": old };
  const both = config({ secret: undefined, secrets: [TOKEN, "old-token"] });
  assert.equal((await verify(both, { url: URL_, headers, body: form(PARAMS) })).ok, true);
  assert.equal(
    refused(await verify(config(), { url: URL_, headers, body: form(PARAMS) })),
    "bad_signature",
  );
});
