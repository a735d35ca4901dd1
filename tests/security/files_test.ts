/**
 * Files on the node: the data folder is 0700, the database and its WAL/SHM files 0600 (made
 * so on a fresh start and tightened on an old one), and a tenant's `file` destination writes
 * only inside its own folder: no `..`, no absolute path, no symlinked folder or file leading out.
 */
import assert from "node:assert/strict";
import { startRouter } from "../helpers/router_process.ts";
import { createFilePublisherFactory } from "../../adapters/brokers/file/publisher.ts";
import { outgoing } from "../conformance/publisher_suite.ts";
import { testContext } from "../helpers/publisher_context.ts";

const mode = async (p: string) => (await Deno.stat(p)).mode! & 0o777;

Deno.test({
  name: "the data folder is 0700 and the database with its WAL and SHM 0600, also tightened",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const top = await Deno.makeTempDir();
    const dir = `${top}/fresh/data`;
    let router = await startRouter({ dir, env: { DATA_DIR: dir } });
    try {
      // a write makes sure the WAL exists
      await fetch(`${router.url}/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "admin", password: "wrong" }),
      }).then((r) => r.body?.cancel());
      assert.equal(await mode(dir), 0o700, "data folder");
      for (const f of ["event-router.db", "event-router.db-wal", "event-router.db-shm"]) {
        assert.equal(await mode(`${dir}/${f}`), 0o600, f);
      }
      for (const f of ["jwt_secret", "encryption_key"]) {
        assert.equal(await mode(`${dir}/${f}`), 0o600, f);
      }
      await router.kill("SIGTERM");
      // An older install with looser modes is tightened at the next start.
      await Deno.chmod(dir, 0o755);
      await Deno.chmod(`${dir}/event-router.db`, 0o644);
      router = await startRouter({ dir, env: { DATA_DIR: dir } });
      assert.equal(await mode(dir), 0o700);
      assert.equal(await mode(`${dir}/event-router.db`), 0o600);
    } finally {
      await router.kill("SIGTERM");
      await Deno.remove(top, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test("a tenant's file destination stays inside its own folder, symlinks included", async () => {
  const root = await Deno.makeTempDir();
  const outside = await Deno.makeTempDir();
  try {
    const factory = createFilePublisherFactory({ root: `${root}/files` });
    const ctx = { ...testContext(), owner: "user_alice" };
    const publish = async (path: string) => {
      const p = factory.create(factory.parseConfig({ path, fsync: false }), ctx);
      try {
        return await p.publish(outgoing(1), new AbortController().signal);
      } finally {
        await p.close();
      }
    };
    assert.deepEqual(await publish("out/a.jsonl"), [{ ok: true }]);
    assert.ok((await Deno.readTextFile(`${root}/files/user_alice/out/a.jsonl`)).length > 0);
    assert.equal(await mode(`${root}/files/user_alice`), 0o700);

    // Another tenant's file of the same name is somewhere else.
    const bob = factory.create(factory.parseConfig({ path: "out/a.jsonl" }), {
      ...testContext(),
      owner: "user_bob",
    });
    await bob.publish(outgoing(1), new AbortController().signal);
    await bob.close();
    await Deno.stat(`${root}/files/user_bob/out/a.jsonl`);

    // A symlinked folder or file inside leading out: refused permanently, nothing written.
    await Deno.symlink(outside, `${root}/files/user_alice/escape`);
    await Deno.writeTextFile(`${outside}/target`, "");
    await Deno.symlink(`${outside}/target`, `${root}/files/user_alice/link.jsonl`);
    for (const path of ["escape/x.jsonl", "link.jsonl"]) {
      const [r] = await publish(path);
      assert.equal(r.ok, false, path);
      assert.equal((r as { permanent: boolean }).permanent, true, JSON.stringify(r));
      assert.match((r as { error: string }).error, /symlink/);
    }
    assert.equal(await Deno.readTextFile(`${outside}/target`), "", "nothing reached outside");
    assert.deepEqual([...Deno.readDirSync(outside)].map((e) => e.name), ["target"]);
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});
