/** /api/triggers: every endpoint, validation naming the field, secrets, tenant isolation. */
import assert from "node:assert/strict";
import { harness } from "../helpers/app.ts";
import { cheapAdmin, createRoute, expectError, expectJson } from "./_helpers.ts";
import { isSealedValue } from "../../core/crypto/sealer.ts";
import { createAddressPolicy } from "../../core/net/policy.ts";

const schedule = (routeId: string, extra: Record<string, unknown> = {}) => ({
  name: "nightly",
  type: "schedule",
  route_id: routeId,
  config: { cron: "0 3 * * *", timezone: "Europe/Berlin", payload: { report: "daily" } },
  ...extra,
});

Deno.test("triggers: create, get, list with paging, update, delete", async () => {
  const h = await harness();
  try {
    const { token, id: owner } = await h.tenant("trig-owner");
    const route = await createRoute(h, token);
    const created = await expectJson(
      h.call("POST", "/api/triggers", schedule(route.id), token),
      201,
    );
    assert.match(created.id, /^trigger_[a-z0-9]+$/);
    assert.equal(created.type, "schedule");
    assert.equal(created.route_id, route.id);
    assert.equal(created.owner, owner);
    assert.equal(created.active, true);
    assert.deepEqual(created.config, {
      cron: "0 3 * * *",
      timezone: "Europe/Berlin",
      payload: { report: "daily" },
    });
    for (const k of ["last_run_at", "next_run_at", "last_error", "cursor"]) {
      assert.equal(created[k], null, k);
    }
    assert.equal(created.events_emitted, 0);
    assert.equal(typeof created.status, "object");

    const got = await expectJson(
      h.call("GET", `/api/triggers/${created.id}`, undefined, token),
      200,
    );
    assert.equal(got.id, created.id);
    assert.deepEqual(got.config, created.config);

    const ids = [created.id];
    for (let i = 0; i < 3; i++) {
      const t = await expectJson(
        h.call("POST", "/api/triggers", schedule(route.id, { name: `t${i}` }), token),
        201,
      );
      ids.push(t.id);
    }
    const all = await expectJson(h.call("GET", "/api/triggers", undefined, token), 200);
    assert.equal(all.total, 4);
    assert.deepEqual(all.items.map((t: { id: string }) => t.id).sort(), [...ids].sort());
    const page = await expectJson(
      h.call("GET", "/api/triggers?limit=2&offset=3", undefined, token),
      200,
    );
    assert.equal(page.items.length, 1);
    assert.equal(page.total, 4);
    await expectError(h.call("GET", "/api/triggers?limit=0", undefined, token), 400, "limit");

    const updated = await expectJson(
      h.call(
        "PUT",
        `/api/triggers/${created.id}`,
        schedule(route.id, {
          name: "every-10s",
          active: false,
          config: { cron: "*/10 * * * * *" },
        }),
        token,
      ),
      200,
    );
    assert.equal(updated.name, "every-10s");
    assert.equal(updated.active, false);
    assert.deepEqual(updated.config, { cron: "*/10 * * * * *" });
    assert.ok(Date.parse(updated.updated_at) > Date.parse(created.updated_at));

    assert.deepEqual(
      await expectJson(h.call("DELETE", `/api/triggers/${created.id}`, undefined, token), 200),
      { deleted: true },
    );
    await expectError(
      h.call("GET", `/api/triggers/${created.id}`, undefined, token),
      404,
      created.id,
    );
    await expectError(h.call("DELETE", `/api/triggers/${created.id}`, undefined, token), 404);
  } finally {
    await h.close();
  }
});

Deno.test("triggers: invalid bodies get a 400 naming the field", async () => {
  const h = await harness();
  try {
    const { token } = await h.tenant("trig-validate");
    const route = await createRoute(h, token);
    const post = (b: unknown) => h.call("POST", "/api/triggers", b, token);
    await expectError(post({ ...schedule(route.id), colour: "red" }), 400, "colour");
    await expectError(post({ ...schedule(route.id), name: "" }), 400, "name");
    await expectError(post({ ...schedule(route.id), type: "telepathy" }), 400, "type");
    await expectError(post({ ...schedule(route.id), type: "Not A Type" }), 400, "type");
    await expectError(post({ ...schedule(route.id), route_id: "nope" }), 400, "route_id");
    await expectError(post(schedule("route_doesnotexist")), 400, "route_id");
    const bad = (config: Record<string, unknown>) => post({ ...schedule(route.id), config });
    await expectError(bad({ cron: "0 3 * * *", bogus: 1 }), 400, "bogus");
    await expectError(bad({ cron: "61 * * * *" }), 400, "config.cron");
    await expectError(bad({ cron: "* * *" }), 400, "config.cron");
    await expectError(bad({}), 400, "config.cron");
    await expectError(bad({ cron: "0 3 * * *", timezone: "Mars/Olympus" }), 400, "config.timezone");
    await expectError(bad({ cron: "0 3 * * *", catch_up: "soon" }), 400, "config.catch_up");
    await expectError(post("{not json"), 400);
    assert.equal(
      (await expectJson(h.call("GET", "/api/triggers", undefined, token), 200)).total,
      0,
    );
  } finally {
    await h.close();
  }
});

