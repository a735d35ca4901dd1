import assert from "node:assert/strict";
import { harness } from "../helpers/app.ts";
import type { Harness } from "../helpers/app.ts";
import { hashPassword } from "../../core/auth/password.ts";
import { newId } from "../../core/model/ids.ts";
import { expectError, expectJson } from "./_helpers.ts";

const loginFrom = (h: Harness, ip: string, username: string, password: string) =>
  Promise.resolve(h.app.request("/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  }, { remoteAddr: ip }));

Deno.test("login: good password, bad password, unknown user", async () => {
  const h = await harness();
  try {
    await h.tenant("alice");
    const ok = await expectJson(
      h.call("POST", "/login", { username: "alice", password: "tenant-pass-1" }),
      200,
    );
    assert.equal(typeof ok.token, "string");
    assert.equal(ok.token.split(".").length, 3, "a JWT");
    assert.equal(ok.must_change_password, false);
    assert.ok(Date.parse(ok.expires_at) > Date.now(), ok.expires_at);
    const me = await expectJson(h.call("GET", "/api/destinations", undefined, ok.token), 200);
    assert.deepEqual(me.items, []);

    const bad = await expectError(
      h.call("POST", "/login", { username: "alice", password: "wrong-pass-1" }),
      401,
    );
    assert.equal(bad.code, "invalid_credentials");
    const unknown = await expectError(
      h.call("POST", "/login", { username: "nobody", password: "tenant-pass-1" }),
      401,
    );
    // The same answer for an unknown user as for a wrong password: nothing to enumerate.
    assert.deepEqual(unknown, bad);

    await expectError(h.call("POST", "/login", { username: "alice" }), 400, "password");
    await expectError(h.call("GET", "/api/destinations"), 401, undefined, "unauthorized");
    await expectError(
      h.call("GET", "/api/destinations", undefined, "not.a.jwt"),
      401,
      undefined,
      "unauthorized",
    );
  } finally {
    await h.close();
  }
});

Deno.test("login: repeated failures from one address answer 429 with Retry-After", async () => {
  const h = await harness();
  try {
    await h.tenant("bob");
    const ip = "198.51.100.7";
    for (let i = 0; i < 5; i++) {
      const r = await loginFrom(h, ip, "bob", `wrong-${i}`);
      assert.equal(r.status, 401, `failure ${i + 1}`);
      await r.body?.cancel();
    }
    const blocked = await loginFrom(h, ip, "bob", "tenant-pass-1");
    assert.equal(blocked.status, 429, "even the right password waits out the block");
    const retryAfter = Number(blocked.headers.get("retry-after"));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After ${retryAfter}`);
    const body = await blocked.json();
    assert.equal(body.error.code, "too_many_attempts");

    // another address is not affected
    const other = await loginFrom(h, "198.51.100.8", "bob", "tenant-pass-1");
    assert.equal(other.status, 200);
    await other.body?.cancel();
  } finally {
    await h.close();
  }
});

Deno.test("logout revokes the token", async () => {
  const h = await harness();
  try {
    const { token } = await h.tenant("carol");
    const second = await h.login("carol", "tenant-pass-1");
    assert.deepEqual(await expectJson(h.call("POST", "/logout", undefined, token), 200), {
      ok: true,
    });
    await expectError(
      h.call("GET", "/api/routes", undefined, token),
      401,
      undefined,
      "unauthorized",
    );
    await expectError(h.call("POST", "/logout", undefined, token), 401);
    // only that token: another session of the same user goes on
    await expectJson(h.call("GET", "/api/routes", undefined, second), 200);
    await expectError(h.call("POST", "/logout"), 401);
  } finally {
    await h.close();
  }
});

Deno.test("change-password: wrong current, too short, then the old token is revoked", async () => {
  const h = await harness();
  try {
    const { token } = await h.tenant("dave");
    await expectError(
      h.call("POST", "/change-password", {
        current_password: "not-my-pass",
        new_password: "new-pass-123",
      }, token),
      401,
      "current_password",
    );
    await expectError(
      h.call("POST", "/change-password", {
        current_password: "tenant-pass-1",
        new_password: "short",
      }, token),
      400,
      "new_password",
    );
    await expectError(
      h.call("POST", "/change-password", {
        current_password: "tenant-pass-1",
        new_password: "tenant-pass-1",
      }, token),
      400,
      "new_password",
    );
    await expectError(
      h.call("POST", "/change-password", { new_password: "new-pass-123" }, token),
      400,
      "current_password",
    );
    await expectError(
      h.call("POST", "/change-password", {
        current_password: "tenant-pass-1",
        new_password: "new-pass-123",
      }),
      401,
    );
    assert.deepEqual(
      await expectJson(
        h.call("POST", "/change-password", {
          current_password: "tenant-pass-1",
          new_password: "new-pass-123",
        }, token),
        200,
      ),
      { ok: true },
    );
    await expectError(h.call("GET", "/api/routes", undefined, token), 401);
    await expectError(
      h.call("POST", "/login", { username: "dave", password: "tenant-pass-1" }),
      401,
    );
    const fresh = await h.login("dave", "new-pass-123");
    await expectJson(h.call("GET", "/api/routes", undefined, fresh), 200);
  } finally {
    await h.close();
  }
});

Deno.test("a user who must change the password gets 403 password_change_required", async () => {
  const h = await harness();
  try {
    const now = Date.now();
    await h.store.createUser({
      id: newId("user"),
      username: "erin",
      passwordHash: await hashPassword("first-pass-1", 1000),
      role: "user",
      mustChangePassword: true,
      createdAt: now,
      updatedAt: now,
    });
    const first = await expectJson(
      h.call("POST", "/login", { username: "erin", password: "first-pass-1" }),
      200,
    );
    assert.equal(first.must_change_password, true);
    for (
      const [method, path] of [
        ["GET", "/api/routes"],
        ["GET", "/api/destinations"],
        ["GET", "/api/events"],
        ["GET", "/api/stats"],
        ["POST", "/api/destinations"],
      ]
    ) {
      await expectError(
        h.call(method, path, method === "POST" ? {} : undefined, first.token),
        403,
        undefined,
        "password_change_required",
      );
    }
    await expectJson(
      h.call("POST", "/change-password", {
        current_password: "first-pass-1",
        new_password: "second-pass-2",
      }, first.token),
      200,
    );
    const next = await expectJson(
      h.call("POST", "/login", { username: "erin", password: "second-pass-2" }),
      200,
    );
    assert.equal(next.must_change_password, false);
    await expectJson(h.call("GET", "/api/routes", undefined, next.token), 200);
  } finally {
    await h.close();
  }
});
