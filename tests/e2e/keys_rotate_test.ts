/** `event-router keys rotate` re-seals every secret; the node keeps verifying and delivering. */
import assert from "node:assert/strict";
import { apiClient, bootstrapAdmin, DENO, startRouter } from "../helpers/router_process.ts";
import { openStore } from "../../adapters/store/sqlite/store.ts";
import { createSealer, parseEncryptionKey } from "../../core/crypto/sealer.ts";
import { hmacHex } from "../helpers/sign.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("keys rotate re-seals destination and route secrets under the new key", async () => {
  let router = await startRouter();
  const dir = router.dir;
  const secret = "gh-secret-0123456789abcdef";
  try {
    const api = apiClient(router.url, await bootstrapAdmin(router.url));
    const dest = await api("POST", "/api/destinations", {
      name: "h",
      type: "http",
      config: { url: "http://127.0.0.1:9/x", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" },
    });
    const route = await api<{ endpoint: string }>("POST", "/api/routes", {
      name: "r",
      destinations: [{ destination_id: dest.id }],
      signature_config: { enabled: true, preset: "github", secret },
      // an enrich stage's credentials are sealed by the same rule, and re-sealed too
      pipeline: [{
        type: "enrich",
        url: "http://127.0.0.1:9/lookup",
        auth: { type: "bearer", token: "enrich-token-0123456789" },
        on_error: "drop",
      }],
    });
    await router.kill("SIGTERM");
    const oldKey = (await Deno.readTextFile(`${dir}/encryption_key`)).trim();

    const out = await new Deno.Command(DENO, {
      args: [
        "run",
        "-A",
        `${ROOT}main.ts`,
        "keys",
        "rotate",
        "--database-path",
        `${dir}/event-router.db`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    assert.match(
      new TextDecoder().decode(out.stdout),
      /re-sealed 1 destination\(s\), 1 route\(s\) and 0 trigger\(s\)/,
    );
    const newKey = (await Deno.readTextFile(`${dir}/encryption_key`)).trim();
    assert.notEqual(newKey, oldKey);

    const store = openStore({ path: `${dir}/event-router.db` });
    const [d] = await store.allDestinations();
    const sealed = d.config.secret as string;
    assert.match(sealed, /^sealed:v1:/);
    assert.equal(
      await createSealer(parseEncryptionKey(newKey)).open(sealed),
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    );
    await assert.rejects(() => createSealer(parseEncryptionKey(oldKey)).open(sealed));
    const [r] = await store.allRoutes();
    const token = (r.spec.pipeline![0] as { auth: { token: string } }).auth.token;
    assert.match(token, /^sealed:v1:/);
    assert.equal(
      await createSealer(parseEncryptionKey(newKey)).open(token),
      "enrich-token-0123456789",
    );
    await store.close();

    router = await startRouter({ dir });
    const body = '{"zen":"keep it logically awesome"}';
    const ok = await fetch(`${router.url}${route.endpoint}`, {
      method: "POST",
      body,
      headers: { "x-hub-signature-256": `sha256=${await hmacHex(secret, body)}` },
    });
    assert.equal(ok.status, 202, "the route's opened secret still verifies after rotation");
    await ok.body?.cancel();
  } finally {
    await router.kill("SIGTERM");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
