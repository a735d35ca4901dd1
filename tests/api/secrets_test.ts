/**
 * Secrets in destination configs and route signature configs: sealed at rest, masked in every
 * API answer, and kept when an update echoes the mask back.
 */
import assert from "node:assert/strict";
import { harness } from "../helpers/app.ts";
import type { Harness } from "../helpers/app.ts";
import {
  ADMIN_SCOPE,
  b64,
  createDestination,
  expectJson,
  hex,
  hmacSha256,
  post,
} from "./_helpers.ts";

const SEALED = "sealed:v1:";

/** Every API answer about the entity, as text, for "the secret is not in it" checks. */
async function answers(h: Harness, token: string, kind: "destinations" | "routes", id: string) {
  const get = await h.call("GET", `/api/${kind}/${id}`, undefined, token);
  const list = await h.call("GET", `/api/${kind}`, undefined, token);
  assert.equal(get.status, 200);
  assert.equal(list.status, 200);
  return [await get.text(), await list.text()];
}

function assertHidden(texts: string[], secrets: string[]) {
  for (const t of texts) {
    for (const s of secrets) assert.equal(t.includes(s), false, `secret ${s} appears in ${t}`);
  }
}

Deno.test("destination secrets: sealed at rest, masked in answers, kept on a masked echo", async () => {
  const h = await harness();
  try {
    const { token } = await h.tenant("secret-keeper");
    const whsec = `whsec_${b64(crypto.getRandomValues(new Uint8Array(32)))}`;
    const password = "Sup3r-S3cret-Pw";
    const amqpUrl = `amqp://router:${password}@broker.example:5672/vhost`;
    const cases = [
      {
        type: "http",
        config: { url: "https://example.com/hook", secret: whsec },
        field: "secret",
        clear: whsec,
        hidden: [whsec, whsec.slice(6)],
      },
      {
        type: "http",
        config: { url: "https://example.com/hook", secret: "short-one" },
        field: "secret",
        clear: "short-one",
        hidden: ["short-one"],
      },
      {
        type: "rabbitmq",
        config: { url: amqpUrl, queue: "jobs" },
        field: "url",
        clear: amqpUrl,
        hidden: [password],
      },
    ];
    for (const c of cases) {
      const label = `${c.type}.${c.field}`;
      const createdRes = await h.call("POST", "/api/destinations", {
        name: label,
        type: c.type,
        config: c.config,
      }, token);
      const createdText = await createdRes.text();
      assert.equal(createdRes.status, 201, createdText);
      const created = JSON.parse(createdText);
      const shown = created.config[c.field] as string;
      assert.ok(shown.includes("****"), `${label} is masked in the answer: ${shown}`);
      assertHidden([createdText, ...await answers(h, token, "destinations", created.id)], c.hidden);

      const stored = await h.store.getDestination(null, created.id);
      const sealed = stored!.config[c.field] as string;
      assert.ok(sealed.startsWith(SEALED), `${label} is sealed at rest: ${sealed}`);
      assert.equal(JSON.stringify(stored!.config).includes(c.hidden[0]), false);
      assert.equal(await h.deps.sealer.open(sealed), c.clear);

      // the UI sends back what it was shown: the stored secret stays
      const got = await expectJson(
        h.call("GET", `/api/destinations/${created.id}`, undefined, token),
        200,
      );
      const echoRes = await h.call("PUT", `/api/destinations/${created.id}`, {
        name: `${label}-renamed`,
        type: got.type,
        config: got.config,
      }, token);
      const echoText = await echoRes.text();
      assert.equal(echoRes.status, 200, `${label} echo: ${echoText}`);
      assertHidden([echoText], c.hidden);
      assert.equal(JSON.parse(echoText).name, `${label}-renamed`);
      const after = await h.store.getDestination(null, created.id);
      const afterSealed = after!.config[c.field] as string;
      assert.ok(afterSealed.startsWith(SEALED));
      assert.equal(await h.deps.sealer.open(afterSealed), c.clear, `${label} kept`);
    }

    // a new value replaces the secret
    const d = await createDestination(h, token, {
      type: "http",
      config: { url: "https://example.com/hook", secret: whsec },
    });
    const rotated = `whsec_${b64(crypto.getRandomValues(new Uint8Array(32)))}`;
    const upd = await h.call("PUT", `/api/destinations/${d.id}`, {
      name: "rotated",
      type: "http",
      config: { url: "https://example.com/hook", secret: rotated },
    }, token);
    assertHidden([await upd.text()], [rotated]);
    assert.equal(upd.status, 200);
    const now = await h.store.getDestination(null, d.id);
    assert.equal(await h.deps.sealer.open(now!.config.secret as string), rotated);

    // a mask that matches no stored secret is refused, naming the field
    const wrong = await h.call("PUT", `/api/destinations/${d.id}`, {
      name: "rotated",
      type: "http",
      config: { url: "https://example.com/hook", secret: "****00000000" },
    }, token);
    assert.equal(wrong.status, 400);
    assert.match((await wrong.json()).error.message, /config\.secret: is masked/);
  } finally {
    await h.close();
  }
});

