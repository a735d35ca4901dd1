// The seed README's generic form. Expected values are computed with crypto.subtle directly.
import assert from "node:assert/strict";
import { sign } from "@octokit/webhooks-methods";
import { flipHex, hmacBytes, NOW, NOW_S, refused, toB64, toHex, verify } from "./_helpers.ts";

const BODY = JSON.stringify({ ref: "refs/heads/main" });

// exactly the seed README's GitHub example
const SEED_GITHUB = {
  enabled: true,
  verifications: [{
    header_location: "X-Hub-Signature-256",
    signature_format: "sha256=${signature}",
    algorithm: "hmac-sha256",
    secret: "github-webhook-secret",
  }],
};

Deno.test("generic: the seed's GitHub example accepts a GitHub signature", async () => {
  const signature = await sign("github-webhook-secret", BODY);
  const ok = await verify(SEED_GITHUB, {
    headers: { "X-Hub-Signature-256": signature },
    body: BODY,
  });
  assert.deepEqual(ok, { ok: true });
  const tampered = await verify(SEED_GITHUB, {
    headers: { "X-Hub-Signature-256": signature },
    body: BODY + " ",
  });
  assert.equal(refused(tampered), "bad_signature");
  const flipped = await verify(SEED_GITHUB, {
    headers: { "X-Hub-Signature-256": flipHex(signature) },
    body: BODY,
  });
  assert.equal(refused(flipped), "bad_signature");
  assert.equal(refused(await verify(SEED_GITHUB, { headers: {}, body: BODY })), "missing_header");
  const malformed = await verify(SEED_GITHUB, {
    headers: { "X-Hub-Signature-256": signature.slice(7) },
    body: BODY,
  });
  assert.equal(refused(malformed), "malformed_header");
});

Deno.test("generic: sha1 and sha512, hex and base64", async () => {
  for (const [algorithm, hash] of [["hmac-sha1", "SHA-1"], ["hmac-sha512", "SHA-512"]] as const) {
    for (const encoding of ["hex", "base64"] as const) {
      const mac = await hmacBytes(hash, "s3cret", BODY);
      const config = {
        verifications: [{ header_location: "X-Sig", algorithm, encoding, secret: "s3cret" }],
      };
      const value = encoding === "hex" ? toHex(mac) : toB64(mac);
      const result = await verify(config, { headers: { "x-sig": value }, body: BODY });
      assert.equal(result.ok, true, `${algorithm} ${encoding}`);
    }
  }
});

Deno.test("generic: signature_input over ${url}, ${header.NAME} and a timestamp header", async () => {
  const url = "https://router.example.com/webhook/wh_x?a=1";
  const data = `${url}|${NOW_S}|delivery-7|${BODY}`;
  const mac = await hmacBytes("SHA-256", "k", data);
  const config = {
    enabled: true,
    verifications: [{
      header_location: "X-Signature",
      signature_format: "v1=${signature}",
      secret: "k",
      signature_input: "${url}|${timestamp}|${header.X-Delivery}|${body}",
    }],
    timestamp_validation: { timestamp_location: "header", timestamp_header: "X-Timestamp" },
  };
  const headers = {
    "X-Signature": `v1=${toHex(mac)}`,
    "X-Timestamp": String(NOW_S),
    "X-Delivery": "delivery-7",
  };
  assert.deepEqual(await verify(config, { url, headers, body: BODY }), {
    ok: true,
    timestamp: NOW,
  });
  const otherDelivery = { ...headers, "X-Delivery": "delivery-8" };
  assert.equal(
    refused(await verify(config, { url, headers: otherDelivery, body: BODY })),
    "bad_signature",
  );
  const { "X-Timestamp": _, ...noTimestamp } = headers;
  assert.equal(
    refused(await verify(config, { url, headers: noTimestamp, body: BODY })),
    "missing_header",
  );
  const stale = { ...headers, "X-Timestamp": String(NOW_S - 301) };
  assert.equal(
    refused(await verify(config, { url, headers: stale, body: BODY })),
    "stale_timestamp",
  );
  const future = { ...headers, "X-Timestamp": String(NOW_S + 301) };
  assert.equal(
    refused(await verify(config, { url, headers: future, body: BODY })),
    "future_timestamp",
  );
});

Deno.test("generic: timestamps in milliseconds are understood", async () => {
  const mac = await hmacBytes("SHA-256", "k", `${NOW}.${BODY}`);
  const config = {
    verifications: [{
      header_location: "X-Sig",
      signature_format: "t=${timestamp},v1=${signature}",
      secret: "k",
      signature_input: "${timestamp}.${body}",
    }],
  };
  const result = await verify(config, {
    headers: { "X-Sig": `t=${NOW},v1=${toHex(mac)}` },
    body: BODY,
  });
  assert.deepEqual(result, { ok: true, timestamp: NOW });
});

