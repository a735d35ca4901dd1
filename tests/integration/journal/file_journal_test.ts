/**
 * The file journal on real files, with real processes: records survive a SIGKILL of their
 * writer and come back once, a live writer's segments are left alone, a torn tail is cut off,
 * and released segments are deleted.
 */
import assert from "node:assert/strict";
import { openFileJournal, parseRecords } from "../../../adapters/journal/file_journal.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const JOURNAL = new URL("../../../adapters/journal/file_journal.ts", import.meta.url).href;

async function collect(j: Awaited<ReturnType<typeof openFileJournal>>) {
  const out: { ref: { segment: string; bytes: number }; text: string }[] = [];
  for await (const r of j.recovered()) out.push({ ref: r.ref, text: dec.decode(r.record) });
  return out;
}

/** A child process that appends `records`, releases the first `release`, says "ready" and
 * waits to be killed. */
function writer(dir: string, records: string[], release: number) {
  const code = `
    import { openFileJournal } from ${JSON.stringify(JOURNAL)};
    const j = await openFileJournal({ dir: ${JSON.stringify(dir)} });
    const refs = [];
    for (const r of ${
    JSON.stringify(records)
  }) refs.push(await j.append(new TextEncoder().encode(r)));
    for (const ref of refs.slice(0, ${release})) j.release(ref);
    console.log("ready");
    setInterval(() => {}, 1000);`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  return {
    child,
    async ready() {
      const { value } = await reader.read();
      assert.match(dec.decode(value), /ready/);
      reader.releaseLock();
    },
  };
}

Deno.test("file journal: a SIGKILLed writer's records come back once; a live writer's are left alone", async () => {
  const dir = await Deno.makeTempDir({ prefix: "journal-" });
  const a = writer(dir, ["a1", "a2", "a3"], 1);
  const b = writer(dir, ["b1"], 0);
  try {
    await a.ready();
    await b.ready();
    a.child.kill("SIGKILL");
    await a.child.status;
    const j = await openFileJournal({ dir });
    try {
      const got = await collect(j);
      // a1 was released, but not all of its segment was: it comes back too (importing a
      // record twice adds nothing); b is alive, so its records stay its own
      assert.deepEqual(got.map((r) => r.text), ["a1", "a2", "a3"]);
      assert.deepEqual(await collect(j), [], "recovered once");
      assert.equal(j.pendingBytes(), 6);
      const files = () => [...Deno.readDirSync(dir)].map((e) => e.name).sort();
      assert.equal(files().length, 2);
      for (const r of got) j.release(r.ref);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(files().length, 1, "the recovered segment is deleted once all is released");
      assert.equal(j.pendingBytes(), 0);
    } finally {
      await j.close();
    }
    b.child.kill("SIGKILL");
    await b.child.status;
    const j2 = await openFileJournal({ dir });
    assert.deepEqual((await collect(j2)).map((r) => r.text), ["b1"]);
    await j2.close();
  } finally {
    for (const c of [a.child, b.child]) {
      try {
        c.kill("SIGKILL");
      } catch { /* gone */ }
    }
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file journal: appends, releases and rotation keep only what is unreleased", async () => {
  const dir = await Deno.makeTempDir({ prefix: "journal-" });
  const j = await openFileJournal({ dir, segmentBytes: 64 });
  try {
    const refs = [];
    for (let i = 0; i < 6; i++) {
      refs.push(await j.append(enc.encode(`record-${i}`.padEnd(40, "."))));
    }
    assert.ok(new Set(refs.map((r) => r.segment)).size >= 3, "small segments rotate");
    for (const r of refs.slice(0, 4)) j.release(r);
    await new Promise((r) => setTimeout(r, 50));
    const left = new Set(refs.slice(4).map((r) => r.segment));
    assert.deepEqual(new Set(j.segments()), left, "fully released sealed segments are gone");
    await assert.rejects(() => j.append(new Uint8Array(0)), RangeError);
  } finally {
    await j.close();
  }
  // closing keeps unreleased records for the next start
  const again = await openFileJournal({ dir });
  assert.deepEqual((await collect(again)).map((r) => r.text.slice(0, 8)), ["record-4", "record-5"]);
  await again.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("file journal: a torn or corrupt tail ends a segment's records", () => {
  const rec = (s: string) => {
    const p = enc.encode(s);
    const b = new Uint8Array(8 + p.length);
    const v = new DataView(b.buffer);
    v.setUint32(0, p.length);
    // node:zlib's crc32, as the journal writes it
    v.setUint32(4, crcOf(p));
    b.set(p, 8);
    return b;
  };
  const whole = [...rec("one"), ...rec("two")];
  const torn = new Uint8Array([...whole, ...rec("three").subarray(0, 9)]);
  assert.deepEqual(parseRecords(torn).map((r) => dec.decode(r)), ["one", "two"]);
  const corrupt = new Uint8Array([...whole, ...rec("three")]);
  corrupt[corrupt.length - 1] ^= 1;
  assert.deepEqual(parseRecords(corrupt).map((r) => dec.decode(r)), ["one", "two"]);
  const zeros = new Uint8Array([...whole, ...new Uint8Array(64)]);
  assert.deepEqual(parseRecords(zeros).map((r) => dec.decode(r)), ["one", "two"]);
});

import { crc32 as crcOf } from "node:zlib";
