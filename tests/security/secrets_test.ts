/**
 * The one secret rule (core/model/secret_fields.ts): enrich-stage credentials, credential
 * headers and URL passwords are sealed at rest, masked without revealing anything, kept on a
 * masked echo, and opened for use (the enrich call carries the real credentials).
 */
import assert from "node:assert/strict";
import { harness } from "../helpers/app.ts";
import { expectError, expectJson } from "../api/_helpers.ts";
import {
  isSecretName,
  maskSecrets,
  routeSecretRoots,
  sealSecrets,
  secretPaths,
} from "../../core/model/secret_fields.ts";
import { createSealer } from "../../core/crypto/sealer.ts";
import { resealStore } from "../../core/model/reseal.ts";

const MASK = /^\*{4}[0-9a-f]{8}$/;

Deno.test("secret rule: names", () => {
  for (
    const n of [
      "secret",
      "client_secret",
      "refresh_token",
      "access_token",
      "token",
      "password",
      "sasl_password",
      "Authorization",
      "proxy-authorization",
      "x-api-key",
      "X-Auth-Token",
      "api_key",
      "apiKey",
      "privateKey",
      "private_key",
      "secret_access_key",
      "session_token",
      "cookie",
      "credentials",
      "passphrase",
    ]
  ) assert.ok(isSecretName(n), n);
  for (
    const n of [
      "token_url",
      "secret_header",
      "access_key_id",
      "routing_key",
      "ordering_key",
      "cache_key",
      "key",
      "client_auth",
      "client_id",
      "username",
      "url",
      "passthrough",
      "x-hub-signature-256",
      "content-type",
    ]
  ) assert.ok(!isSecretName(n), n);
});

Deno.test("secret rule: paths in destinations, routes (signature + enrich) and any config", () => {
  assert.deepEqual(
    secretPaths({
      url: "https://u:p@h.example/x",
      plain: "https://h.example/x",
      headers: { authorization: "Bearer a", "x-api-key": "k", accept: "json" },
      sasl: { mechanism: "plain", username: "u", password: "p" },
      auth: { type: "api_key", header: "X-K", key: "k1" },
    }),
    [["url"], ["headers", "authorization"], ["headers", "x-api-key"], ["sasl", "password"], [
      "auth",
      "key",
    ]],
  );
  const spec = {
    signature_config: { preset: "github", secret: "s" },
    pipeline: [
      { type: "validate", schema: { properties: { password: { type: "string" } } } },
      { type: "enrich", url: "https://a.example", auth: { type: "bearer", token: "t" } },
    ],
    destinations: [{
      destination_id: "dest_a",
      pipeline: [{ type: "enrich", url: "https://x:pw@b.example", headers: { cookie: "c" } }],
    }],
  };
  assert.deepEqual(secretPaths(spec, routeSecretRoots(spec)), [
    ["signature_config", "secret"],
    ["pipeline", 1, "auth", "token"],
    ["destinations", 0, "pipeline", 0, "url"],
    ["destinations", 0, "pipeline", 0, "headers", "cookie"],
  ], "the JSON Schema property named password is not a secret");
});

Deno.test("secret rule: seal, mask, echo, open; a copied ciphertext is refused", async () => {
  const sealer = createSealer(crypto.getRandomValues(new Uint8Array(32)));
  const config = {
    url: "https://x.example",
    headers: { authorization: "Bearer abcdefgh12345678" },
  };
  const first = await sealSecrets(config, undefined, sealer);
  assert.deepEqual(first.plain, config);
  const sealed = first.sealed.headers.authorization;
  assert.ok(sealer.isSealed(sealed));
  const masked = maskSecrets(first.sealed);
  assert.match(masked.headers.authorization, MASK);
  assert.ok(!JSON.stringify(masked).includes("5678"), "no last four characters");
  const echo = await sealSecrets(masked, first.sealed, sealer);
  assert.equal(echo.sealed.headers.authorization, sealed, "kept, not sealed again");
  assert.deepEqual(echo.plain, config);
  await assert.rejects(
    sealSecrets({ url: "https://x.example", headers: { authorization: sealed } }, {}, sealer),
    /headers\.authorization: a sealed value cannot be sent/,
  );
});

