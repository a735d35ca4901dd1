import assert from "node:assert/strict";
import { harness } from "../helpers/app.ts";
import { cheapAdmin, expectError, expectJson } from "./_helpers.ts";

Deno.test("users: admins only; create, list, duplicate 409, delete", async () => {
  const h = await harness();
  try {
    const admin = await cheapAdmin(h);
    const user = await h.tenant("plain");

    await expectError(
      h.call("GET", "/api/users", undefined, user.token),
      403,
      undefined,
      "forbidden",
    );
    await expectError(
      h.call("POST", "/api/users", { username: "x-user", password: "password-1" }, user.token),
      403,
      undefined,
      "forbidden",
    );
    await expectError(
      h.call("DELETE", `/api/users/${admin.id}`, undefined, user.token),
      403,
      undefined,
      "forbidden",
    );

    const created = await expectJson(
      h.call("POST", "/api/users", { username: "frank", password: "frank-pass-1" }, admin.token),
      201,
    );
    assert.match(created.id, /^user_[a-z0-9]+$/);
    assert.equal(created.username, "frank");
    assert.equal(created.role, "user");
    assert.equal(created.must_change_password, false);
    assert.equal("password" in created || "password_hash" in created, false);
    assert.equal(JSON.stringify(created).includes("pbkdf2"), false);

    await expectError(
      h.call("POST", "/api/users", { username: "frank", password: "other-pass-1" }, admin.token),
      409,
      "frank",
      "conflict",
    );
    await expectError(
      h.call("POST", "/api/users", { username: "ok-name", password: "short" }, admin.token),
      400,
      "password",
    );
    await expectError(
      h.call(
        "POST",
        "/api/users",
        { username: "no spaces!", password: "long-enough-1" },
        admin.token,
      ),
      400,
      "username",
    );
    await expectError(
      h.call("POST", "/api/users", {
        username: "roley",
        password: "long-enough-1",
        role: "root",
      }, admin.token),
      400,
      "role",
    );

    const list = await expectJson(h.call("GET", "/api/users", undefined, admin.token), 200);
    const names = list.items.map((u: { username: string }) => u.username).sort();
    assert.deepEqual(names, ["admin", "frank", "plain", "root"]);
    assert.equal(list.total, 4);
    assert.equal(JSON.stringify(list).includes("pbkdf2"), false, "no hashes in the list");
    const paged = await expectJson(
      h.call("GET", "/api/users?limit=2&offset=1", undefined, admin.token),
      200,
    );
    assert.equal(paged.items.length, 2);
    assert.equal(paged.total, 4);
    assert.equal(paged.limit, 2);
    assert.equal(paged.offset, 1);

    const frankToken = await h.login("frank", "frank-pass-1");
    await expectJson(h.call("GET", "/api/routes", undefined, frankToken), 200);

    await expectError(
      h.call("DELETE", `/api/users/${admin.id}`, undefined, admin.token),
      400,
      "id",
    );
    assert.deepEqual(
      await expectJson(h.call("DELETE", `/api/users/${created.id}`, undefined, admin.token), 200),
      { deleted: true },
    );
    await expectError(
      h.call("DELETE", `/api/users/${created.id}`, undefined, admin.token),
      404,
      undefined,
      "not_found",
    );
    // a deleted user's token is dead
    await expectError(h.call("GET", "/api/routes", undefined, frankToken), 401);
    const after = await expectJson(h.call("GET", "/api/users", undefined, admin.token), 200);
    assert.equal(after.total, 3);
  } finally {
    await h.close();
  }
});
