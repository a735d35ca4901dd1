/**
 * Replays of signed webhooks. GitHub signs only the body: no timestamp, no delivery id, so the
 * default id dedupe stops GitHub's own retries but not a captured request sent again with a
 * new (or no) X-GitHub-Delivery. `dedupe: "body"` remembers the signed body's hash for the
 * replay window: within it a replay is a duplicate whatever id it carries, after it the same
 * body is a new event again. The OpenAPI document describes signature_config as a real schema.
 */
import assert from "node:assert/strict";
import { harness } from "../helpers/app.ts";
import { expectJson, hex, hmacSha256, post } from "../api/_helpers.ts";

const SECRET = "gh-replay-secret-0123456789";
const BODY = '{"action":"opened","number":7}';

async function signed(delivery?: string): Promise<Record<string, string>> {
  return {
    "content-type": "application/json",
    "x-hub-signature-256": `sha256=${hex(await hmacSha256(SECRET, BODY))}`,
    ...(delivery ? { "x-github-delivery": delivery } : {}),
  };
}

Deno.test("github replays: what the id dedupe does and does not stop; dedupe body closes it", async () => {
  let now = Date.now();
  const h = await harness({ clock: { now: () => now } });
  try {
    const { token } = await h.tenant("gh");
    const plain = await expectJson(
      h.call("POST", "/api/routes", {
        name: "gh-id",
        signature_config: { preset: "github", secret: SECRET },
      }, token),
      201,
    );
    const first = await post(h, plain.endpoint, BODY, await signed("d-1"));
    assert.equal(first.status, 202);
    const again = await post(h, plain.endpoint, BODY, await signed("d-1"));
    assert.equal(again.status, 200, "GitHub's own retry (same delivery id) is a duplicate");
    const replayed = await post(h, plain.endpoint, BODY, await signed("d-2"));
    assert.equal(replayed.status, 202, "a replay with a new id passes: GitHub signs no id");
    assert.equal((await post(h, plain.endpoint, BODY, await signed())).status, 202, "nor none");

    const guarded = await expectJson(
      h.call("POST", "/api/routes", {
        name: "gh-body",
        signature_config: { preset: "github", secret: SECRET, dedupe: "body", replay_window: 60 },
      }, token),
      201,
    );
    const original = await post(h, guarded.endpoint, BODY, await signed("d-1"));
    assert.equal(original.status, 202);
    const { id } = await original.json();
    for (const delivery of ["d-1", "d-9", undefined]) {
      const r = await post(h, guarded.endpoint, BODY, await signed(delivery));
      assert.equal(r.status, 200, `replayed with ${delivery ?? "no"} id`);
      assert.deepEqual(await r.json(), { id, duplicate: true });
    }
    // Later in the window, past a bucket boundary of the dedup key: still a duplicate.
    now += 59_000;
    assert.equal((await post(h, guarded.endpoint, BODY, await signed("d-10"))).status, 200);
    // After the window the same body is a new event again (senders may repeat themselves).
    now += 2_000;
    assert.equal((await post(h, guarded.endpoint, BODY, await signed("d-11"))).status, 202);
    // A different body is never a duplicate; a wrong signature is still refused first.
    const other = '{"action":"closed","number":7}';
    const r2 = await post(h, guarded.endpoint, other, {
      "x-hub-signature-256": `sha256=${hex(await hmacSha256(SECRET, other))}`,
    });
    assert.equal(r2.status, 202);
    const forged = await post(h, guarded.endpoint, BODY, { "x-hub-signature-256": "sha256=00" });
    assert.equal(forged.status, 401);
  } finally {
    await h.close();
  }
});

Deno.test("signature_config is a real schema in the OpenAPI document", async () => {
  const h = await harness();
  try {
    const doc = await expectJson(h.call("GET", "/openapi.json"), 200);
    assert.equal(
      doc.components.schemas.RouteRequest.properties.signature_config.$ref,
      "#/components/schemas/SignatureConfig",
    );
    const forms = doc.components.schemas.SignatureConfig.oneOf as Record<string, unknown>[];
    const presets = forms.flatMap((f) => {
      const p = (f.properties as Record<string, { const?: string; enum?: string[] }>).preset;
      return p?.enum ?? (p?.const ? [p.const] : []);
    });
    for (
      const p of [
        "custom",
        "github",
        "stripe",
        "slack",
        "standard_webhooks",
        "bearer",
        "basic",
        "api_key",
      ]
    ) {
      assert.ok(presets.includes(p), `preset ${p} in ${presets}`);
    }
    const github = forms.find((f) =>
      ((f.properties as Record<string, { enum?: string[] }>).preset?.enum ?? []).includes("github")
    )!;
    const props = github.properties as Record<string, unknown>;
    for (const k of ["secret", "secrets", "replay_window", "id_header", "dedupe"]) {
      assert.ok(k in props, `github form has ${k}`);
    }
  } finally {
    await h.close();
  }
});

Deno.test("the README's signature_config examples are valid configs", async () => {
  const { parseSignatureConfig } = await import("../../core/verify/signature_config.ts");
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const section = readme.slice(readme.indexOf("## Webhook signatures and replays"));
  const blocks = [
    ...section.slice(0, section.indexOf("\n## ", 5)).matchAll(/```json\n([\s\S]*?)```/g),
  ]
    .map((m) => JSON.parse(m[1]));
  assert.equal(blocks.length, 2);
  for (const b of blocks) parseSignatureConfig(b);
});
