import assert from "node:assert/strict";
import { secretPaths } from "../../../core/model/secret_fields.ts";
import { z } from "zod";
import { parseSignatureConfig, signatureConfigSchema } from "../../../core/verify/mod.ts";

Deno.test("signature_config: defaults fill in the generic form", () => {
  const config = parseSignatureConfig({
    enabled: true,
    verifications: [{ header_location: "X-Sig", secret: "s" }],
  });
  assert.deepEqual(config, {
    enabled: true,
    replay_window: 300,
    dedupe: "id",
    verifications: [{
      header_location: "X-Sig",
      signature_format: "${signature}",
      algorithm: "hmac-sha256",
      encoding: "hex",
      secret: "s",
      signature_input: "${body}",
    }],
  });
});

Deno.test("signature_config: errors name the field", () => {
  const cases: [unknown, RegExp][] = [
    [{ preset: "github" }, /signature_config\.secret: secret or secrets is required/],
    [{ preset: "gitlab", secret: "s" }, /signature_config\.preset: Invalid discriminator/],
    [{ enabled: true }, /signature_config\.verifications: at least one verification/],
    [
      { verifications: [{ header_location: "X-Sig", secret: "s", algorithm: "md5" }] },
      /signature_config\.verifications\.0\.algorithm/,
    ],
    [
      { verifications: [{ header_location: "X Sig", secret: "s" }] },
      /signature_config\.verifications\.0\.header_location: must be an HTTP header name/,
    ],
    [
      { verifications: [{ header_location: "X-Sig", secret: "s", signature_format: "sha256=" }] },
      /signature_format: must contain \$\{signature\} exactly once/,
    ],
    [
      { verifications: [{ header_location: "X-Sig", secret: "s", signature_input: "${bodyy}" }] },
      /signature_input: unknown placeholder \$\{bodyy\}/,
    ],
    [
      {
        verifications: [{ header_location: "X-Sig", secret: "s" }],
        timestamp_validation: { timestamp_location: "header" },
      },
      /timestamp_validation\.timestamp_header: a header name is required/,
    ],
    [
      {
        verifications: [{ header_location: "X-Sig", secret: "s" }],
        timestamp_validation: { required: true },
      },
      /timestamp_validation\.timestamp_variable: no signature_format holds \$\{timestamp\}/,
    ],
    [{ preset: "github", secret: "s", secrte: "typo" }, /Unrecognized key: "secrte"/],
    [{ preset: "bearer" }, /signature_config\.token: token or tokens is required/],
    [{ preset: "basic", username: "a:b", password: "p" }, /username: must not contain a colon/],
    [{ preset: "stripe", secret: "s", replay_window: 0 }, /signature_config\.replay_window/],
  ];
  for (const [input, pattern] of cases) {
    assert.throws(() => parseSignatureConfig(input), pattern, JSON.stringify(input));
  }
});

Deno.test("signature_config: error messages never echo a secret value", () => {
  try {
    parseSignatureConfig({ preset: "standard_webhooks", secret: "whsec_!!topsecret!!" });
    assert.fail("expected an error");
  } catch (e) {
    assert.ok(!String(e).includes("topsecret"), String(e));
  }
});

Deno.test("signature_config: presets need only a secret", () => {
  for (const preset of ["github", "stripe", "slack", "shopify", "twilio"]) {
    const config = parseSignatureConfig({ enabled: true, preset, secret: "s" });
    assert.equal(config.preset, preset);
  }
  const sw = parseSignatureConfig({ preset: "standard_webhooks", secrets: ["whsec_" + btoa("k")] });
  assert.equal(sw.enabled, true);
});

Deno.test("signature_config: the secret rule finds the secrets of every form", () => {
  assert.deepEqual(
    secretPaths({
      verifications: [{ header_location: "A", secret: "x" }, {
        header_location: "B",
        secrets: ["y", "z"],
      }],
    }),
    [["verifications", 0, "secret"], ["verifications", 1, "secrets", 0], [
      "verifications",
      1,
      "secrets",
      1,
    ]],
  );
  assert.deepEqual(secretPaths({ preset: "stripe", secret: "a", secrets: ["b"] }), [
    ["secret"],
    ["secrets", 0],
  ]);
  assert.deepEqual(secretPaths({ preset: "bearer", tokens: ["t"] }), [["tokens", 0]]);
  assert.deepEqual(secretPaths({ preset: "basic", username: "u", password: "p" }), [
    ["password"],
  ]);
  assert.deepEqual(secretPaths({ preset: "api_key", header: "X-K", key: "k" }), [["key"]]);
  assert.deepEqual(secretPaths({ preset: "api_key", keys: ["k1", "k2"] }), [["keys", 0], [
    "keys",
    1,
  ]]);
});

Deno.test("signature_config: the schema converts to JSON Schema (for OpenAPI)", () => {
  const schema = z.toJSONSchema(signatureConfigSchema, { io: "input" });
  assert.ok(Array.isArray((schema as { oneOf?: unknown[] }).oneOf));
});
