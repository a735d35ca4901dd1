/**
 * The admin pages' cookie session on the JSON API: the cookie authenticates like a bearer
 * token, but a state-changing request with it must come from this origin (CSRF), and
 * GET /api/me answers also before the first password change.
 */
import assert from "node:assert/strict";
import { harness } from "../helpers/app.ts";
import { expectError, expectJson } from "./_helpers.ts";

const cookie = (token: string) => ({ cookie: `er_session=${token}` });

Deno.test("cookie session: reads need the cookie only, writes need the same origin", async () => {
  const h = await harness();
  try {
    const { token } = await h.tenant("cookie-user");
    const list = await expectJson(
      h.call("GET", "/api/destinations", undefined, undefined, cookie(token)),
      200,
    );
    assert.equal(list.total, 0);
    const body = { name: "out", type: "log", config: {} };
    await expectError(
      h.call("POST", "/api/destinations", body, undefined, cookie(token)),
      403,
      "origin",
      "cross_site",
    );
    await expectError(
      h.call("POST", "/api/destinations", body, undefined, {
        ...cookie(token),
        origin: "https://evil.example",
      }),
      403,
      undefined,
      "cross_site",
    );
    await expectError(
      h.call("POST", "/api/destinations", body, undefined, {
        ...cookie(token),
        "sec-fetch-site": "cross-site",
        origin: "http://localhost",
      }),
      403,
      undefined,
      "cross_site",
    );
    // app.request's URL is http://localhost/...
    await expectJson(
      h.call("POST", "/api/destinations", body, undefined, {
        ...cookie(token),
        origin: "http://localhost",
      }),
      201,
    );
    await expectJson(
      h.call("POST", "/api/destinations", { ...body, name: "two" }, undefined, {
        ...cookie(token),
        "sec-fetch-site": "same-origin",
      }),
      201,
    );
    // a bearer token needs no origin: API clients are not browsers
    await expectJson(h.call("POST", "/api/destinations", { ...body, name: "three" }, token), 201);
    await expectError(
      h.call("GET", "/api/destinations", undefined, undefined, cookie("not-a-token")),
      401,
    );
    await expectError(h.call("GET", "/api/destinations"), 401, "bearer");
  } finally {
    await h.close();
  }
});

Deno.test("GET /api/me: the user behind the token, also while the password must change", async () => {
  const h = await harness();
  try {
    const first = await h.login("admin", "admin");
    const me = await expectJson(h.call("GET", "/api/me", undefined, first), 200);
    assert.equal(me.username, "admin");
    assert.equal(me.role, "admin");
    assert.equal(me.must_change_password, true);
    assert.equal(me.password_hash, undefined);
    await expectError(
      h.call("GET", "/api/routes", undefined, first),
      403,
      undefined,
      "password_change_required",
    );
    const { token } = await h.tenant("me-user");
    const u = await expectJson(h.call("GET", "/api/me", undefined, undefined, cookie(token)), 200);
    assert.deepEqual([u.username, u.role, u.must_change_password], ["me-user", "user", false]);
  } finally {
    await h.close();
  }
});
