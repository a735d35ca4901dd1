import assert from "node:assert/strict";
import { createGroupCommitter } from "../../core/ingress/group_commit.ts";
import type { Envelope } from "../../core/ports.ts";
import type { AcceptResult } from "../../core/store.ts";
import { openStore } from "../../adapters/store/sqlite/store.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let seq = 0;
function ev(extra: Partial<Envelope> = {}): Envelope {
  return {
    id: `evt_${++seq}`,
    tenant: "user_t",
    routeId: "route_1",
    source: "webhook",
    receivedAt: Date.now(),
    method: "POST",
    path: "/webhook/wh_x",
    query: "",
    ip: "127.0.0.1",
    headers: {},
    body: new Uint8Array([seq & 255]),
    ...extra,
  };
}

/** A commit that takes `ms` to "write", records each batch and what was committed. */
function slowCommit(ms = 3) {
  const batches: string[][] = [];
  const committed = new Set<string>();
  const commit = async (events: Envelope[]): Promise<AcceptResult> => {
    batches.push(events.map((e) => e.id));
    await sleep(ms);
    for (const e of events) committed.add(e.id);
    const duplicates = new Map<string, string>();
    for (const e of events) if (e.id.includes("dup")) duplicates.set(e.id, "evt_original");
    return { duplicates };
  };
  return { commit, batches, committed };
}

Deno.test("group commit: 100 concurrent accepts share a handful of commits", async () => {
  const { commit, batches, committed } = slowCommit();
  const gc = createGroupCommitter(commit);
  const events = Array.from({ length: 100 }, () => ev());
  const results = await Promise.all(events.map(async (e) => {
    const r = await gc.accept([e]);
    assert.ok(committed.has(e.id), `${e.id} resolved only after its commit`);
    return r;
  }));
  assert.equal(results.length, 100);
  assert.ok(results.every((r) => r.duplicates.size === 0));
  assert.ok(batches.length <= 3, `${batches.length} commits for 100 accepts`);
  assert.equal(batches.flat().length, 100, "every event committed exactly once");
  assert.equal(new Set(batches.flat()).size, 100);
  assert.deepEqual(gc.stats(), { commits: batches.length, events: 100 });
  await gc.drain();
});

Deno.test("group commit: accepts arriving while a commit runs join the next one", async () => {
  const { commit, batches, committed } = slowCommit(5);
  const gc = createGroupCommitter(commit);
  const pending: Promise<unknown>[] = [];
  for (let wave = 0; wave < 10; wave++) {
    for (let i = 0; i < 10; i++) {
      const e = ev();
      pending.push(gc.accept([e]).then(() => assert.ok(committed.has(e.id))));
    }
    await sleep(1);
  }
  await Promise.all(pending);
  assert.equal(batches.flat().length, 100);
  assert.ok(batches.length <= 20, `far fewer commits than requests: ${batches.length}`);
  assert.ok(batches.some((b) => b.length > 10), "a commit carried several waves");
  await gc.drain();
});

Deno.test("group commit: each waiter gets only its own duplicates", async () => {
  const { commit, batches } = slowCommit();
  const gc = createGroupCommitter(commit);
  const a = [ev(), ev({ id: "evt_dup_a" })];
  const b = [ev(), ev()];
  const c = [ev({ id: "evt_dup_c" })];
  const [ra, rb, rc] = await Promise.all([gc.accept(a), gc.accept(b), gc.accept(c)]);
  assert.equal(batches.length, 1, "one shared commit");
  assert.deepEqual([...ra.duplicates], [["evt_dup_a", "evt_original"]]);
  assert.deepEqual([...rb.duplicates], []);
  assert.deepEqual([...rc.duplicates], [["evt_dup_c", "evt_original"]]);
  await gc.drain();
});

Deno.test("group commit: a failed commit rejects every waiter of that batch, and only those", async () => {
  const boom = new Error("disk full");
  let calls = 0;
  const batches: string[][] = [];
  let onCommitted = 0;
  const gc = createGroupCommitter(async (events) => {
    batches.push(events.map((e) => e.id));
    await sleep(5);
    if (++calls === 1) throw boom;
    return { duplicates: new Map() };
  }, { onCommitted: () => void onCommitted++ });

  const first = [gc.accept([ev()]), gc.accept([ev(), ev()]), gc.accept([ev()])];
  await sleep(1); // the first batch is being written
  const second = [gc.accept([ev()]), gc.accept([ev()])];
  const settled = await Promise.allSettled([...first, ...second]);
  assert.equal(batches.length, 2);
  assert.deepEqual(batches.map((b) => b.length), [4, 2]);
  for (const r of settled.slice(0, 3)) {
    assert.equal(r.status, "rejected");
    assert.equal((r as PromiseRejectedResult).reason, boom, "the commit's own error");
  }
  for (const r of settled.slice(3)) assert.equal(r.status, "fulfilled");
  assert.equal(onCommitted, 1, "onCommitted only after a successful commit");
  assert.deepEqual(gc.stats(), { commits: 1, events: 2 });
  // the committer goes on after a failure
  await gc.accept([ev()]);
  assert.equal(gc.stats().commits, 2);
  await gc.drain();
});