Deno.test("triggers: another tenant's trigger and route answer 404 / 400; admins see all", async () => {
  const h = await harness();
  try {
    const a = await h.tenant("trig-a");
    const b = await h.tenant("trig-b");
    const admin = await cheapAdmin(h);
    const ra = await createRoute(h, a.token);
    const rb = await createRoute(h, b.token);
    const ta = await expectJson(h.call("POST", "/api/triggers", schedule(ra.id), a.token), 201);
    // b cannot hang a trigger on a's route, nor see, change, run or delete a's trigger
    await expectError(h.call("POST", "/api/triggers", schedule(ra.id), b.token), 400, "route_id");
    for (
      const [method, path, body] of [
        ["GET", `/api/triggers/${ta.id}`, undefined],
        ["PUT", `/api/triggers/${ta.id}`, schedule(rb.id)],
        ["DELETE", `/api/triggers/${ta.id}`, undefined],
        ["POST", `/api/triggers/${ta.id}/run`, undefined],
      ] as const
    ) {
      await expectError(h.call(method, path, body, b.token), 404, ta.id);
    }
    assert.equal(
      (await expectJson(h.call("GET", "/api/triggers", undefined, b.token), 200)).total,
      0,
    );
    const seen = await expectJson(h.call("GET", "/api/triggers", undefined, admin.token), 200);
    assert.deepEqual(seen.items.map((t: { id: string }) => t.id), [ta.id]);
    // an admin editing a's trigger keeps it on a route of a's
    await expectError(
      h.call("PUT", `/api/triggers/${ta.id}`, schedule(rb.id), admin.token),
      400,
      "route_id",
    );
    await expectJson(h.call("PUT", `/api/triggers/${ta.id}`, schedule(ra.id), admin.token), 200);
    await expectError(h.call("GET", "/api/triggers", undefined), 401);
  } finally {
    await h.close();
  }
});

Deno.test("triggers: secrets in configs are sealed at rest, masked, kept on a masked echo, opened to run", async () => {
  const h = await harness();
  try {
    const { token } = await h.tenant("trig-secret");
    const route = await createRoute(h, token);
    const secret = "s3cr3t-value-0123456789";
    const config = { cron: "0 3 * * *", payload: { password: secret, kind: "report" } };
    const t = await expectJson(
      h.call("POST", "/api/triggers", schedule(route.id, { config }), token),
      201,
    );
    assert.notEqual(t.config.payload.password, secret);
    assert.match(t.config.payload.password, /\*\*\*\*/);
    const stored = await h.store.getTrigger(null, t.id);
    const sealed = (stored!.config.payload as Record<string, string>).password;
    assert.ok(isSealedValue(sealed), `stored sealed: ${sealed}`);
    assert.ok(!JSON.stringify(stored).includes(secret));

    // echoing the masked value keeps the stored secret
    const echoed = await expectJson(
      h.call("PUT", `/api/triggers/${t.id}`, schedule(route.id, { config: t.config }), token),
      200,
    );
    assert.equal(echoed.config.payload.password, t.config.payload.password);
    await expectError(
      h.call(
        "PUT",
        `/api/triggers/${t.id}`,
        schedule(route.id, {
          config: { ...config, payload: { password: "****00000000" } },
        }),
        token,
      ),
      400,
      "payload.password",
    );
    // the source gets the clear value: the event carries it
    const run = await expectJson(
      h.call("POST", `/api/triggers/${t.id}/run`, undefined, token),
      200,
    );
    const ev = await expectJson(h.call("GET", `/api/events/${run.ids[0]}`, undefined, token), 200);
    assert.deepEqual(JSON.parse(ev.body), { password: secret, kind: "report" });
  } finally {
    await h.close();
  }
});

