import assert from "node:assert/strict";
import {
  createFilePublisherFactory,
  filePublisherFactory,
} from "../../../adapters/brokers/file/publisher.ts";
import type { PublisherContext } from "../../../core/ports.ts";
import { outgoing } from "../../conformance/publisher_suite.ts";

const ctx = {} as PublisherContext; // the file publisher needs nothing from the runtime

const readLines = async (path: string) =>
  (await Deno.readTextFile(path)).split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));

Deno.test("file: creates parent dirs and appends JSON lines across batches and reconnects", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/deep/er/out.jsonl`;
  const p = filePublisherFactory.create(filePublisherFactory.parseConfig({ path }), ctx);
  const ac = new AbortController();
  try {
    await p.connect(ac.signal);
    assert.deepEqual(await p.publish(outgoing(3, "a"), ac.signal), [
      { ok: true },
      { ok: true },
      { ok: true },
    ]);
    assert.deepEqual(await p.publish(outgoing(2, "b"), ac.signal), [{ ok: true }, { ok: true }]);
    await p.close();
    await p.connect(ac.signal);
    assert.deepEqual(await p.publish(outgoing(1, "c"), ac.signal), [{ ok: true }]);
    assert.deepEqual(await p.publish([], ac.signal), []);
    await p.close();

    const recs = await readLines(path);
    assert.deepEqual(recs.map((r) => r.delivery_id), [
      "dlv_a0000",
      "dlv_a0001",
      "dlv_a0002",
      "dlv_b0000",
      "dlv_b0001",
      "dlv_c0000",
    ]);
    assert.equal(recs[0].event_id, "evt_a0");
    assert.equal(recs[0].body, JSON.stringify({ seq: 0, text: "héllo 0" }));
    assert.equal(recs[0].body_encoding, "utf8");
    assert.deepEqual(recs[0].headers, { "content-type": "application/json", "x-seq": "0" });
    assert.ok(!Number.isNaN(Date.parse(recs[0].ts)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file: concurrent publishes do not interleave; existing content is kept", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/out.jsonl`;
  await Deno.writeTextFile(path, '{"existing":true}\n');
  const config = filePublisherFactory.parseConfig({ path, fsync: false });
  assert.equal(config.fsync, false);
  const p = filePublisherFactory.create(config, ctx);
  const ac = new AbortController();
  try {
    await p.connect(ac.signal);
    const batches = Array.from({ length: 5 }, (_, i) => outgoing(20, `c${i}-`));
    await Promise.all(batches.map((b) => p.publish(b, ac.signal)));
    await p.close();
    const recs = await readLines(path);
    assert.deepEqual(recs[0], { existing: true });
    assert.equal(recs.length, 101);
    for (let i = 0; i < 5; i++) {
      const ids = recs.slice(1 + i * 20, 21 + i * 20).map((r) => r.delivery_id.slice(4, 7));
      assert.equal(new Set(ids).size, 1, "a batch's lines are contiguous");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file: a write failure is retriable and names the path", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/is-a-dir`;
  await Deno.mkdir(path);
  const p = filePublisherFactory.create(filePublisherFactory.parseConfig({ path }), ctx);
  const ac = new AbortController();
  try {
    const [r] = await p.publish(outgoing(1, "x"), ac.signal);
    assert.ok(!r.ok && !r.permanent, JSON.stringify(r));
    assert.ok(!r.ok && r.error.includes(path));
    await p.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file: config errors name the field; a root confines the path", () => {
  assert.throws(() => filePublisherFactory.parseConfig({}), /file config: path: /);
  assert.throws(() => filePublisherFactory.parseConfig({ path: "" }), /path: /);
  assert.throws(() => filePublisherFactory.parseConfig({ path: "a", fsync: 1 }), /fsync: /);
  assert.deepEqual(filePublisherFactory.parseConfig({ path: "out.jsonl" }), {
    path: "out.jsonl",
    fsync: true,
  });
  const confined = createFilePublisherFactory({ root: "/var/lib/er/files" });
  assert.equal(confined.parseConfig({ path: "t1/./x/../out.jsonl" }).path, "t1/out.jsonl");
  assert.throws(
    () => confined.parseConfig({ path: "../../etc/passwd" }),
    /path: must be a file inside/,
  );
  assert.throws(() => confined.parseConfig({ path: "a/../../b" }), /path: must be a file inside/);
  assert.throws(() => confined.parseConfig({ path: "/etc/passwd" }), /path: must be a file inside/);
  assert.throws(() => confined.parseConfig({ path: "." }), /path: must be a file inside/);
  assert.equal(confined.parseConfig({ path: "..hidden" }).path, "..hidden", "a name, not a climb");
});
