import assert from "node:assert/strict";
import { harness } from "../helpers/app.ts";
import { cheapAdmin, createDestination, createRoute, expectError, expectJson } from "./_helpers.ts";

const ENDPOINT = /^\/webhook\/wh_[A-Za-z0-9_-]{20,}$/;

Deno.test("routes: create, get, list with paging, update, delete", async () => {
  const h = await harness();
  try {
    const { token, id: owner } = await h.tenant("route-owner");
    const dest = await createDestination(h, token, { name: "primary" });
    const spare = await createDestination(h, token, { name: "spare" });
    const created = await expectJson(
      h.call("POST", "/api/routes", {
        name: "github",
        description: "pushes",
        destinations: [{ destination_id: dest.id, fallback_destination_id: spare.id }],
        filters: { headers: { "X-GitHub-Event": "push" } },
        response: { status: 200, body: "ok" },
        limits: { max_body_bytes: 1000 },
      }, token),
      201,
    );
    assert.match(created.id, /^route_[a-z0-9]+$/);
    assert.match(created.endpoint, ENDPOINT);
    assert.equal(created.name, "github");
    assert.equal(created.description, "pushes");
    assert.equal(created.method, "POST", "POST by default");
    assert.equal(created.active, true);
    assert.equal(created.owner, owner);
    assert.equal(created.version, 1);
    assert.deepEqual(created.destinations, [
      { destination_id: dest.id, fallback_destination_id: spare.id },
    ]);
    assert.deepEqual(created.filters, { headers: { "X-GitHub-Event": "push" } });
    assert.deepEqual(created.response, { status: 200, body: "ok" });
    assert.deepEqual(created.limits, { max_body_bytes: 1000 });

    const got = await expectJson(h.call("GET", `/api/routes/${created.id}`, undefined, token), 200);
    assert.deepEqual(got, created);

    const endpoints = new Set([created.endpoint]);
    const ids = [created.id];
    for (let i = 0; i < 6; i++) {
      const r = await createRoute(h, token, { name: `r${i}`, method: "ANY" });
      assert.match(r.endpoint, ENDPOINT);
      endpoints.add(r.endpoint);
      ids.push(r.id);
    }
    assert.equal(endpoints.size, 7, "every route has its own endpoint");

    const all = await expectJson(h.call("GET", "/api/routes", undefined, token), 200);
    assert.equal(all.total, 7);
    assert.deepEqual(all.items.map((r: { id: string }) => r.id).sort(), [...ids].sort());
    const seen: string[] = [];
    for (const offset of [0, 3, 6]) {
      const page = await expectJson(
        h.call("GET", `/api/routes?limit=3&offset=${offset}`, undefined, token),
        200,
      );
      assert.equal(page.total, 7);
      assert.equal(page.limit, 3);
      assert.equal(page.offset, offset);
      assert.equal(page.items.length, offset === 6 ? 1 : 3);
      seen.push(...page.items.map((r: { id: string }) => r.id));
    }
    assert.deepEqual(seen, all.items.map((r: { id: string }) => r.id));

    const updated = await expectJson(
      h.call("PUT", `/api/routes/${created.id}`, {
        name: "github-2",
        method: "PUT",
        destinations: [{ destination_id: spare.id }],
        active: false,
      }, token),
      200,
    );
    assert.equal(updated.id, created.id);
    assert.equal(updated.endpoint, created.endpoint, "the endpoint survives an update");
    assert.equal(updated.name, "github-2");
    assert.equal(updated.method, "PUT");
    assert.equal(updated.active, false);
    assert.equal(updated.version, 2);
    assert.deepEqual(updated.destinations, [{ destination_id: spare.id }]);
    assert.equal(updated.filters, undefined, "a PUT replaces the definition");
    assert.deepEqual(
      await expectJson(h.call("GET", `/api/routes/${created.id}`, undefined, token), 200),
      updated,
    );

    assert.deepEqual(
      await expectJson(h.call("DELETE", `/api/routes/${created.id}`, undefined, token), 200),
      { deleted: true },
    );
    await expectError(
      h.call("GET", `/api/routes/${created.id}`, undefined, token),
      404,
      created.id,
    );
    await expectError(h.call("DELETE", `/api/routes/${created.id}`, undefined, token), 404);
    await expectError(h.call("PUT", `/api/routes/${created.id}`, { name: "x" }, token), 404);
    assert.equal((await expectJson(h.call("GET", "/api/routes", undefined, token), 200)).total, 6);
  } finally {
    await h.close();
  }
});

Deno.test("routes: validation errors are 400 and name the field", async () => {
  const h = await harness();
  try {
    const { token } = await h.tenant("route-validator");
    const dest = await createDestination(h, token);
    const missing = "dest_doesnotexist0000000000";
    const cases: Array<[unknown, string]> = [
      [{}, "name"],
      [{ name: "" }, "name"],
      [{ name: "x", method: "BREW" }, "method"],
      [{ name: "x", destinations: [{ destination_id: "nope" }] }, "destinations.0.destination_id"],
      [{ name: "x", destinations: [{}] }, "destinations.0.destination_id"],
      [{ name: "x", destinations: [{ destination_id: missing }] }, "destinations.0.destination_id"],
      [
        { name: "x", destinations: [{ destination_id: dest.id }, { destination_id: missing }] },
        "destinations.1.destination_id",
      ],
      [
        {
          name: "x",
          destinations: [{ destination_id: dest.id, fallback_destination_id: missing }],
        },
        "destinations.0.fallback_destination_id",
      ],
      [
        { name: "x", destinations: [{ destination_id: dest.id }, { destination_id: dest.id }] },
        "destinations.1.destination_id",
      ],
      [{ name: "x", limits: { max_body_bytes: 0 } }, "limits.max_body_bytes"],
      [{ name: "x", signature_config: { preset: "github" } }, "signature_config.secret"],
      [{ name: "x", signature_config: { preset: "nope", secret: "s" } }, "signature_config"],
      [{ name: "x", active: 1 }, "active"],
    ];
    for (const [body, field] of cases) {
      const e = await expectError(h.call("POST", "/api/routes", body, token), 400, field);
      assert.equal(e.code, "invalid_body", `${JSON.stringify(body)} -> ${e.message}`);
    }
    const unknown = await expectError(
      h.call(
        "POST",
        "/api/routes",
        { name: "x", destinations: [{ destination_id: missing }] },
        token,
      ),
      400,
    );
    assert.ok(unknown.message.includes(missing), unknown.message);

    const r = await createRoute(h, token, { destinations: [{ destination_id: dest.id }] });
    await expectError(
      h.call("PUT", `/api/routes/${r.id}`, {
        name: "x",
        destinations: [{ destination_id: missing }],
      }, token),
      400,
      "destinations.0.destination_id",
    );
    assert.equal((await expectJson(h.call("GET", "/api/routes", undefined, token), 200)).total, 1);
  } finally {
    await h.close();
  }
});

Deno.test("routes: an invalid response template is a 400 naming the field", async () => {
  const h = await harness();
  try {
    const { token } = await cheapAdmin(h);
    const r = await h.call("POST", "/api/routes", {
      name: "bad-template",
      response: { status: 99, body: "{{body.challenge}}" },
    }, token);
    assert.equal(r.status, 400);
    const e = await r.json();
    assert.equal(e.error.code, "invalid_body");
    assert.match(e.error.message, /response\.status/);
  } finally {
    await h.close();
  }
});