Deno.test("triggers: run once emits into the route and the state shows it", async () => {
  const h = await harness();
  try {
    const { token } = await h.tenant("trig-run");
    const route = await createRoute(h, token);
    const t = await expectJson(
      h.call("POST", "/api/triggers", schedule(route.id, { active: false }), token),
      201,
    );
    const run = await expectJson(
      h.call("POST", `/api/triggers/${t.id}/run`, undefined, token),
      200,
    );
    assert.equal(run.emitted, 1);
    assert.equal(run.duplicates, 0);
    assert.equal(run.ids.length, 1);
    const ev = await expectJson(h.call("GET", `/api/events/${run.ids[0]}`, undefined, token), 200);
    assert.equal(ev.source, `trigger:${t.id}`);
    assert.equal(ev.route_id, route.id);
    assert.equal(ev.headers["x-trigger-id"], t.id);
    assert.equal(ev.headers["x-trigger-type"], "schedule");
    assert.equal(ev.headers["x-schedule-manual"], "true");
    assert.deepEqual(JSON.parse(ev.body), { report: "daily" });
    const listed = await expectJson(
      h.call("GET", `/api/events?route_id=${route.id}`, undefined, token),
      200,
    );
    assert.deepEqual(listed.items.map((e: { id: string }) => e.id), run.ids);

    const after = await expectJson(h.call("GET", `/api/triggers/${t.id}`, undefined, token), 200);
    assert.equal(after.events_emitted, 1);
    assert.ok(Date.parse(after.last_run_at) > 0, after.last_run_at);
    assert.equal(after.last_error, null);
    assert.equal(after.status.node, "test-node");
    assert.equal(after.status.state, "stopped", "an inactive trigger is stopped after its run");

    const second = await expectJson(
      h.call("POST", `/api/triggers/${t.id}/run`, undefined, token),
      200,
    );
    assert.notDeepEqual(second.ids, run.ids, "every manual run is its own event");
    assert.equal(
      (await expectJson(h.call("GET", `/api/triggers/${t.id}`, undefined, token), 200))
        .events_emitted,
      2,
    );
    await expectError(h.call("POST", "/api/triggers/trigger_nope/run", undefined, token), 404);
  } finally {
    await h.close();
  }
});

Deno.test("triggers: a trigger held by another node answers 409 on run", async () => {
  const h = await harness();
  try {
    const { token } = await h.tenant("trig-held");
    const route = await createRoute(h, token);
    const t = await expectJson(h.call("POST", "/api/triggers", schedule(route.id), token), 201);
    assert.ok(await h.store.acquireLease(`trigger:${t.id}`, "other-node", 60_000, Date.now()));
    await expectError(
      h.call("POST", `/api/triggers/${t.id}/run`, undefined, token),
      409,
      "another node",
    );
  } finally {
    await h.close();
  }
});

Deno.test("trigger and destination types come from the registries, with their config schemas", async () => {
  const h = await harness();
  try {
    const { token } = await h.tenant("trig-types");
    const tt = await expectJson(h.call("GET", "/api/triggers/types", undefined, token), 200);
    const sched = tt.items.find((i: { type: string }) => i.type === "schedule");
    assert.ok(sched, JSON.stringify(tt));
    assert.ok(sched.config_schema.properties.cron);
    assert.deepEqual(sched.config_schema.required, ["cron"]);
    const dt = await expectJson(h.call("GET", "/api/destinations/types", undefined, token), 200);
    assert.deepEqual(
      dt.items.map((i: { type: string }) => i.type),
      Object.keys(h.deps.publishers).sort(),
    );
    assert.ok(
      dt.items.find((i: { type: string }) => i.type === "http").config_schema.properties.url,
    );

    const doc = await expectJson(h.call("GET", "/openapi.json"), 200);
    const schemas = doc.components.schemas;
    assert.ok(schemas.TriggerConfig_schedule.properties.cron);
    assert.equal(schemas.TriggerConfig_schedule.additionalProperties, false);
    for (const type of Object.keys(h.deps.publishers)) {
      assert.ok(schemas[`DestinationConfig_${type}`], `DestinationConfig_${type} in OpenAPI`);
    }
    const oneOf = schemas.TriggerRequest.oneOf as Array<
      { properties: { type: { const: string } } }
    >;
    assert.deepEqual(
      oneOf.map((o) => o.properties.type.const),
      Object.keys(h.deps.sources!).sort(),
    );
    assert.ok(doc.paths["/api/triggers/{id}/run"].post);
    // a destination type the registry lacks is refused by the registry, not by an enum
    await expectError(
      h.call("POST", "/api/destinations", { name: "x", type: "carrier-pigeon", config: {} }, token),
      400,
      "type",
    );
  } finally {
    await h.close();
  }
});

