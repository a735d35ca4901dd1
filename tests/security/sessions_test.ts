/**
 * Sessions and login: a password change (own, or by an admin / the CLI) and a user deletion
 * end every session of that user; login, password change and admin API bodies are bounded
 * (413 without reading past the limit), passwords at most 1,024 characters; the first-start
 * account logs in only from loopback until its password is changed, and the log names the
 * real listen address.
 */
import assert from "node:assert/strict";
import { harness } from "../helpers/app.ts";
import { cheapAdmin, expectError, expectJson } from "../api/_helpers.ts";
import { hashPassword } from "../../core/auth/password.ts";
import { ADMIN_BODY_MAX } from "../../core/api/body_limit.ts";
import { freePort, startRouter } from "../helpers/router_process.ts";

Deno.test("a password change ends every session of the user, not only the one that made it", async () => {
  const h = await harness();
  try {
    const { id } = await h.tenant("two-devices");
    const laptop = await h.login("two-devices", "tenant-pass-1");
    const phone = await h.login("two-devices", "tenant-pass-1");
    await expectJson(h.call("GET", "/api/routes", undefined, phone), 200);
    await expectJson(
      h.call("POST", "/change-password", {
        current_password: "tenant-pass-1",
        new_password: "tenant-pass-2",
      }, laptop),
      200,
    );
    await expectError(h.call("GET", "/api/routes", undefined, phone), 401, "password changed");
    await expectError(h.call("GET", "/api/routes", undefined, laptop), 401);
    const fresh = await h.login("two-devices", "tenant-pass-2");
    await expectJson(h.call("GET", "/api/routes", undefined, fresh), 200);

    // set by an admin outside the API (what `event-router user passwd` does): the same
    await h.store.updateUser(id, { passwordHash: await hashPassword("tenant-pass-3", 1000) });
    await expectError(h.call("GET", "/api/routes", undefined, fresh), 401, "password changed");
  } finally {
    await h.close();
  }
});

Deno.test("deleting a user ends its sessions", async () => {
  const h = await harness();
  try {
    const admin = await cheapAdmin(h);
    const { id, token } = await h.tenant("leaver");
    await expectJson(h.call("GET", "/api/routes", undefined, token), 200);
    await expectJson(h.call("DELETE", `/api/users/${id}`, undefined, admin.token), 200);
    await expectError(h.call("GET", "/api/routes", undefined, token), 401);
  } finally {
    await h.close();
  }
});

Deno.test("login, change-password and API bodies: size and password length bounded", async () => {
  const h = await harness();
  try {
    const admin = await cheapAdmin(h);
    const pad = "x".repeat(ADMIN_BODY_MAX);
    for (
      const [path, token] of [
        ["/login", undefined],
        ["/change-password", admin.token],
        ["/api/destinations", admin.token],
        ["/api/settings", admin.token],
        ["/api/users", admin.token],
      ] as const
    ) {
      const r = await h.call("POST", path, { username: pad, password: pad }, token);
      assert.equal(r.status, 413, `${path}: ${r.status}`);
      assert.equal((await r.json()).error.code, "payload_too_large", path);
    }
    // a chunked body (no Content-Length) is cut off where it passes the limit
    const chunks = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 20; i++) c.enqueue(new TextEncoder().encode("x".repeat(8 * 1024)));
        c.close();
      },
    });
    const chunked = await h.app.request("/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: chunks,
    }, { remoteAddr: "127.0.0.1" });
    assert.equal(chunked.status, 413);
    // routes may carry larger definitions (JSON Schemas, JSONata)
    const big = await h.call("POST", "/api/routes", {
      name: "big",
      description: "d".repeat(1000),
      pipeline: [{
        type: "validate",
        schema: { type: "object", description: "s".repeat(100 * 1024) },
      }],
    }, admin.token);
    assert.equal(big.status, 201, await big.text());

    const long = "p".repeat(1025);
    await expectError(
      h.call("POST", "/login", { username: "root", password: long }),
      400,
      "password",
    );
    await expectError(
      h.call("POST", "/api/users", { username: "longpw", password: long }, admin.token),
      400,
      "password",
    );
    await expectJson(
      h.call("POST", "/api/users", { username: "okpw", password: "p".repeat(1024) }, admin.token),
      201,
    );
  } finally {
    await h.close();
  }
});

Deno.test("the first-start admin logs in only from loopback until its password is changed", async () => {
  const h = await harness();
  try {
    const from = (remoteAddr: string) =>
      h.app.request("/login", {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": "127.0.0.1" },
        body: JSON.stringify({ username: "admin", password: "admin" }),
      }, { remoteAddr, trustProxy: true });
    await expectError(from("192.0.2.7"), 403, "from this machine", "loopback_only");
    await expectJson(from("127.0.0.1"), 200);
    await expectJson(from("::1"), 200);
    await h.adminToken(); // changes the password (from loopback)
    const after = await h.app.request("/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "admin", password: "admin-pass-1" }),
    }, { remoteAddr: "192.0.2.7" });
    assert.equal(after.status, 200, "once changed, from anywhere");
  } finally {
    await h.close();
  }
});

/** An address of this machine that is not loopback, if it has one. */
function externalAddress(): string | null {
  return Deno.networkInterfaces().find((i) => i.family === "IPv4" && !i.address.startsWith("127."))
    ?.address ?? null;
}

Deno.test({
  name: "real process on 0.0.0.0: the log names it, non-loopback first login refused, 413 unread",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const port = freePort();
    const router = await startRouter({ port, env: { HOST: "0.0.0.0", LOG_LEVEL: "info" } });
    try {
      const logs = router.logs();
      assert.match(logs, new RegExp(`event router listening on 0\\.0\\.0\\.0:${port}`));
      assert.match(logs, /"listen":"0\.0\.0\.0:\d+"/);
      assert.match(
        logs,
        /admin still has its first-start password: logins for it are accepted only/,
      );
      const login = (host: string) =>
        fetch(`http://${host}:${port}/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ username: "admin", password: "admin" }),
        });
      const ext = externalAddress();
      assert.ok(ext, "this machine has a non-loopback IPv4 address to test from");
      const refused = await login(ext);
      assert.equal(refused.status, 403, "from a non-loopback address");
      assert.equal((await refused.json()).error.code, "loopback_only");
      const ok = await login("127.0.0.1");
      assert.equal(ok.status, 200);
      await ok.body?.cancel();

      // A body announced as 10 MB is answered 413 before a byte of it is sent.
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(new TextEncoder().encode(
        "POST /login HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n" +
          "content-length: 10000000\r\n\r\n",
      ));
      const buf = new Uint8Array(4096);
      const n = await Promise.race([
        conn.read(buf),
        new Promise<null>((r) => setTimeout(() => r(null), 5_000)),
      ]);
      assert.ok(n, "an answer came without the body being sent");
      assert.match(new TextDecoder().decode(buf.subarray(0, n!)), /^HTTP\/1\.1 413/);
      conn.close();
    } finally {
      await router.kill("SIGTERM");
      await Deno.remove(router.dir, { recursive: true }).catch(() => {});
    }
  },
});
