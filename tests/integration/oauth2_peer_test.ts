/**
 * The OAuth2 test server (tests/peers/servers/oauth2.sh) does what other tests rely on, the way
 * its header documents: client credentials, a user's tokens from the test endpoint, refresh
 * with rotation, introspection, revocation.
 */
import assert from "node:assert/strict";
import { mustPeer, needs } from "../helpers/peers.ts";

const opts = needs("OAUTH2_TOKEN_URL");

async function form(url: string, fields: Record<string, string>, basic?: [string, string]) {
  const r = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...(basic ? { authorization: `Basic ${btoa(`${basic[0]}:${basic[1]}`)}` } : {}),
    },
    body: new URLSearchParams(fields).toString(),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : {} };
}

Deno.test({
  name: "oauth2 peer: client credentials, user tokens, rotating refresh, introspection, revocation",
  ...opts,
  async fn() {
    const token = mustPeer("OAUTH2_TOKEN_URL");
    const client: [string, string] = [
      mustPeer("OAUTH2_CLIENT_ID"),
      mustPeer("OAUTH2_CLIENT_SECRET"),
    ];
    const intro: [string, string] = [
      mustPeer("OAUTH2_INTROSPECT_CLIENT_ID"),
      mustPeer("OAUTH2_INTROSPECT_CLIENT_SECRET"),
    ];
    const introspect = async (t: string) =>
      (await form(mustPeer("OAUTH2_INTROSPECTION_URL"), { token: t }, intro)).body;

    const cc = await form(token, { grant_type: "client_credentials", scope: "read" }, client);
    assert.equal(cc.status, 200, JSON.stringify(cc.body));
    assert.equal(typeof cc.body.access_token, "string");
    assert.equal((await introspect(cc.body.access_token)).active, true);
    const wrong = await form(token, { grant_type: "client_credentials" }, [client[0], "nope"]);
    assert.equal(wrong.status, 401);
    const post = await form(token, {
      grant_type: "client_credentials",
      client_id: mustPeer("OAUTH2_POST_CLIENT_ID"),
      client_secret: client[1],
    });
    assert.equal(post.status, 200, JSON.stringify(post.body));

    const r = await fetch(mustPeer("OAUTH2_TEST_TOKENS_URL"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sub: "alice" }),
    });
    const user = await r.json();
    assert.equal(r.status, 200, JSON.stringify(user));
    const seen = await introspect(user.access_token);
    assert.equal(seen.active, true);
    assert.equal(seen.sub, "alice");

    const refreshed = await form(token, {
      grant_type: "refresh_token",
      refresh_token: user.refresh_token,
    }, client);
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.notEqual(refreshed.body.refresh_token, user.refresh_token, "rotated");
    const reused = await form(token, {
      grant_type: "refresh_token",
      refresh_token: user.refresh_token,
    }, client);
    assert.equal(reused.status, 400, "a rotated refresh token is spent");
    assert.equal(reused.body.error, "invalid_grant");

    const fresh = await (await fetch(mustPeer("OAUTH2_TEST_TOKENS_URL"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sub: "bob" }),
    })).json();
    const revoked = await form(mustPeer("OAUTH2_REVOCATION_URL"), {
      token: fresh.refresh_token,
    }, client);
    assert.equal(revoked.status, 200);
    assert.equal((await introspect(fresh.access_token)).active, false, "its grant ended");
    const afterRevoke = await form(token, {
      grant_type: "refresh_token",
      refresh_token: fresh.refresh_token,
    }, client);
    assert.equal(afterRevoke.status, 400);
  },
});
