import assert from "node:assert/strict";
import { sign } from "@octokit/webhooks-methods";
import { flipHex, refused, verify } from "./_helpers.ts";

const SECRET = "It's a Secret to Everybody";
const BODY = JSON.stringify({ action: "opened", number: 1, title: "héllo" });
const config = (extra: Record<string, unknown> = {}) => ({
  enabled: true,
  preset: "github",
  secret: SECRET,
  ...extra,
});
const headers = (signature: string) => ({
  "X-Hub-Signature-256": signature,
  "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
  "X-GitHub-Event": "pull_request",
});

Deno.test("github: accepts a body signed by @octokit/webhooks-methods, dedup id from X-GitHub-Delivery", async () => {
  const result = await verify(config(), { headers: headers(await sign(SECRET, BODY)), body: BODY });
  assert.deepEqual(result, { ok: true, dedupId: "72d3162e-cc78-11e3-81ab-4c9367dc0958" });
});

Deno.test("github: accepts GitHub's documented example signature", async () => {
  // from docs.github.com "Validating webhook deliveries"
  const result = await verify(config(), {
    headers: {
      "x-hub-signature-256":
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    },
    body: "Hello, World!",
  });
  assert.equal(result.ok, true);
});

Deno.test("github: refuses a tampered body", async () => {
  const signature = await sign(SECRET, BODY);
  const result = await verify(config(), { headers: headers(signature), body: BODY + " " });
  assert.equal(refused(result), "bad_signature");
});

Deno.test("github: refuses a signature made with another secret", async () => {
  const result = await verify(config(), {
    headers: headers(await sign("other", BODY)),
    body: BODY,
  });
  assert.equal(refused(result), "bad_signature");
});

Deno.test("github: refuses a signature of the right length but a wrong value", async () => {
  const signature = flipHex(await sign(SECRET, BODY));
  const result = await verify(config(), { headers: headers(signature), body: BODY });
  assert.equal(refused(result), "bad_signature");
});

Deno.test("github: refuses a missing signature header", async () => {
  const result = await verify(config(), { headers: { "X-GitHub-Event": "push" }, body: BODY });
  assert.equal(refused(result), "missing_header");
});

Deno.test("github: refuses malformed headers (wrong prefix, not hex, short, legacy sha1)", async () => {
  const good = await sign(SECRET, BODY);
  for (const value of [good.slice(7), "sha256=zz" + good.slice(9), good.slice(0, -2), "sha1=abc"]) {
    const result = await verify(config(), { headers: headers(value), body: BODY });
    assert.equal(refused(result), "malformed_header", value);
  }
});

Deno.test("github: rotation accepts any listed secret and refuses one removed", async () => {
  const signedWithOld = await sign("old-secret", BODY);
  const both = config({ secret: undefined, secrets: ["new-secret", "old-secret"] });
  assert.equal((await verify(both, { headers: headers(signedWithOld), body: BODY })).ok, true);
  const rotated = config({ secret: "new-secret" });
  const result = await verify(rotated, { headers: headers(signedWithOld), body: BODY });
  assert.equal(refused(result), "bad_signature");
});

Deno.test("github: verifies the raw bytes, not re-encoded text", async () => {
  // a body that is not valid UTF-8: decoding and re-encoding it would change the bytes
  const body = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]);
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(SECRET),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, body));
  const hex = Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
  const result = await verify(config(), { headers: headers(`sha256=${hex}`), body });
  assert.equal(result.ok, true);
});

Deno.test("github: an id_header overrides the default dedup header", async () => {
  const result = await verify(config({ id_header: "X-GitHub-Event" }), {
    headers: headers(await sign(SECRET, BODY)),
    body: BODY,
  });
  assert.deepEqual(result, { ok: true, dedupId: "pull_request" });
});