Deno.test("route signature secrets: sealed at rest, masked in answers, kept on a masked echo", async () => {
  const h = await harness();
  try {
    const { token } = await h.tenant("route-secrets");
    const long = "gh-webhook-secret-0123456789abcdef";
    const short = "tiny-secret";
    for (const secret of [long, short]) {
      const createdRes = await h.call("POST", "/api/routes", {
        name: `github-${secret.length}`,
        signature_config: { enabled: true, preset: "github", secret },
      }, token);
      const createdText = await createdRes.text();
      assert.equal(createdRes.status, 201, createdText);
      const created = JSON.parse(createdText);
      assert.ok(created.signature_config.secret.includes("****"), created.signature_config.secret);
      assertHidden([createdText, ...await answers(h, token, "routes", created.id)], [secret]);

      const stored = await h.store.getRoute(null, created.id);
      const sealed = (stored!.spec.signature_config as { secret: string }).secret;
      assert.ok(sealed.startsWith(SEALED), sealed);
      assert.equal(await h.deps.sealer.open(sealed), secret);

      const got = await expectJson(
        h.call("GET", `/api/routes/${created.id}`, undefined, token),
        200,
      );
      const echoRes = await h.call("PUT", `/api/routes/${created.id}`, {
        name: "renamed",
        signature_config: got.signature_config,
      }, token);
      const echoText = await echoRes.text();
      assert.equal(echoRes.status, 200, `echo of ${secret.length}-char secret: ${echoText}`);
      assertHidden([echoText], [secret]);
      const after = await h.store.getRoute(null, created.id);
      const afterSealed = (after!.spec.signature_config as { secret: string }).secret;
      assert.ok(afterSealed.startsWith(SEALED));
      assert.equal(await h.deps.sealer.open(afterSealed), secret);

      // the kept secret still verifies webhooks
      const body = '{"zen":"keep it simple"}';
      await expectJson(
        post(h, created.endpoint, body, {
          "x-hub-signature-256": `sha256=${hex(await hmacSha256(secret, body))}`,
        }),
        202,
      );
    }

    // the generic form: secrets inside verifications[]
    const generic = await h.call("POST", "/api/routes", {
      name: "generic",
      signature_config: {
        verifications: [{ header_location: "X-Sig", secrets: [long, short] }],
      },
    }, token);
    const genericText = await generic.text();
    assert.equal(generic.status, 201, genericText);
    assertHidden([genericText], [long, short]);
    const id = JSON.parse(genericText).id;
    assertHidden(await answers(h, token, "routes", id), [long, short]);
    const stored = await h.store.getRoute(ADMIN_SCOPE, id);
    const v = (stored!.spec.signature_config as { verifications: Array<{ secrets: string[] }> })
      .verifications[0];
    assert.ok(v.secrets.every((s) => s.startsWith(SEALED)));
  } finally {
    await h.close();
  }
});
