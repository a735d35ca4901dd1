import assert from "node:assert/strict";
import { refused, verify } from "./_helpers.ts";

const basicHeader = (user: string, pass: string) =>
  "Basic " + btoa(String.fromCharCode(...new TextEncoder().encode(`${user}:${pass}`)));

Deno.test("bearer: accepts the token (scheme case-insensitive) and any rotated token", async () => {
  const config = { preset: "bearer", token: "tok_new", tokens: ["tok_old"] };
  for (const value of ["Bearer tok_new", "bearer tok_old", "BEARER  tok_new "]) {
    assert.equal((await verify(config, { headers: { Authorization: value } })).ok, true, value);
  }
});

Deno.test("bearer: refuses a wrong, same-length or removed token, missing and malformed headers", async () => {
  const config = { preset: "bearer", token: "tok_new" };
  for (const value of ["Bearer tok_neW", "Bearer tok_old", "Bearer tok_new2"]) {
    assert.equal(
      refused(await verify(config, { headers: { Authorization: value } })),
      "bad_credentials",
    );
  }
  assert.equal(refused(await verify(config, { headers: {} })), "missing_header");
  for (const value of ["tok_new", "Basic tok_new", "Bearer "]) {
    assert.equal(
      refused(await verify(config, { headers: { Authorization: value } })),
      "malformed_header",
    );
  }
});

Deno.test("basic: accepts the credentials, a password with a colon and non-ASCII", async () => {
  const config = { preset: "basic", username: "hook", password: "pä:ss" };
  const result = await verify(config, { headers: { Authorization: basicHeader("hook", "pä:ss") } });
  assert.equal(result.ok, true);
});

Deno.test("basic: refuses a wrong user or password, missing and malformed headers", async () => {
  const config = { preset: "basic", username: "hook", password: "pass" };
  for (const [user, pass] of [["hook", "pasS"], ["Hook", "pass"], ["hook", ""]]) {
    const headers = { Authorization: basicHeader(user, pass) };
    assert.equal(refused(await verify(config, { headers })), "bad_credentials", `${user}:${pass}`);
  }
  assert.equal(refused(await verify(config, { headers: {} })), "missing_header");
  for (const value of ["Basic !!!", "Basic " + btoa("no-colon"), "Bearer x"]) {
    assert.equal(
      refused(await verify(config, { headers: { Authorization: value } })),
      "malformed_header",
    );
  }
});

Deno.test("api_key: default X-API-Key header, custom header, rotation", async () => {
  assert.equal(
    (await verify({ preset: "api_key", key: "k1" }, { headers: { "x-api-key": "k1" } })).ok,
    true,
  );
  const custom = { preset: "api_key", header: "X-Hook-Key", keys: ["k1", "k2"] };
  assert.equal((await verify(custom, { headers: { "X-Hook-Key": "k2" } })).ok, true);
  assert.equal(
    refused(await verify(custom, { headers: { "X-Hook-Key": "k3" } })),
    "bad_credentials",
  );
  assert.equal(refused(await verify(custom, { headers: { "X-API-Key": "k1" } })), "missing_header");
});
