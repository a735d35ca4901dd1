/** The Deploy edge's buffer on a real Deno KV file: what goes in comes out whole, oldest first. */
import assert from "node:assert/strict";
import { createKvBuffer, KV_MAX_BODY_BYTES } from "../../../runtimes/deploy/kv_buffer.ts";
import { createKvRoutesBackup } from "../../../runtimes/deploy/kv_routes_backup.ts";
import { newId } from "../../../core/model/ids.ts";
import type { Envelope } from "../../../core/ports.ts";

function event(body: Uint8Array, receivedAt: number): Envelope {
  return {
    id: newId("evt"),
    tenant: "user_1",
    routeId: "route_1",
    source: "webhook",
    receivedAt,
    method: "POST",
    path: "/webhook/wh_x",
    query: "",
    ip: "127.0.0.1",
    headers: { "content-type": "application/octet-stream" },
    body,
    dedupKey: null,
  };
}

async function withKv(fn: (kv: Deno.Kv) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "kv-buffer-" });
  const kv = await Deno.openKv(`${dir}/kv.sqlite3`);
  try {
    await fn(kv);
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("kv buffer: bodies round-trip exactly (views, the largest body in parts), oldest first, delete removes all", async () => {
  await withKv(async (kv) => {
    const buffer = createKvBuffer(kv);
    // a request body is often a view into a larger read buffer: only its own bytes are kept
    const big = new Uint8Array(128 * 1024).map((_, i) => i * 7);
    const view = big.subarray(1000, 2000);
    const largest = new Uint8Array(KV_MAX_BODY_BYTES);
    for (let i = 0; i < largest.length; i += 65536) {
      crypto.getRandomValues(largest.subarray(i, Math.min(largest.length, i + 65536)));
    }
    const a = event(view, 3000), b = event(largest, 1000), c = event(new Uint8Array(), 2000);
    await buffer.put([a, b, c]);
    const listed = await buffer.list(10);
    assert.deepEqual(listed.map((e) => e.id), [b.id, c.id, a.id], "oldest first");
    assert.deepEqual(listed[0].body, largest);
    assert.deepEqual(listed[1].body, new Uint8Array());
    assert.deepEqual(listed[2].body, view);
    assert.equal(listed[2].body.buffer.byteLength, 1000, "stored without the rest of the buffer");
    assert.deepEqual((await buffer.list(1)).map((e) => e.id), [b.id]);

    // many events at once are split over several commits within Deno KV's limits
    const many = Array.from(
      { length: 40 },
      (_, i) => event(new Uint8Array(50_000).fill(i), 5000 + i),
    );
    await buffer.put(many);
    assert.equal((await buffer.list(100)).length, 43);

    await buffer.delete(listed);
    const left = await buffer.list(100);
    assert.deepEqual(left.map((e) => e.id), many.map((e) => e.id));
    assert.deepEqual(left[7].body, new Uint8Array(50_000).fill(7));
    await buffer.delete(left);
    assert.deepEqual(await buffer.list(100), []);
    const keys = [];
    for await (const e of kv.list({ prefix: ["edge"] })) if (e.key[1] !== "ev") keys.push(e.key);
    assert.deepEqual(keys, [], "no body parts left behind");
  });
});

Deno.test("kv routes backup: a copy larger than one KV value is saved and loaded whole; a new save replaces it", async () => {
  await withKv(async (kv) => {
    const backup = createKvRoutesBackup(kv);
    assert.equal(await backup.load(), null);
    const doc = "sealed:v1:" + "x".repeat(300_000);
    await backup.save(doc);
    assert.equal(await backup.load(), doc);
    await backup.save("sealed:v1:short");
    assert.equal(await backup.load(), "sealed:v1:short");
    let n = 0;
    for await (const _ of kv.list({ prefix: ["edge", "routes"] })) n++;
    assert.equal(n, 2, "the old parts are gone (pointer + one part)");
  });
});
