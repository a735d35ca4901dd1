// Slack has no signing library on npm here; the expected value follows Slack's documented
// algorithm: "v0=" + hex(HMAC-SHA256(signing secret, "v0:" + timestamp + ":" + body)).
import assert from "node:assert/strict";
import { flipHex, hmacBytes, NOW_S, refused, toHex, verify } from "./_helpers.ts";

const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const BODY = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&command=%2Fweather&text=94070";
const config = (extra: Record<string, unknown> = {}) => ({
  enabled: true,
  preset: "slack",
  secret: SECRET,
  ...extra,
});

async function signed(opts: { secret?: string; ts?: number; body?: string } = {}) {
  const ts = String(opts.ts ?? NOW_S);
  const mac = await hmacBytes("SHA-256", opts.secret ?? SECRET, `v0:${ts}:${opts.body ?? BODY}`);
  return { "X-Slack-Signature": `v0=${toHex(mac)}`, "X-Slack-Request-Timestamp": ts };
}

Deno.test("slack: accepts Slack's documented example", async () => {
  // the worked example from api.slack.com/authentication/verifying-requests-from-slack
  const body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&" +
    "channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&" +
    "command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F" +
    "T1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121." +
    "803a0bc887a14d10d2c447fce8b6703c";
  const result = await verify(config(), {
    headers: {
      "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
      "X-Slack-Request-Timestamp": "1531420618",
    },
    body,
    now: 1531420618_000,
  });
  assert.deepEqual(result, { ok: true, timestamp: 1531420618_000 });
});

Deno.test("slack: accepts a request signed by the documented algorithm", async () => {
  assert.equal((await verify(config(), { headers: await signed(), body: BODY })).ok, true);
});

Deno.test("slack: refuses a tampered body, another secret, a right-length wrong value", async () => {
  const h = await signed();
  assert.equal(refused(await verify(config(), { headers: h, body: BODY + "x" })), "bad_signature");
  const other = await signed({ secret: "another" });
  assert.equal(refused(await verify(config(), { headers: other, body: BODY })), "bad_signature");
  const flipped = { ...h, "X-Slack-Signature": flipHex(h["X-Slack-Signature"]) };
  assert.equal(refused(await verify(config(), { headers: flipped, body: BODY })), "bad_signature");
});

Deno.test("slack: refuses stale and future timestamps", async () => {
  const stale = await signed({ ts: NOW_S - 301 });
  assert.equal(refused(await verify(config(), { headers: stale, body: BODY })), "stale_timestamp");
  const future = await signed({ ts: NOW_S + 301 });
  assert.equal(
    refused(await verify(config(), { headers: future, body: BODY })),
    "future_timestamp",
  );
});

Deno.test("slack: refuses a changed timestamp header", async () => {
  const h = { ...(await signed()), "X-Slack-Request-Timestamp": String(NOW_S - 1) };
  assert.equal(refused(await verify(config(), { headers: h, body: BODY })), "bad_signature");
});

Deno.test("slack: refuses missing and malformed headers", async () => {
  const h = await signed();
  const noSig = { "X-Slack-Request-Timestamp": h["X-Slack-Request-Timestamp"] };
  assert.equal(refused(await verify(config(), { headers: noSig, body: BODY })), "missing_header");
  const noTs = { "X-Slack-Signature": h["X-Slack-Signature"] };
  assert.equal(refused(await verify(config(), { headers: noTs, body: BODY })), "missing_header");
  for (
    const bad of [
      { ...h, "X-Slack-Signature": h["X-Slack-Signature"].replace("v0=", "v1=") },
      { ...h, "X-Slack-Signature": "v0=nothex" },
      { ...h, "X-Slack-Request-Timestamp": "yesterday" },
    ]
  ) {
    assert.equal(refused(await verify(config(), { headers: bad, body: BODY })), "malformed_header");
  }
});

Deno.test("slack: rotation accepts the old secret while listed, refuses it once removed", async () => {
  const old = await signed({ secret: "old" });
  const both = config({ secret: undefined, secrets: ["new", "old"] });
  assert.equal((await verify(both, { headers: old, body: BODY })).ok, true);
  const rotated = config({ secret: "new" });
  assert.equal(refused(await verify(rotated, { headers: old, body: BODY })), "bad_signature");
});
