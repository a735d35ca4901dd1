/**
 * Runs the README's walkthrough word for word (the bash block between the walkthrough
 * markers) against a freshly started router process, as a newcomer would.
 */
import assert from "node:assert/strict";
import { startRouter } from "../helpers/router_process.ts";

const README = new URL("../../README.md", import.meta.url);

Deno.test("the README walkthrough brings up a working router", async () => {
  const text = await Deno.readTextFile(README);
  const m = text.match(
    /<!-- walkthrough:start -->\s*```bash\n([\s\S]*?)```\s*<!-- walkthrough:end -->/,
  );
  assert.ok(m, "README has a walkthrough block");
  const dir = await Deno.makeTempDir({ prefix: "er-readme-" });
  // The walkthrough uses the defaults: the data folder ./data under the working directory.
  const router = await startRouter({
    cwd: dir,
    env: { DATABASE_PATH: "./data/event-router.db", ALLOW_PRIVATE_NETWORKS: "false" },
  });
  try {
    const out = await new Deno.Command("bash", {
      args: ["-euo", "pipefail", "-c", m[1]],
      cwd: dir,
      env: { BASE: router.url },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.ok(
      out.success,
      `walkthrough failed: ${stdout}\n${new TextDecoder().decode(out.stderr)}`,
    );
    const accepted = stdout.match(/accepted (evt_[a-z0-9]+)/);
    assert.ok(accepted, `walkthrough printed the event id: ${stdout}`);
    assert.equal(stdout.trim().split("\n").at(-1), "delivered");
    const lines = (await Deno.readTextFile(`${dir}/data/orders.jsonl`)).trim().split("\n");
    const rec = JSON.parse(lines[0]);
    assert.equal(rec.event_id, accepted[1]);
    assert.deepEqual(JSON.parse(rec.body), { order_id: 42, total: 19.99 });
  } finally {
    const status = await router.kill("SIGTERM");
    assert.equal(status.code, 0, `clean shutdown exits 0; logs:\n${router.logs().slice(-2000)}`);
    await Deno.remove(dir, { recursive: true });
  }
});
