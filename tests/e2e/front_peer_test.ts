/**
 * The client's address through the real process's front (runtimes/deno/http_front.ts), which
 * relays to the server over a private Unix socket and writes the address into a header of its
 * own: the event gets the socket's address even when the sender forges that header, and the
 * header is never stored with the event. The socket's folder is the node's alone and is gone
 * after a clean stop; one a killed node left behind is removed by the next start.
 */
import assert from "node:assert/strict";
import { apiClient, bootstrapAdmin, startRouter } from "../helpers/router_process.ts";
import { PEER_HEADER } from "../../runtimes/deno/http_front.ts";

/** The Unix sockets process `pid` has open with a path (/proc: its fds' inodes in net/unix). */
async function unixSockets(pid: number): Promise<string[]> {
  const inodes = new Set<string>();
  for await (const e of Deno.readDir(`/proc/${pid}/fd`)) {
    const link = await Deno.readLink(`/proc/${pid}/fd/${e.name}`).catch(() => "");
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m) inodes.add(m[1]);
  }
  return (await Deno.readTextFile("/proc/net/unix")).split("\n").slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 8 && inodes.has(f[6]))
    .map((f) => f[7]);
}

Deno.test("front: the event's ip is the socket's, the front's header is not stored", async () => {
  // A folder as a SIGKILLed node leaves it: its lock file no longer locked, made long ago.
  const tmp = Deno.env.get("TMPDIR") || "/tmp";
  const stale = await Deno.makeTempDir({ dir: tmp, prefix: "event-router-front-" });
  await Deno.writeTextFile(`${stale}/owner.lock`, "");
  await Deno.writeTextFile(`${stale}/http.sock`, "");
  const longAgo = new Date(Date.now() - 3600_000);
  await Deno.utime(stale, longAgo, longAgo);
  const router = await startRouter();
  let ours: string[] = [];
  try {
    ours = [...new Set(await unixSockets(router.child.pid))].map((p) => p.replace(/\/[^/]+$/, ""));
    assert.equal(ours.length, 1, `the node listens on one Unix socket: ${ours}`);
    const mode = (await Deno.stat(ours[0])).mode! & 0o777;
    assert.equal(mode, 0o700, "only the node's user can reach the socket");
    assert.ok(ours[0].startsWith(`${tmp}/event-router-front-`), ours[0]);
    await assert.rejects(Deno.stat(stale), Deno.errors.NotFound, "a dead node's folder is removed");

    const api = apiClient(router.url, await bootstrapAdmin(router.url));
    const { endpoint } = await api<{ endpoint: string }>("POST", "/api/routes", {
      name: "peer",
    });
    const r = await fetch(`${router.url}${endpoint}`, {
      method: "POST",
      headers: { "content-type": "application/json", [PEER_HEADER]: "203.0.113.77", "x-kept": "1" },
      body: '{"a":1}',
    });
    assert.equal(r.status, 202, await r.clone().text());
    const { id } = await r.json();
    const e = await api<{ source_ip: string; headers: Record<string, string> }>(
      "GET",
      `/api/events/${id}`,
    );
    assert.equal(e.source_ip, "127.0.0.1", "the forged header does not win");
    assert.equal(e.headers["x-kept"], "1");
    assert.equal(e.headers[PEER_HEADER], undefined, "the front's header is not stored");
  } finally {
    await router.kill("SIGTERM");
  }
  for (const d of ours) {
    await assert.rejects(Deno.stat(d), Deno.errors.NotFound, "a clean stop removes the folder");
  }
});
