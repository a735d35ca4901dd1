import assert from "node:assert/strict";
import {
  isMasked,
  maskSealed,
  maskSecret,
  openPaths,
  restoreMasked,
  sealPaths,
} from "../../../core/crypto/seal_fields.ts";
import { createSealer } from "../../../core/crypto/sealer.ts";

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

Deno.test("maskSecret: reveals nothing; a sealed value gets a tag of its ciphertext", async () => {
  assert.equal(maskSecret("whsec_abcdefghijklmnopqrstuvwxyz"), "****");
  assert.equal(maskSecret("short"), "****");
  const a = await sealer.seal("sk_live_0123456789abcdef");
  const b = await sealer.seal("sk_live_0123456789abcdef");
  assert.match(maskSecret(a), /^\*{4}[0-9a-f]{8}$/);
  assert.equal(maskSecret(a), maskSecret(a), "stable while the value is not sealed again");
  assert.notEqual(maskSecret(a), maskSecret(b), "the same secret sealed twice masks apart");
  assert.ok(!maskSecret(a).includes("cdef"));
  assert.ok(isMasked(maskSecret(a)) && isMasked("****") && !isMasked("*****") && !isMasked("x"));
});

Deno.test("maskSealed: masks every secret at the paths, nothing else", async () => {
  const sealed = await sealPaths(config, PATHS, sealer);
  const masked = maskSealed(sealed, PATHS);
  const [a, b] = masked.signature_config.verifications;
  assert.equal(a.header_location, "X-A");
  assert.match(a.secret!, /^\*{4}[0-9a-f]{8}$/);
  assert.ok(b.secrets!.every((x) => /^\*{4}[0-9a-f]{8}$/.test(x)));
  assert.equal(masked.name, "github");
});

Deno.test("restoreMasked: an echoed mask keeps the stored secret, even after reordering", async () => {
  const stored = { secrets: [await sealer.seal("one"), await sealer.seal("two")] };
  const paths = [["secrets", 0], ["secrets", 1]];
  const incoming = { secrets: [maskSecret(stored.secrets[1]), "a-brand-new-secret"] };
  assert.deepEqual(restoreMasked(incoming, stored, paths), {
    secrets: [stored.secrets[1], "a-brand-new-secret"],
  });
  // a plain mask keeps the secret at the same place
  assert.deepEqual(restoreMasked({ secrets: ["****"] }, stored, paths), {
    secrets: [stored.secrets[0]],
  });
  assert.throws(
    () => restoreMasked({ secret: "****0000abcd" }, { secret: stored.secrets[0] }, [["secret"]]),
    /secret: is masked \("\*\*\*\*0000abcd"\) but matches no stored secret/,
  );
  assert.throws(
    () => restoreMasked({ x: { password: stored.secrets[0] } }, {}, []),
    /x\.password: a sealed value cannot be sent/,
  );
});

Deno.test("paths never reach into the prototype chain", () => {
  const masked = maskSealed({ a: {} }, ["a.__proto__.polluted", "a.constructor"]);
  assert.deepEqual(masked, { a: {} });
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});