Deno.test("polling triggers: config validated per field, OAuth2 secrets sealed, a type change resets the state", async () => {
  const h = await harness();
  try {
    const { token } = await h.tenant("trig-poll");
    const route = await createRoute(h, token);
    const polling = (config: Record<string, unknown>) => ({
      name: "users",
      type: "polling",
      route_id: route.id,
      config,
    });
    const post = (config: Record<string, unknown>) =>
      h.call("POST", "/api/triggers", polling(config), token);
    const url = "https://api.example.com/users";
    await expectError(post({ url, interval: "500ms" }), 400, "config.interval");
    await expectError(post({ url, interval: "often" }), 400, "config.interval");
    await expectError(post({ url: "ftp://x" }), 400, "config.url");
    await expectError(post({ url, change_detection: "items" }), 400, "config.items");
    await expectError(post({ url, change_detection: "sha1" }), 400, "config.change_detection");
    await expectError(post({ url, headers: { "Bad Header": "x" } }), 400, "config.headers");
    await expectError(
      post({ url, oauth2: { token_url: "https://idp.example/token", client_id: "c" } }),
      400,
      "config.oauth2.client_secret",
    );
    await expectError(post({ url, auth: { type: "digest" } }), 400, "config.auth");

    const secret = "client-secret-abcdefghijkl";
    const t = await expectJson(
      post({
        url,
        interval: "5m",
        headers: { Authorization: "Bearer ${oauth_token}" },
        change_detection: "hash",
        oauth2: { token_url: "https://idp.example/token", client_id: "c", client_secret: secret },
      }),
      201,
    );
    assert.notEqual(t.config.oauth2.client_secret, secret);
    const stored = await h.store.getTrigger(null, t.id);
    assert.ok(!JSON.stringify(stored).includes(secret), "sealed at rest");

    // state left by a run, then the trigger becomes a schedule: the old cursor means nothing
    await h.store.setTriggerCursor(t.id, '{"seq":3,"hash":"ab"}', 1, Date.now());
    await h.store.updateTriggerState(t.id, { addEmitted: 3 }, Date.now());
    const got = await expectJson(h.call("GET", `/api/triggers/${t.id}`, undefined, token), 200);
    assert.deepEqual(got.cursor, { seq: 3, hash: "ab" });
    assert.equal(got.events_emitted, 3);
    const changed = await expectJson(
      h.call("PUT", `/api/triggers/${t.id}`, schedule(route.id), token),
      200,
    );
    assert.equal(changed.cursor, null);
    assert.equal(changed.events_emitted, 0);
  } finally {
    await h.close();
  }
});

Deno.test("triggers: a tenant's config naming a forbidden host literally is refused at save time", async () => {
  const h = await harness({ addressPolicy: createAddressPolicy() });
  try {
    const { token } = await h.tenant("trig-ssrf");
    const admin = await cheapAdmin(h);
    const route = await createRoute(h, token);
    const body = (config: Record<string, unknown>, routeId = route.id) => ({
      name: "p",
      type: "polling",
      route_id: routeId,
      config,
    });
    const post = (config: Record<string, unknown>, t = token, routeId = route.id) =>
      h.call("POST", "/api/triggers", body(config, routeId), t);
    const e = await expectError(
      post({ url: "http://169.254.169.254/latest/meta-data" }),
      400,
      "config.url",
    );
    assert.equal(e.code, "forbidden_address");
    await expectError(
      post({
        url: "https://api.example.com/",
        oauth2: { token_url: "http://127.0.0.1:9/token", client_id: "c", client_secret: "s" },
      }),
      400,
      "config.oauth2.token_url",
    );
    await expectJson(post({ url: "https://api.example.com/" }), 201);
    // an admin's own trigger may reach private addresses
    const adminRoute = await createRoute(h, admin.token);
    await expectJson(post({ url: "http://127.0.0.1:9/" }, admin.token, adminRoute.id), 201);
  } finally {
    await h.close();
  }
});

Deno.test("triggers: a tenant's sqs and pubsub triggers bring their own credentials; an admin's may use the node's", async () => {
  const h = await harness();
  try {
    const { token } = await h.tenant("trig-cloud");
    const route = await createRoute(h, token);
    const sqs = {
      name: "orders-queue",
      type: "sqs",
      route_id: route.id,
      config: { queue_url: "https://sqs.us-east-1.amazonaws.com/123456789012/orders" },
    };
    const pubsub = {
      name: "orders-sub",
      type: "pubsub",
      route_id: route.id,
      config: { project_id: "acme-orders", subscription: "orders-sub" },
    };
    const post = (b: unknown, t = token) => h.call("POST", "/api/triggers", b, t);
    await expectError(post(sqs), 400, "config.access_key_id");
    await expectError(post(pubsub), 400, "config.credentials");
    // With keys of their own, accepted (and sealed).
    await expectJson(
      post({
        ...sqs,
        active: false,
        config: { ...sqs.config, access_key_id: "AKIAEXAMPLE", secret_access_key: "s3cret" },
      }),
      201,
    );
    const admin = await cheapAdmin(h, "cloud-root");
    const adminRoute = await createRoute(h, admin.token);
    await expectJson(post({ ...sqs, active: false, route_id: adminRoute.id }, admin.token), 201);
    await expectJson(post({ ...pubsub, active: false, route_id: adminRoute.id }, admin.token), 201);
  } finally {
    await h.close();
  }
});
