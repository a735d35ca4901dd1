import assert from "node:assert/strict";
import Stripe from "stripe";
import { flipHex, NOW, NOW_S, refused, verify } from "./_helpers.ts";

const stripe = new Stripe("sk_test_unused");
const SECRET = "whsec_test_0123456789abcdef";
const BODY = JSON.stringify({ id: "evt_1", object: "event", type: "payment_intent.succeeded" });
const config = (extra: Record<string, unknown> = {}) => ({
  enabled: true,
  preset: "stripe",
  secret: SECRET,
  ...extra,
});
const header = (opts: { secret?: string; timestamp?: number; payload?: string } = {}) =>
  stripe.webhooks.generateTestHeaderStringAsync({
    payload: opts.payload ?? BODY,
    secret: opts.secret ?? SECRET,
    timestamp: opts.timestamp ?? NOW_S,
  });

Deno.test("stripe: accepts a header from stripe.webhooks.generateTestHeaderStringAsync", async () => {
  const result = await verify(config(), {
    headers: { "Stripe-Signature": await header() },
    body: BODY,
  });
  assert.deepEqual(result, { ok: true, timestamp: NOW });
});

Deno.test("stripe: the seed README's generic Stripe form accepts the same header", async () => {
  const generic = {
    enabled: true,
    verifications: [{
      header_location: "Stripe-Signature",
      signature_format: "t=${timestamp},v1=${signature}",
      algorithm: "hmac-sha256",
      secret: SECRET,
      signature_input: "${timestamp}.${body}",
    }],
    timestamp_validation: {
      required: true,
      max_age: 300,
      timestamp_location: "signature",
      timestamp_variable: "timestamp",
    },
  };
  const ok = await verify(generic, { headers: { "Stripe-Signature": await header() }, body: BODY });
  assert.deepEqual(ok, { ok: true, timestamp: NOW });
  const stale = await verify(generic, {
    headers: { "Stripe-Signature": await header({ timestamp: NOW_S - 301 }) },
    body: BODY,
  });
  assert.equal(refused(stale), "stale_timestamp");
});

Deno.test("stripe: accepts when any of several v1 signatures matches, in any order", async () => {
  const real = await header();
  const v1 = real.split(",").find((p) => p.startsWith("v1="))!;
  const value = `v0=abc,v1=${"0".repeat(64)},t=${NOW_S},${v1}`;
  const result = await verify(config(), { headers: { "stripe-signature": value }, body: BODY });
  assert.equal(result.ok, true);
});

Deno.test("stripe: refuses a tampered body", async () => {
  const result = await verify(config(), {
    headers: { "Stripe-Signature": await header() },
    body: BODY.replace("succeeded", "failed"),
  });
  assert.equal(refused(result), "bad_signature");
});

Deno.test("stripe: refuses another secret, and a changed timestamp", async () => {
  const wrong = await verify(config(), {
    headers: { "Stripe-Signature": await header({ secret: "whsec_other" }) },
    body: BODY,
  });
  assert.equal(refused(wrong), "bad_signature");
  // the timestamp is signed: moving it inside the window breaks the signature
  const moved = (await header()).replace(`t=${NOW_S}`, `t=${NOW_S - 10}`);
  const result = await verify(config(), { headers: { "Stripe-Signature": moved }, body: BODY });
  assert.equal(refused(result), "bad_signature");
});

Deno.test("stripe: refuses stale and future timestamps, accepts within the window", async () => {
  const at = async (t: number) =>
    await verify(config(), {
      headers: { "Stripe-Signature": await header({ timestamp: t }) },
      body: BODY,
    });
  assert.equal(refused(await at(NOW_S - 301)), "stale_timestamp");
  assert.equal(refused(await at(NOW_S + 301)), "future_timestamp");
  assert.equal((await at(NOW_S - 299)).ok, true);
  assert.equal((await at(NOW_S + 299)).ok, true);
  const narrow = await verify(config({ replay_window: 60 }), {
    headers: { "Stripe-Signature": await header({ timestamp: NOW_S - 61 }) },
    body: BODY,
  });
  assert.equal(refused(narrow), "stale_timestamp");
});

Deno.test("stripe: refuses a right-length wrong signature", async () => {
  const real = await header();
  const v1 = real.split("v1=")[1];
  const result = await verify(config(), {
    headers: { "Stripe-Signature": `t=${NOW_S},v1=${flipHex(v1)}` },
    body: BODY,
  });
  assert.equal(refused(result), "bad_signature");
});

Deno.test("stripe: refuses a missing header and malformed ones", async () => {
  assert.equal(refused(await verify(config(), { headers: {}, body: BODY })), "missing_header");
  const v1 = (await header()).split("v1=")[1];
  for (
    const value of [`v1=${v1}`, `t=${NOW_S}`, `t=soon,v1=${v1}`, "garbage", `t=${NOW_S},v1=xyz`]
  ) {
    const result = await verify(config(), { headers: { "Stripe-Signature": value }, body: BODY });
    assert.equal(refused(result), "malformed_header", value);
  }
});

Deno.test("stripe: rotation accepts the old secret while listed, refuses it once removed", async () => {
  const old = await header({ secret: "whsec_old" });
  const both = config({ secret: undefined, secrets: ["whsec_new", "whsec_old"] });
  assert.equal((await verify(both, { headers: { "Stripe-Signature": old }, body: BODY })).ok, true);
  const result = await verify(config({ secret: "whsec_new" }), {
    headers: { "Stripe-Signature": old },
    body: BODY,
  });
  assert.equal(refused(result), "bad_signature");
});
