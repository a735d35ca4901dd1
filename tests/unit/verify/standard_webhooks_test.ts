import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import { parseSignatureConfig } from "../../../core/verify/mod.ts";
import { flipB64, NOW, NOW_S, refused, verify } from "./_helpers.ts";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OLD = "whsec_" + btoa("an older key of twenty-four b");
const BODY = JSON.stringify({ type: "invoice.paid", data: { id: "inv_1", amount: 4200 } });
const ID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";
const config = (extra: Record<string, unknown> = {}) => ({
  enabled: true,
  preset: "standard_webhooks",
  secret: SECRET,
  ...extra,
});

function headers(opts: { secret?: string; at?: number; id?: string; body?: string } = {}) {
  const at = opts.at ?? NOW_S;
  const signature = new Webhook(opts.secret ?? SECRET).sign(
    opts.id ?? ID,
    new Date(at * 1000),
    opts.body ?? BODY,
  );
  return {
    "webhook-id": opts.id ?? ID,
    "webhook-timestamp": String(at),
    "webhook-signature": signature,
  };
}

Deno.test("standard webhooks: accepts Webhook.sign() output; dedup id is webhook-id", async () => {
  const result = await verify(config(), { headers: headers(), body: BODY });
  assert.deepEqual(result, { ok: true, dedupId: ID, timestamp: NOW });
});

Deno.test("standard webhooks: accepts when one of several space-separated signatures matches", async () => {
  const h = headers();
  const list = `v1a,${btoa("x".repeat(64))} v1,${btoa("y".repeat(32))} ${h["webhook-signature"]}`;
  const result = await verify(config(), {
    headers: { ...h, "webhook-signature": list },
    body: BODY,
  });
  assert.equal(result.ok, true);
});

Deno.test("standard webhooks: the svix-* header names work too", async () => {
  const h = headers();
  const svix = {
    "svix-id": h["webhook-id"],
    "svix-timestamp": h["webhook-timestamp"],
    "svix-signature": h["webhook-signature"],
  };
  assert.deepEqual(await verify(config(), { headers: svix, body: BODY }), {
    ok: true,
    dedupId: ID,
    timestamp: NOW,
  });
});

Deno.test("standard webhooks: refuses a tampered body, a changed id, another secret", async () => {
  assert.equal(
    refused(await verify(config(), { headers: headers(), body: BODY + " " })),
    "bad_signature",
  );
  const changedId = { ...headers(), "webhook-id": "msg_other" };
  assert.equal(
    refused(await verify(config(), { headers: changedId, body: BODY })),
    "bad_signature",
  );
  const other = headers({ secret: OLD });
  assert.equal(refused(await verify(config(), { headers: other, body: BODY })), "bad_signature");
});

Deno.test("standard webhooks: refuses a right-length wrong signature", async () => {
  const h = headers();
  const flipped = { ...h, "webhook-signature": flipB64(h["webhook-signature"]) };
  assert.equal(refused(await verify(config(), { headers: flipped, body: BODY })), "bad_signature");
});

Deno.test("standard webhooks: refuses stale and future timestamps", async () => {
  const stale = headers({ at: NOW_S - 301 });
  assert.equal(refused(await verify(config(), { headers: stale, body: BODY })), "stale_timestamp");
  const future = headers({ at: NOW_S + 301 });
  assert.equal(
    refused(await verify(config(), { headers: future, body: BODY })),
    "future_timestamp",
  );
});

Deno.test("standard webhooks: refuses missing and malformed headers", async () => {
  const h = headers();
  for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"] as const) {
    const partial: Record<string, string> = { ...h };
    delete partial[name];
    assert.equal(
      refused(await verify(config(), { headers: partial, body: BODY })),
      "missing_header",
    );
  }
  for (
    const bad of [
      { ...h, "webhook-signature": "v2,abc" },
      { ...h, "webhook-signature": "v1,***" },
      { ...h, "webhook-timestamp": "2025-06-15T00:00:00Z" },
    ]
  ) {
    assert.equal(refused(await verify(config(), { headers: bad, body: BODY })), "malformed_header");
  }
});

Deno.test("standard webhooks: rotation accepts the old secret while listed, refuses it once removed", async () => {
  const old = headers({ secret: OLD });
  const both = config({ secret: undefined, secrets: [SECRET, OLD] });
  assert.equal((await verify(both, { headers: old, body: BODY })).ok, true);
  assert.equal(refused(await verify(config(), { headers: old, body: BODY })), "bad_signature");
});

Deno.test("standard webhooks: a secret that is not base64 is refused when the config is parsed", () => {
  assert.throws(
    () => parseSignatureConfig(config({ secret: "whsec_not base64!" })),
    /signature_config\.secret: must be whsec_ followed by base64/,
  );
});