Deno.test("generic: a signed timestamp is held to replay_window even without timestamp_validation", async () => {
  const t = NOW_S - 120;
  const mac = await hmacBytes("SHA-256", "k", `${t}.${BODY}`);
  const config = (window: number) => ({
    replay_window: window,
    verifications: [{
      header_location: "X-Sig",
      signature_format: "t=${timestamp},v1=${signature}",
      secret: "k",
      signature_input: "${timestamp}.${body}",
    }],
  });
  const headers = { "X-Sig": `t=${t},v1=${toHex(mac)}` };
  assert.equal((await verify(config(300), { headers, body: BODY })).ok, true);
  assert.equal(refused(await verify(config(60), { headers, body: BODY })), "stale_timestamp");
});

Deno.test("generic: a required timestamp missing from the signature header is malformed", async () => {
  const config = {
    verifications: [{
      header_location: "X-Sig",
      signature_format: "t=${timestamp},v1=${signature}",
      secret: "k",
    }],
    timestamp_validation: { required: true },
  };
  const mac = toHex(await hmacBytes("SHA-256", "k", BODY));
  assert.equal(
    refused(await verify(config, { headers: { "X-Sig": `v1=${mac}` }, body: BODY })),
    "malformed_header",
  );
});

Deno.test("generic: every verification must pass", async () => {
  const a = toHex(await hmacBytes("SHA-256", "a", BODY));
  const b = toB64(await hmacBytes("SHA-512", "b", BODY));
  const config = {
    verifications: [
      { header_location: "X-A", secret: "a" },
      { header_location: "X-B", algorithm: "hmac-sha512", encoding: "base64", secret: "b" },
    ],
  };
  assert.equal((await verify(config, { headers: { "X-A": a, "X-B": b }, body: BODY })).ok, true);
  assert.equal(
    refused(await verify(config, { headers: { "X-A": a }, body: BODY })),
    "missing_header",
  );
  const wrongB = toB64(await hmacBytes("SHA-512", "x", BODY));
  assert.equal(
    refused(await verify(config, { headers: { "X-A": a, "X-B": wrongB }, body: BODY })),
    "bad_signature",
  );
});

Deno.test("generic: rotation accepts secret or any of secrets, refuses one removed", async () => {
  const old = toHex(await hmacBytes("SHA-256", "old", BODY));
  const v = (extra: Record<string, unknown>) => ({
    verifications: [{ header_location: "X-Sig", ...extra }],
  });
  const headers = { "X-Sig": old };
  assert.equal(
    (await verify(v({ secret: "new", secrets: ["old"] }), { headers, body: BODY })).ok,
    true,
  );
  assert.equal((await verify(v({ secrets: ["new", "old"] }), { headers, body: BODY })).ok, true);
  assert.equal(
    refused(await verify(v({ secret: "new" }), { headers, body: BODY })),
    "bad_signature",
  );
});

Deno.test("generic: id_header gives the dedup id; disabled accepts anything", async () => {
  const mac = toHex(await hmacBytes("SHA-256", "k", BODY));
  const config = {
    id_header: "X-Request-Id",
    verifications: [{ header_location: "X-Sig", secret: "k" }],
  };
  assert.deepEqual(
    await verify(config, { headers: { "X-Sig": mac, "x-request-id": "req-1" }, body: BODY }),
    { ok: true, dedupId: "req-1" },
  );
  assert.deepEqual(await verify({ enabled: false }, { headers: {}, body: BODY }), { ok: true });
  const tooLong = { "X-Sig": mac, "X-Request-Id": "x".repeat(300) };
  assert.equal(refused(await verify(config, { headers: tooLong, body: BODY })), "malformed_header");
});

Deno.test("generic: Headers objects work as well as records", async () => {
  const mac = toHex(await hmacBytes("SHA-256", "k", BODY));
  const config = { verifications: [{ header_location: "X-Sig", secret: "k" }] };
  const result = await verify(config, { headers: new Headers({ "x-sig": mac }), body: BODY });
  assert.equal(result.ok, true);
});

Deno.test("generic: refusal reasons never carry the secret or the expected signature", async () => {
  const secret = "super-secret-value";
  const expected = toHex(await hmacBytes("SHA-256", secret, BODY));
  const config = { verifications: [{ header_location: "X-Sig", secret }] };
  const result = await verify(config, { headers: { "X-Sig": flipHex(expected) }, body: BODY });
  const text = JSON.stringify(result);
  assert.ok(!text.includes(secret) && !text.includes(expected), text);
  assert.match(refused(result), /^[a-z_]+$/);
});
