import assert from "node:assert/strict";
import {
  keepMaskedPaths,
  maskPaths,
  maskSecret,
  openPaths,
  sealPaths,
} from "../../../core/crypto/seal_fields.ts";
import { createSealer } from "../../../core/crypto/sealer.ts";
import { signatureSecretPaths } from "../../../core/verify/signature_config.ts";

const sealer = createSealer(crypto.getRandomValues(new Uint8Array(32)));
const config = {
  name: "github",
  signature_config: {
    enabled: true,
    verifications: [
      { header_location: "X-A", secret: "whsec_abcdefghijklmnopqrstuvwxyz" },
      { header_location: "X-B", secrets: ["short", "sk_live_0123456789abcdef"] },
    ],
  },
};
const PATHS = ["signature_config.verifications.*.secret", [
  "signature_config",
  "verifications",
  "*",
  "secrets",
  "*",
]];

Deno.test("sealPaths/openPaths: nested and wildcard paths roundtrip; the input is untouched", async () => {
  const sealed = await sealPaths(config, PATHS, sealer);
  const [a, b] = sealed.signature_config.verifications;
  assert.ok(sealer.isSealed(a.secret!));
  assert.ok(b.secrets!.every((s) => sealer.isSealed(s)));
  assert.equal(a.header_location, "X-A");
  assert.equal(config.signature_config.verifications[0].secret, "whsec_abcdefghijklmnopqrstuvwxyz");
  assert.ok(!JSON.stringify(sealed).includes("abcdefghijklmnop"));
  assert.deepEqual(await openPaths(sealed, PATHS, sealer), config);
});

Deno.test("sealPaths: sealing twice does not seal again; absent paths are skipped", async () => {
  const once = await sealPaths(config, PATHS, sealer);
  const twice = await sealPaths(once, [...PATHS, "missing.path", "name.too.deep"], sealer);
  assert.deepEqual(twice, once);
});

Deno.test("sealPaths: works with signatureSecretPaths relative to the signature_config", async () => {
  const sig = { preset: "bearer", tokens: ["t1", "t2"] };
  const sealed = await sealPaths(sig, signatureSecretPaths(sig), sealer);
  assert.ok(sealed.tokens.every((t) => sealer.isSealed(t)));
  assert.deepEqual(await openPaths(sealed, signatureSecretPaths(sealed), sealer), sig);
});

Deno.test("maskSecret: prefix up to the first _ and last 4, only for 16+ characters", () => {
  assert.equal(maskSecret("whsec_abcdefghijklmnopqrstuvwxyz"), "whsec_****wxyz");
  assert.equal(maskSecret("sk_live_0123456789abcdef"), "sk_****cdef");
  assert.equal(maskSecret("0123456789abcdef"), "****cdef");
  assert.equal(maskSecret("this_is_a_long_secret_value"), "this_****alue");
  assert.equal(maskSecret("averyverylongprefix_tail1234"), "****1234");
  assert.equal(maskSecret("0123456789abcde"), "****");
  assert.equal(maskSecret("short"), "****");
  assert.equal(maskSecret("sealed:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAA"), "****");
});

Deno.test("maskPaths: masks every secret at the paths, nothing else", () => {
  const masked = maskPaths(config, PATHS);
  assert.deepEqual(masked.signature_config.verifications, [
    { header_location: "X-A", secret: "whsec_****wxyz" },
    { header_location: "X-B", secrets: ["****", "sk_****cdef"] },
  ]);
  assert.equal(masked.name, "github");
});

Deno.test("keepMaskedPaths: an echoed mask keeps the stored secret, even after reordering", () => {
  const stored = { secrets: ["whsec_abcdefghijklmnopqrstuvwxyz", "sk_live_0123456789abcdef"] };
  const incoming = { secrets: ["sk_****cdef", "a-brand-new-secret"] };
  assert.deepEqual(keepMaskedPaths(incoming, stored, ["secrets.*"]), {
    secrets: ["sk_live_0123456789abcdef", "a-brand-new-secret"],
  });
  assert.throws(
    () =>
      keepMaskedPaths(
        { secret: "whsec_****zzzz" },
        { secret: "whsec_abcdefghijklmnopqrstuvwxyz" },
        ["secret"],
      ),
    /secret is masked \("whsec_\*\*\*\*zzzz"\) but matches no stored secret/,
  );
});

Deno.test("paths never reach into the prototype chain", () => {
  const masked = maskPaths({ a: {} }, ["a.__proto__.polluted", "a.constructor"]);
  assert.deepEqual(masked, { a: {} });
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});