Deno.test("group commit: drain waits for everything queued, failed batches included", async () => {
  await createGroupCommitter(() => Promise.resolve({ duplicates: new Map() })).drain();

  let fail = true;
  const { commit, committed } = slowCommit(4);
  const gc = createGroupCommitter(async (events) => {
    if (fail) {
      fail = false;
      await sleep(4);
      throw new Error("once");
    }
    return await commit(events);
  });
  const outcomes: string[] = [];
  for (let i = 0; i < 50; i++) {
    gc.accept([ev()]).then(() => outcomes.push("ok"), () => outcomes.push("failed"));
    if (i % 10 === 0) await sleep(1);
  }
  await gc.drain();
  await Promise.resolve(); // let the last then-callbacks run
  assert.equal(outcomes.length, 50, "every accept settled before drain resolved");
  assert.ok(outcomes.includes("failed"));
  assert.equal(committed.size, outcomes.filter((o) => o === "ok").length);
  assert.equal(gc.stats().events, committed.size);
});

Deno.test("group commit: maxWaitMs holds a lone request; maxBatch closes a batch at once", async () => {
  const { commit, batches } = slowCommit(1);
  const gc = createGroupCommitter(commit, { maxWaitMs: 1_000, maxBatch: 5 });
  const lone = gc.accept([ev()]);
  await sleep(10);
  assert.equal(batches.length, 0, "still waiting for company");
  await lone;
  assert.equal(batches.length, 1);

  await gc.drain();

  // A committer that would hold a lone request for a minute: a full batch must not wait for
  // that timer (no timing bound, so a loaded machine cannot fail it).
  const full = slowCommit(1);
  const patient = createGroupCommitter(full.commit, { maxWaitMs: 60_000, maxBatch: 5 });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const waited = new Promise<"waited">((r) => timer = setTimeout(() => r("waited"), 10_000));
  const got = await Promise.race([
    Promise.all(Array.from({ length: 5 }, () => patient.accept([ev()]))).then(() => "done"),
    waited,
  ]);
  clearTimeout(timer);
  assert.equal(got, "done", "a full batch does not wait for maxWaitMs");
  assert.deepEqual(full.batches.map((b) => b.length), [5]);
  await patient.drain();
});

Deno.test("group commit over the real store: every event stored, dedup per batch", async () => {
  const store = openStore({ path: ":memory:" });
  await store.migrate();
  let commits = 0;
  const gc = createGroupCommitter((e) => (commits++, store.accept(e)));
  try {
    const events = Array.from({ length: 100 }, () => ev({ id: `evt_real_${++seq}` }));
    const a = ev({ id: "evt_first", dedupKey: "same" });
    const b = ev({ id: "evt_second", dedupKey: "same" });
    const results = await Promise.all([...events, a, b].map((e) => gc.accept([e])));
    assert.ok(commits < 10, `${commits} commits`);
    assert.deepEqual([...results.at(-1)!.duplicates], [["evt_second", "evt_first"]]);
    assert.ok(results.slice(0, -1).every((r) => r.duplicates.size === 0));
    const admin = { userId: "user_x", role: "admin" as const };
    assert.equal((await store.listEvents(admin, {}, { limit: 1, offset: 0 })).total, 101);
    for (const e of [events[0], events[99], a]) {
      assert.deepEqual((await store.getEvent(admin, e.id))?.body, e.body);
    }
  } finally {
    await gc.drain();
    await store.close();
  }
});

Deno.test("group commit: with concurrency 2, a second batch commits while the first is on its way", async () => {
  let inFlight = 0, most = 0;
  const gc = createGroupCommitter(async (events) => {
    most = Math.max(most, ++inFlight);
    await sleep(20);
    inFlight--;
    return {
      duplicates: new Map(events.filter((e) => e.id.includes("dup")).map((e) => [e.id, "x"])),
    };
  }, { concurrency: 2 });
  const first = gc.accept([ev()]);
  await sleep(5); // the first batch is committing
  const second = Promise.all([gc.accept([ev()]), gc.accept([ev({ id: "evt_dup" })])]);
  await sleep(5);
  const third = gc.accept([ev()]); // both slots busy: waits for one
  const [, [, dup]] = await Promise.all([first, second, third]);
  assert.equal(most, 2, "never more than two at once");
  assert.equal(dup.duplicates.get("evt_dup"), "x");
  assert.deepEqual(gc.stats(), { commits: 3, events: 4 });
  assert.equal(gc.backlog(), 0);
});

Deno.test("group commit: with staggerMs, a second commit starts only once the first has run that long", async () => {
  const starts: number[] = [];
  const gc = createGroupCommitter(async () => {
    starts.push(performance.now());
    await sleep(40);
    return { duplicates: new Map() };
  }, { concurrency: 2, staggerMs: 15 });
  const first = gc.accept([ev()]);
  await sleep(1); // the first batch is committing
  const second = gc.accept([ev()]);
  await Promise.all([first, second]);
  assert.equal(starts.length, 2);
  const gap = starts[1] - starts[0];
  assert.ok(gap >= 14, `the second commit waited for the stagger (${gap.toFixed(1)} ms)`);
  assert.ok(gap < 40, `and did not wait for the first to finish (${gap.toFixed(1)} ms)`);
  await gc.drain();
});
