import assert from "node:assert/strict";
import { harness } from "../helpers/app.ts";
import { createDestination, expectError, expectJson } from "./_helpers.ts";

Deno.test("destinations: create, get, list with paging, update, delete", async () => {
  const h = await harness();
  try {
    const { token, id: owner } = await h.tenant("dest-owner");
    const created = await expectJson(
      h.call("POST", "/api/destinations", {
        name: "orders-out",
        type: "http",
        config: { url: "https://example.com/hook" },
        retry: { max_attempts: 3, schedule_seconds: [0, 10, 60] },
      }, token),
      201,
    );
    assert.match(created.id, /^dest_[a-z0-9]+$/);
    assert.equal(created.name, "orders-out");
    assert.equal(created.type, "http");
    assert.deepEqual(created.config, { url: "https://example.com/hook" });
    assert.deepEqual(created.retry, { max_attempts: 3, schedule_seconds: [0, 10, 60] });
    assert.equal(created.active, true);
    assert.equal(created.owner, owner);
    assert.ok(!Number.isNaN(Date.parse(created.created_at)));

    const got = await expectJson(
      h.call("GET", `/api/destinations/${created.id}`, undefined, token),
      200,
    );
    assert.deepEqual(got, created);

    const ids = [created.id];
    for (let i = 0; i < 4; i++) ids.push((await createDestination(h, token, { name: `d${i}` })).id);

    const all = await expectJson(h.call("GET", "/api/destinations", undefined, token), 200);
    assert.equal(all.total, 5);
    assert.equal(all.limit, 50);
    assert.equal(all.offset, 0);
    assert.deepEqual(all.items.map((d: { id: string }) => d.id).sort(), [...ids].sort());

    const seen: string[] = [];
    for (const offset of [0, 2, 4]) {
      const page = await expectJson(
        h.call("GET", `/api/destinations?limit=2&offset=${offset}`, undefined, token),
        200,
      );
      assert.equal(page.total, 5);
      assert.equal(page.limit, 2);
      assert.equal(page.offset, offset);
      assert.equal(page.items.length, offset === 4 ? 1 : 2);
      seen.push(...page.items.map((d: { id: string }) => d.id));
    }
    assert.deepEqual(
      seen,
      all.items.map((d: { id: string }) => d.id),
      "pages follow the list order",
    );
    const past = await expectJson(
      h.call("GET", "/api/destinations?limit=2&offset=10", undefined, token),
      200,
    );
    assert.deepEqual(past.items, []);
    assert.equal(past.total, 5);
    await expectError(h.call("GET", "/api/destinations?limit=0", undefined, token), 400, "limit");
    await expectError(h.call("GET", "/api/destinations?limit=501", undefined, token), 400, "limit");
    await expectError(
      h.call("GET", "/api/destinations?offset=-1", undefined, token),
      400,
      "offset",
    );

    const updated = await expectJson(
      h.call("PUT", `/api/destinations/${created.id}`, {
        name: "orders-out-2",
        type: "http",
        config: { url: "https://example.org/other", method: "PUT" },
        active: false,
      }, token),
      200,
    );
    assert.equal(updated.id, created.id);
    assert.equal(updated.name, "orders-out-2");
    assert.equal(updated.config.url, "https://example.org/other");
    assert.equal(updated.active, false);
    assert.equal(updated.created_at, created.created_at);
    assert.ok(Date.parse(updated.updated_at) > Date.parse(created.updated_at));
    assert.deepEqual(
      await expectJson(h.call("GET", `/api/destinations/${created.id}`, undefined, token), 200),
      updated,
    );

    assert.deepEqual(
      await expectJson(h.call("DELETE", `/api/destinations/${created.id}`, undefined, token), 200),
      { deleted: true },
    );
    await expectError(
      h.call("GET", `/api/destinations/${created.id}`, undefined, token),
      404,
      created.id,
      "not_found",
    );
    await expectError(h.call("DELETE", `/api/destinations/${created.id}`, undefined, token), 404);
    await expectError(
      h.call("PUT", `/api/destinations/${created.id}`, { name: "x", type: "log" }, token),
      404,
    );
    const after = await expectJson(h.call("GET", "/api/destinations", undefined, token), 200);
    assert.equal(after.total, 4);
  } finally {
    await h.close();
  }
});

Deno.test("destinations: validation errors are 400 and name the field", async () => {
  const h = await harness();
  try {
    const { token } = await h.tenant("validator");
    const post = (body: unknown) => h.call("POST", "/api/destinations", body, token);
    const cases: Array<[unknown, string]> = [
      [{ name: "", type: "log" }, "name"],
      [{ type: "log" }, "name"],
      [{ name: "x" }, "type"],
      [{ name: "x", type: "carrier-pigeon" }, "type"],
      [{ name: "x", type: "http", config: { url: "ftp://example.com" } }, "config.url"],
      [{ name: "x", type: "http", config: {} }, "config.url"],
      [
        { name: "x", type: "http", config: { url: "https://e.com", timeout_ms: 0 } },
        "config.timeout_ms",
      ],
      [{ name: "x", type: "log", config: { pretty: "yes" } }, "config.pretty"],
      [{ name: "x", type: "log", retry: { max_attempts: 0 } }, "retry.max_attempts"],
      [{ name: "x", type: "log", active: "no" }, "active"],
    ];
    for (const [body, field] of cases) {
      const e = await expectError(post(body), 400, field);
      assert.equal(e.code, "invalid_body", `${JSON.stringify(body)} -> ${e.message}`);
    }
    const bad = await expectError(
      h.call("POST", "/api/destinations", "{not json", token),
      400,
    );
    assert.equal(bad.code, "invalid_json");
    const d = await createDestination(h, token);
    await expectError(
      h.call("PUT", `/api/destinations/${d.id}`, { name: "x", type: "http", config: {} }, token),
      400,
      "config.url",
    );
    // nothing was created by the failures
    const list = await expectJson(h.call("GET", "/api/destinations", undefined, token), 200);
    assert.equal(list.total, 1);
  } finally {
    await h.close();
  }
});
