/**
 * The imap, caldav and carddav trigger types through /api/triggers: their configs are
 * validated by their schemas (400 naming the field), secrets sealed and masked, literal
 * private addresses of a tenant refused at save time, and OpenAPI describes each config.
 */
import assert from "node:assert/strict";
import { harness } from "../helpers/app.ts";
import { createRoute, expectError, expectJson } from "./_helpers.ts";
import { createAddressPolicy } from "../../core/net/policy.ts";

const imap = (extra: Record<string, unknown> = {}) => ({
  host: "imap.example.org",
  username: "support@example.org",
  password: "imap-password-0123456789",
  ...extra,
});
const dav = (extra: Record<string, unknown> = {}) => ({
  url: "https://dav.example.org/",
  username: "alice",
  password: "dav-password-0123456789",
  ...extra,
});

Deno.test("maildav triggers: configs validated per type, errors name the field", async () => {
  const h = await harness();
  try {
    const { token } = await h.tenant("maildav-cfg");
    const route = await createRoute(h, token);
    const post = (type: string, config: Record<string, unknown>) =>
      h.call("POST", "/api/triggers", { name: "t", type, route_id: route.id, config }, token);
    await expectError(post("imap", imap({ password: undefined })), 400, "config.password");
    await expectError(post("imap", imap({ include_body: "pdf" })), 400, "config.include_body");
    await expectError(post("imap", imap({ poll_interval: "soon" })), 400, "config.poll_interval");
    await expectError(post("imap", imap({ surprise: true })), 400, "surprise");
    await expectError(post("caldav", dav({ url: "ftp://dav.example.org/" })), 400, "config.url");
    await expectError(post("caldav", dav({ interval: "1s" })), 400, "config.interval");
    await expectError(post("carddav", dav({ calendar: "Team" })), 400, "calendar");
    await expectError(
      post("carddav", dav({ oauth2: { token_url: "https://a.example/t", client_id: "c" } })),
      400,
      "config.oauth2.client_secret",
    );
    for (const [type, config] of [["imap", imap()], ["caldav", dav()], ["carddav", dav()]]) {
      await expectJson(post(type as string, config as Record<string, unknown>), 201);
    }
  } finally {
    await h.close();
  }
});

Deno.test("maildav triggers: passwords and OAuth2 secrets are sealed and masked", async () => {
  const h = await harness();
  try {
    const { token } = await h.tenant("maildav-secrets");
    const route = await createRoute(h, token);
    const config = imap({
      password: undefined,
      oauth2: {
        token_url: "https://oauth2.example.org/token",
        client_id: "router",
        client_secret: "client-secret-0123456789",
        refresh_token: "refresh-token-0123456789",
      },
    });
    const t = await expectJson(
      h.call(
        "POST",
        "/api/triggers",
        { name: "gmail", type: "imap", route_id: route.id, config },
        token,
      ),
      201,
    );
    const shown = JSON.stringify(t.config);
    for (const secret of ["client-secret-0123456789", "refresh-token-0123456789"]) {
      assert.ok(!shown.includes(secret), `${secret} shown: ${shown}`);
    }
    const stored = JSON.stringify(
      (await h.store.getTrigger({ userId: t.owner, role: "user" }, t.id))!.config,
    );
    assert.ok(!stored.includes("client-secret-0123456789"), "client_secret stored in clear");
    assert.ok(!stored.includes("refresh-token-0123456789"), "refresh_token stored in clear");
    const caldav = await expectJson(
      h.call("POST", "/api/triggers", {
        name: "cal",
        type: "caldav",
        route_id: route.id,
        config: dav(),
      }, token),
      201,
    );
    assert.ok(!JSON.stringify(caldav.config).includes("dav-password-0123456789"));
  } finally {
    await h.close();
  }
});

Deno.test("maildav triggers: a tenant's literal private address is refused at save time", async () => {
  // The policy a node without ALLOW_PRIVATE_NETWORKS has.
  const h = await harness({ addressPolicy: createAddressPolicy() });
  try {
    const { token } = await h.tenant("maildav-guard");
    const route = await createRoute(h, token);
    const post = (type: string, config: Record<string, unknown>) =>
      h.call("POST", "/api/triggers", { name: "t", type, route_id: route.id, config }, token);
    const e = await expectError(post("imap", imap({ host: "127.0.0.1" })), 400, "config.host");
    assert.equal(e.code, "forbidden_address");
    await expectError(post("caldav", dav({ url: "http://10.1.2.3/dav/" })), 400, "config.url");
    await expectError(post("carddav", dav({ url: "http://[::1]:5232/" })), 400, "config.url");
  } finally {
    await h.close();
  }
});

Deno.test("maildav triggers: OpenAPI describes each config", async () => {
  const h = await harness();
  try {
    const doc = await expectJson(h.call("GET", "/openapi.json"), 200);
    for (
      const [type, fields] of [
        ["imap", [
          "host",
          "oauth2",
          "mailbox",
          "mark_seen",
          "move_to",
          "include_body",
          "max_bytes",
        ]],
        ["caldav", ["url", "calendar", "interval", "sync"]],
        ["carddav", ["url", "addressbook", "interval", "sync"]],
      ] as const
    ) {
      const schema = doc.components.schemas[`TriggerConfig_${type}`];
      assert.ok(schema, `no TriggerConfig_${type}`);
      for (const f of fields) {
        assert.equal(
          typeof schema.properties[f]?.description,
          "string",
          `${type}.${f} undescribed`,
        );
      }
      assert.equal(schema.additionalProperties, false);
    }
  } finally {
    await h.close();
  }
});
