/**
 * A full disk under the ingest journal: the node answers 503 with Retry-After instead of a
 * 202 it could not make durable, and once there is room again it accepts and every event it
 * acknowledged, before and after, is in the store. The journal folder is a real tmpfs of a
 * few hundred KiB (root only: `mount`), filled with a file the test then removes.
 */
import assert from "node:assert/strict";
import { apiClient, bootstrapAdmin, startRouter } from "../helpers/router_process.ts";
import { inCI } from "../helpers/peers.ts";

const canMount = (() => {
  try {
    return Deno.uid() === 0 &&
      new Deno.Command("mount", { args: ["--version"], stdout: "null", stderr: "null" })
        .outputSync().success;
  } catch {
    return false;
  }
})();
if (!canMount && !inCI) console.warn("journal_disk_full_test: skipped, needs root and mount");

async function sh(cmd: string, args: string[]) {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

Deno.test({
  name:
    "journal on a full disk: 503 with Retry-After, never a 202; accepted again once there is room",
  ignore: !canMount && !inCI,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "journal-full-" });
    const journalDir = `${dir}/event-router.db.ingest-journal`;
    await Deno.mkdir(journalDir);
    await sh("mount", ["-t", "tmpfs", "-o", "size=512k", "tmpfs", journalDir]);
    let router: Awaited<ReturnType<typeof startRouter>> | null = null;
    try {
      router = await startRouter({ dir, env: { LOG_LEVEL: "error" } });
      const api = apiClient(router.url, await bootstrapAdmin(router.url));
      const route = await api<{ endpoint: string }>("POST", "/api/routes", { name: "full" });
      const hook = `${router.url}${route.endpoint}`;
      const body = JSON.stringify({ pad: "x".repeat(8000) });
      const post = async () => {
        const r = await fetch(hook, { method: "POST", body });
        const j = await r.json();
        return { status: r.status, retry: r.headers.get("retry-after"), id: j.id as string };
      };
      const acked: string[] = [];
      const first = await post();
      assert.equal(first.status, 202);
      acked.push(first.id);

      // Fill what is left of the tmpfs, so the next journal write cannot get its pages.
      await sh("sh", ["-c", `dd if=/dev/zero of=${journalDir}/filler bs=4k 2>/dev/null; true`]);
      const refused: number[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await post();
        if (r.status === 202) acked.push(r.id);
        else {
          assert.equal(r.status, 503, `a refused webhook is a 503, not ${r.status}`);
          assert.ok(Number(r.retry) > 0, "with Retry-After");
          refused.push(r.status);
        }
      }
      // A refused write frees the pages of the segment it sealed, so a later one may fit: the
      // answers alternate, and each is either durable (202) or a 503.
      assert.ok(refused.length >= 5, `the full disk refused only ${refused.length} of 20`);

      await Deno.remove(`${journalDir}/filler`);
      const again = await post();
      assert.equal(again.status, 202, "accepted again once there is room");
      acked.push(again.id);
      for (const id of acked) {
        const e = await api<{ id: string }>("GET", `/api/events/${id}`);
        assert.equal(e.id, id);
      }
    } finally {
      await router?.kill("SIGTERM");
      await sh("umount", ["-l", journalDir]).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
