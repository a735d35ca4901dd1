/**
 * A setting that is invalid in the store (written by an older version, or by hand) does not
 * brick the node: the real process logs the key and starts with that setting at its default;
 * the valid settings beside it still apply, and an admin can put it right through the API.
 */
import assert from "node:assert/strict";
import { apiClient, bootstrapAdmin, startRouter } from "../helpers/router_process.ts";
import { openStoreAsync } from "../../adapters/store/sqlite/store.ts";

Deno.test({
  name: "an invalid stored setting: logged at start, its default used, the node serves",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "event-router-settings-" });
    let router = await startRouter({ dir });
    try {
      await router.kill("SIGTERM");
      // Written straight into the store, as an older node (no validation) would have left it.
      const store = await openStoreAsync({ path: `${dir}/event-router.db`, inline: true });
      await store.setSettings({ allow_cidrs: ["D:/8"], retention_days: 3 });
      await store.close();

      router = await startRouter({ dir, env: { LOG_LEVEL: "info" } });
      const line = router.logs().split("\n").find((l) => l.includes("invalid stored setting"));
      assert.ok(line, `no log line for the invalid setting:\n${router.logs().slice(-2000)}`);
      const entry = JSON.parse(line);
      assert.equal(entry.level, "error");
      assert.equal(entry.key, "allow_cidrs");
      assert.match(entry.error, /allow_cidrs\.0/);

      const token = await bootstrapAdmin(router.url);
      const api = apiClient(router.url, token);
      const s = await api<Record<string, unknown>>("GET", "/api/settings");
      assert.equal(s.retention_days, 3, "the valid setting beside it applies");
      // the admin fixes it; the next start logs nothing
      await api("POST", "/api/settings", { allow_cidrs: ["10.1.0.0/16"] });
      await router.kill("SIGTERM");
      router = await startRouter({ dir, env: { LOG_LEVEL: "info" } });
      assert.ok(!router.logs().includes("invalid stored setting"), router.logs().slice(-2000));
    } finally {
      await router.kill("SIGTERM");
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