Deno.test("enrich and header secrets through the API: sealed, masked, kept, used", async () => {
  // A local server stands in for the enrichment API and its token endpoint.
  const seen: Record<string, string | null>[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    seen.push({ path: new URL(req.url).pathname, authorization: req.headers.get("authorization") });
    if (new URL(req.url).pathname === "/token") {
      return Response.json({ access_token: "at-from-server", expires_in: 3600 });
    }
    return Response.json({ enriched: true });
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  const h = await harness();
  try {
    const { token } = await h.tenant("enricher");
    const secrets = {
      client_secret: "cs-0123456789abcdefXYZ",
      bearer: "bt-0123456789abcdefXYZ",
      header: "hk-0123456789abcdefXYZ",
      destHeader: "dh-0123456789abcdefXYZ",
      urlPassword: "up-0123456789abcdefXYZ",
    };
    const dest = await expectJson(
      h.call("POST", "/api/destinations", {
        name: "out",
        type: "http",
        config: {
          url: `https://hook:${secrets.urlPassword}@hooks.example/in`,
          headers: { authorization: `Bearer ${secrets.destHeader}`, "x-trace": "keep-me" },
        },
      }, token),
      201,
    );
    assert.match(dest.config.headers.authorization, MASK);
    assert.equal(dest.config.headers["x-trace"], "keep-me");
    assert.match(dest.config.url, MASK);
    const route = await expectJson(
      h.call("POST", "/api/routes", {
        name: "enrich",
        destinations: [{ destination_id: dest.id }],
        pipeline: [
          {
            type: "enrich",
            name: "oauth",
            url: `${base}/api/a`,
            into: "a",
            auth: {
              type: "oauth2_client_credentials",
              token_url: `${base}/token`,
              client_id: "router",
              client_secret: secrets.client_secret,
            },
          },
          {
            type: "enrich",
            name: "bearer",
            url: `${base}/api/b`,
            into: "b",
            headers: { "x-api-key": secrets.header },
            auth: { type: "bearer", token: secrets.bearer },
          },
        ],
      }, token),
      201,
    );
    const texts = [
      JSON.stringify(route),
      JSON.stringify(dest),
      await (await h.call("GET", `/api/routes/${route.id}`, undefined, token)).text(),
      await (await h.call("GET", "/api/routes", undefined, token)).text(),
      await (await h.call("GET", `/api/destinations/${dest.id}`, undefined, token)).text(),
    ];
    for (const t of texts) {
      for (const s of Object.values(secrets)) {
        assert.ok(!t.includes(s) && !t.includes(s.slice(-4)), `nothing of ${s} in ${t}`);
      }
    }
    assert.equal(route.pipeline[0].auth.token_url, `${base}/token`, "a URL to a secret is shown");
    assert.match(route.pipeline[0].auth.client_secret, MASK);

    // at rest: sealed, nothing in clear
    const storedRoute = await h.store.getRoute(null, route.id);
    const storedDest = await h.store.getDestination(null, dest.id);
    for (const s of Object.values(secrets)) {
      assert.ok(!JSON.stringify(storedRoute).includes(s), `route at rest hides ${s}`);
      assert.ok(!JSON.stringify(storedDest).includes(s), `destination at rest hides ${s}`);
    }

    // the UI echoes what it was shown: everything kept
    const echoed = await expectJson(
      h.call("PUT", `/api/routes/${route.id}`, {
        name: "enrich-renamed",
        destinations: route.destinations,
        pipeline: route.pipeline,
      }, token),
      200,
    );
    assert.deepEqual(echoed.pipeline, route.pipeline, "the same masks: the same stored secrets");

    // used with the real values: the enrichment server saw them
    const run = await expectJson(
      h.call("POST", `/api/routes/${route.id}/test`, { body: { id: 1 } }, token),
      200,
    );
    assert.equal(run.outcome, "deliver", JSON.stringify(run));
    const auth = Object.fromEntries(seen.map((s) => [s.path, s.authorization]));
    assert.match(auth["/token"]!, /^Basic /);
    assert.equal(atob(auth["/token"]!.slice(6)), `router:${secrets.client_secret}`);
    assert.equal(auth["/api/a"], "Bearer at-from-server");
    assert.equal(auth["/api/b"], `Bearer ${secrets.bearer}`);

    // a mask that matches nothing stored is a 400 naming the field
    const bad = structuredClone(route.pipeline);
    bad[1].auth.token = "****00000000";
    await expectError(
      h.call("PUT", `/api/routes/${route.id}`, { name: "x", pipeline: bad }, token),
      400,
      "pipeline.1.auth.token",
    );
  } finally {
    await h.close();
    await server.shutdown();
  }
});

Deno.test("secrets stored in clear before the rule knew them are sealed by resealStore", async () => {
  const h = await harness();
  try {
    const { id } = await h.tenant("legacy");
    const now = Date.now();
    await h.store.createDestination({
      id: "dest_legacy0000000000000001",
      owner: id,
      name: "legacy",
      type: "http",
      config: { url: "https://a.example", headers: { authorization: "Bearer legacy-clear" } },
      active: true,
      createdAt: now,
      updatedAt: now,
    });
    const first = await resealStore(h.store, h.deps.sealer, h.deps.sealer);
    assert.deepEqual(first, { destinations: 1, routes: 0, triggers: 0 });
    const d = await h.store.getDestination(null, "dest_legacy0000000000000001");
    const v = (d!.config.headers as Record<string, string>).authorization;
    assert.ok(h.deps.sealer.isSealed(v));
    assert.equal(await h.deps.sealer.open(v), "Bearer legacy-clear");
    assert.deepEqual(await resealStore(h.store, h.deps.sealer, h.deps.sealer), {
      destinations: 0,
      routes: 0,
      triggers: 0,
    }, "nothing left in clear: nothing rewritten");
  } finally {
    await h.close();
  }
});
