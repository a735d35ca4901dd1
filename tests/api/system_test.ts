import assert from "node:assert/strict";
import { harness } from "../helpers/app.ts";
import { cheapAdmin, expectError, expectJson } from "./_helpers.ts";

Deno.test("settings: only admins read and write, unknown keys are 400", async () => {
  const h = await harness();
  try {
    const admin = await cheapAdmin(h);
    const user = await h.tenant("settings-user");
    assert.deepEqual(
      await expectJson(h.call("GET", "/api/settings", undefined, admin.token), 200),
      {},
    );
    await expectError(
      h.call("POST", "/api/settings", { retention_days: 3 }, user.token),
      403,
      undefined,
      "forbidden",
    );
    // the allow lists name internal hosts: not for tenants' eyes
    await expectError(
      h.call("GET", "/api/settings", undefined, user.token),
      403,
      undefined,
      "forbidden",
    );
    const saved = await expectJson(
      h.call("POST", "/api/settings", {
        retention_days: 3,
        allow_hosts: ["hooks.internal:443"],
        allow_cidrs: ["10.0.0.0/8"],
      }, admin.token),
      200,
    );
    assert.deepEqual(saved, {
      retention_days: 3,
      allow_hosts: ["hooks.internal:443"],
      allow_cidrs: ["10.0.0.0/8"],
    });
    // a partial update keeps the other keys
    await expectJson(h.call("POST", "/api/settings", { retention_days: 5 }, admin.token), 200);
    assert.deepEqual(
      await expectJson(h.call("GET", "/api/settings", undefined, admin.token), 200),
      {
        retention_days: 5,
        allow_hosts: ["hooks.internal:443"],
        allow_cidrs: ["10.0.0.0/8"],
      },
    );
    assert.deepEqual(await h.store.getSettings(), {
      retention_days: 5,
      allow_hosts: ["hooks.internal:443"],
      allow_cidrs: ["10.0.0.0/8"],
    });
    await expectError(
      h.call("POST", "/api/settings", { retention_dayz: 3 }, admin.token),
      400,
      "retention_dayz",
    );
    // validated by the parsers that apply them: nothing accepted can fail later
    await expectError(
      h.call("POST", "/api/settings", { allow_cidrs: ["D:/8"] }, admin.token),
      400,
      "allow_cidrs.0",
    );
    await expectError(
      h.call("POST", "/api/settings", { allow_cidrs: ["10.0.0.0/33"] }, admin.token),
      400,
      "allow_cidrs.0",
    );
    await expectError(
      h.call("POST", "/api/settings", { allow_hosts: ["hooks.internal"] }, admin.token),
      400,
      "allow_hosts.0",
    );
    await expectError(
      h.call("POST", "/api/settings", { retention_days: "3" }, admin.token),
      400,
      "retention_days",
    );
    await expectError(h.call("GET", "/api/settings"), 401);
    assert.equal((await h.store.getSettings()).retention_days, 5, "refused writes changed nothing");
  } finally {
    await h.close();
  }
});

Deno.test("health, openapi.json, docs, unknown paths, X-Request-Id", async () => {
  let healthy = true;
  const h = await harness({ healthChecks: { broker: () => Promise.resolve(healthy) } });
  try {
    const res = await h.call("GET", "/health");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    assert.deepEqual(await res.json(), {
      status: "ok",
      version: "test",
      checks: { store: "ok", broker: "ok", destinations: "ok", triggers: "ok" },
    });
    healthy = false;
    const degraded = await expectJson(h.call("GET", "/health"), 200);
    assert.equal(degraded.checks.broker, "degraded");
    assert.equal(degraded.status, "degraded", "a part that needs attention, still serving");

    const spec = await expectJson(h.call("GET", "/openapi.json"), 200);
    assert.equal(spec.openapi, "3.1.0");
    assert.equal(spec.info.title, "Event Router API");
    assert.equal(typeof spec.info.version, "string");
    const paths = Object.keys(spec.paths);
    for (
      const p of [
        "/login",
        "/logout",
        "/change-password",
        "/api/users",
        "/api/users/{id}",
        "/api/destinations",
        "/api/destinations/{id}",
        "/api/routes",
        "/api/routes/{id}",
        "/api/routes/{id}/test",
        "/api/events",
        "/api/events/{id}",
        "/api/events/{id}/replay",
        "/api/dlq/messages",
        "/api/dlq/stats",
        "/api/dlq/retry/{id}",
        "/api/dlq/retry",
        "/api/dlq/discard",
        "/api/stats",
        "/api/settings",
      ]
    ) assert.ok(paths.includes(p), `openapi.json lists ${p}; has ${paths.join(", ")}`);
    for (const [path, item] of Object.entries(spec.paths as Record<string, object>)) {
      for (const [method, op] of Object.entries(item)) {
        assert.ok(
          ["get", "post", "put", "delete", "patch"].includes(method),
          `${path}: unexpected key ${method}`,
        );
        assert.ok(
          Object.keys((op as { responses: object }).responses).length > 0,
          `${method} ${path}`,
        );
      }
    }
    assert.equal(spec.components.securitySchemes.bearerAuth.scheme, "bearer");
    assert.deepEqual(spec.paths["/api/routes"].get.security, [{ bearerAuth: [] }]);
    assert.ok(spec.components.schemas.Error, "the error shape is described");

    const docs = await h.call("GET", "/docs");
    assert.equal(docs.status, 200);
    assert.match(docs.headers.get("content-type") ?? "", /text\/html/);
    const html = await docs.text();
    assert.match(html, /<html/i);
    assert.ok(html.includes("/openapi.json"), "the docs page loads the spec");

    const missing = await expectError(h.call("GET", "/nowhere"), 404, "/nowhere", "not_found");
    assert.ok(missing.message.includes("GET"));

    const echoed = await h.call("GET", "/health", undefined, undefined, {
      "x-request-id": "req-42.a",
    });
    assert.equal(echoed.headers.get("x-request-id"), "req-42.a");
    await echoed.body?.cancel();
    const generated = await h.call("GET", "/health");
    assert.match(generated.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
    await generated.body?.cancel();
    const other = await h.call("GET", "/health");
    assert.notEqual(other.headers.get("x-request-id"), generated.headers.get("x-request-id"));
    await other.body?.cancel();
    // a header that could forge log lines is replaced, not echoed
    const forged = await h.call("GET", "/health", undefined, undefined, {
      "x-request-id": "a b\tc",
    });
    assert.match(forged.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
    await forged.body?.cancel();
    // errors carry it too
    const err = await h.call("GET", "/api/routes", undefined, undefined, { "x-request-id": "r-1" });
    assert.equal(err.status, 401);
    assert.equal(err.headers.get("x-request-id"), "r-1");
    await err.body?.cancel();
  } finally {
    await h.close();
  }
});

Deno.test("the admin surface sends hardening headers; webhooks stay lean", async () => {
  const h = await harness();
  try {
    const r = await h.call("POST", "/login", { username: "nobody", password: "x" });
    await r.body?.cancel();
    assert.equal(r.headers.get("x-content-type-options"), "nosniff");
    assert.equal(r.headers.get("x-frame-options"), "SAMEORIGIN");
    const w = await h.call("POST", "/webhook/wh_doesnotexist", {});
    await w.body?.cancel();
    assert.equal(w.headers.get("x-frame-options"), null);
  } finally {
    await h.close();
  }
});
