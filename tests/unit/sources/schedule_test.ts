/**
 * The schedule source with an injected clock: seconds, time zones, both DST transitions (as
 * croner handles them), catch_up, the slot as dedupKey, and a failed slot tried again.
 */
import assert from "node:assert/strict";
import { sourceHarness } from "../../helpers/source_harness.ts";
import { scheduleSourceFactory } from "../../../adapters/sources/schedule/source.ts";
import type { SourceContext } from "../../../core/ports.ts";

const T = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const signal = new AbortController().signal;

async function scheduled(config: Record<string, unknown>, start: string) {
  const h = await sourceHarness();
  let now = T(start);
  const ctx: SourceContext = {
    ...h.context("trigger_sched", "schedule"),
    clock: { now: () => now },
  };
  const source = scheduleSourceFactory.create(scheduleSourceFactory.parseConfig(config), ctx);
  return {
    h,
    ctx,
    source,
    setNow: (t: string | number) => (now = typeof t === "number" ? t : T(t)),
    /** The next `n` slots as the runtime walks them: wait until due, run, ask again. */
    async walk(n: number) {
      const out: string[] = [];
      let last: number | null = null;
      for (let i = 0; i < n; i++) {
        const due = source.nextRunAt!(last, now)!;
        now = Math.max(now, due) + 3; // the runtime starts the run a few ms late
        last = now;
        await source.poll!(signal);
        out.push(iso(due)!);
      }
      return out;
    },
  };
}

Deno.test("schedule: 6-field cron with seconds, every slot once with its dedupKey and headers", async () => {
  const s = await scheduled({ cron: "*/10 * * * * *", payload: { a: 1 } }, "2025-01-01T12:00:03Z");
  try {
    assert.deepEqual(await s.walk(3), [
      "2025-01-01T12:00:10.000Z",
      "2025-01-01T12:00:20.000Z",
      "2025-01-01T12:00:30.000Z",
    ]);
    const evs = await s.h.events();
    assert.equal(evs.length, 3);
    assert.equal(evs[0].headers["x-schedule-slot"], "2025-01-01T12:00:10.000Z");
    assert.equal(evs[0].headers["x-schedule-cron"], "*/10 * * * * *");
    assert.equal(evs[0].headers["content-type"], "application/json");
    assert.equal(evs[0].dedupKey, "trigger_sched:slot:2025-01-01T12:00:10.000Z");
    assert.deepEqual(JSON.parse(new TextDecoder().decode(evs[0].body)), { a: 1 });
  } finally {
    await s.h.close();
  }
});

Deno.test("schedule: a slot fired twice (a re-run after a crash) is one event", async () => {
  const s = await scheduled({ cron: "0 * * * *" }, "2025-01-01T09:59:59Z");
  try {
    const due = s.source.nextRunAt!(null, T("2025-01-01T09:59:59Z"))!;
    s.setNow(due + 5);
    assert.equal((await s.source.poll!(signal)).emitted, 1);
    // a second node (or a restart) computing the same slot and firing it again
    const again = scheduleSourceFactory.create(
      scheduleSourceFactory.parseConfig({ cron: "0 * * * *" }),
      s.ctx,
    );
    assert.equal(again.nextRunAt!(due - 60_000, due + 10), due + 3_600_000, "moved past it");
    const twin = scheduleSourceFactory.create(
      scheduleSourceFactory.parseConfig({ cron: "0 * * * *", catch_up: "1h" }),
      s.ctx,
    );
    assert.equal(twin.nextRunAt!(due - 60_000, due + 10), due, "caught up: the same slot");
    const r = await twin.poll!(signal);
    assert.deepEqual([r.emitted, r.duplicates], [0, 1]);
    assert.equal((await s.h.events()).length, 1);
  } finally {
    await s.h.close();
  }
});

Deno.test("schedule: time zones and DST as croner does (Europe/Berlin)", async () => {
  const daily9 = await scheduled(
    { cron: "0 9 * * *", timezone: "Europe/Berlin" },
    "2025-01-15T00:00:00Z",
  );
  try {
    assert.deepEqual(await daily9.walk(1), ["2025-01-15T08:00:00.000Z"], "CET is UTC+1");
    daily9.setNow("2025-07-15T00:00:00Z");
    assert.equal(
      iso(daily9.source.nextRunAt!(null, T("2025-07-15T00:00:00Z"))),
      "2025-07-15T07:00:00.000Z",
    );
  } finally {
    await daily9.h.close();
  }
  // spring forward: 02:30 does not exist on 30 March; it runs at the first valid time after
  const spring = await scheduled(
    { cron: "30 2 * * *", timezone: "Europe/Berlin" },
    "2025-03-29T00:00:00Z",
  );
  try {
    assert.deepEqual(await spring.walk(3), [
      "2025-03-29T01:30:00.000Z", // 02:30 CET
      "2025-03-30T01:00:00.000Z", // 03:00 CEST, the gap's end
      "2025-03-31T00:30:00.000Z", // 02:30 CEST
    ]);
  } finally {
    await spring.h.close();
  }
  // fall back: 02:30 happens twice on 26 October; a fixed-time job runs once
  const fall = await scheduled(
    { cron: "30 2 * * *", timezone: "Europe/Berlin" },
    "2025-10-25T00:00:00Z",
  );
  try {
    assert.deepEqual(await fall.walk(3), [
      "2025-10-25T00:30:00.000Z",
      "2025-10-26T00:30:00.000Z",
      "2025-10-27T01:30:00.000Z",
    ]);
    assert.equal((await fall.h.events()).length, 3);
  } finally {
    await fall.h.close();
  }
  // an hourly job runs on both 02:00s of that night: 25 hours, 25 slots
  const hourly = await scheduled(
    { cron: "0 * * * *", timezone: "Europe/Berlin" },
    "2025-10-25T21:59:00Z",
  );
  try {
    const slots = await hourly.walk(25);
    assert.equal(slots[0], "2025-10-25T22:00:00.000Z");
    assert.equal(slots[24], "2025-10-26T22:00:00.000Z");
    assert.equal(new Set(slots).size, 25);
  } finally {
    await hourly.h.close();
  }
});

Deno.test("schedule: each missed slot younger than catch_up fires once, oldest first; older ones are skipped", async () => {
  const every = await scheduled({ cron: "* * * * *", catch_up: "2m" }, "2025-01-01T10:05:30Z");
  try {
    const last = T("2025-01-01T10:00:00Z");
    // 10:01-10:03 are older than 2 minutes; 10:04 and 10:05 fire, oldest first, then 10:06
    assert.equal(
      iso(every.source.nextRunAt!(last, T("2025-01-01T10:05:30Z"))),
      "2025-01-01T10:04:00.000Z",
    );
    const walker = await scheduled({ cron: "* * * * *", catch_up: "2m" }, "2025-01-01T10:05:30Z");
    let lastRun: number | null = last;
    const fired: string[] = [];
    for (let i = 0; i < 3; i++) {
      const due: number = walker.source.nextRunAt!(
        lastRun,
        Math.max(T("2025-01-01T10:05:30Z"), lastRun),
      )!;
      fired.push(iso(due)!);
      walker.setNow(Math.max(due, T("2025-01-01T10:05:30Z")) + 2);
      lastRun = Math.max(due, T("2025-01-01T10:05:30Z")) + 2;
      await walker.source.poll!(signal);
    }
    assert.deepEqual(fired, [
      "2025-01-01T10:04:00.000Z",
      "2025-01-01T10:05:00.000Z",
      "2025-01-01T10:06:00.000Z",
    ]);
    assert.deepEqual(
      (await walker.h.events()).map((e) => e.headers["x-schedule-slot"]).sort(),
      fired,
    );
    await walker.h.close();
    assert.equal(
      iso(every.source.nextRunAt!(T("2025-01-01T10:04:00Z"), T("2025-01-01T10:05:00Z"))),
      "2025-01-01T10:05:00.000Z",
      "a slot at exactly now",
    );
    const none = scheduleSourceFactory.create(
      scheduleSourceFactory.parseConfig({ cron: "* * * * *" }),
      every.ctx,
    );
    assert.equal(iso(none.nextRunAt!(last, T("2025-01-01T10:05:30Z"))), "2025-01-01T10:06:00.000Z");
    const hourly = scheduleSourceFactory.create(
      scheduleSourceFactory.parseConfig({ cron: "0 * * * *", catch_up: "2m" }),
      every.ctx,
    );
    assert.equal(
      iso(hourly.nextRunAt!(T("2025-01-01T09:00:00Z"), T("2025-01-01T10:05:30Z"))),
      "2025-01-01T11:00:00.000Z",
      "the 10:00 slot is 5.5 min old: older than catch_up",
    );
  } finally {
    await every.h.close();
  }
});

Deno.test("schedule: a slot whose emit failed is tried again with backoff, then fires once", async () => {
  const s = await scheduled({ cron: "0 * * * *" }, "2025-01-01T09:59:00Z");
  try {
    const due = s.source.nextRunAt!(null, T("2025-01-01T09:59:00Z"))!;
    s.setNow(due + 2);
    const failing: SourceContext = {
      ...s.ctx,
      emit: () => Promise.reject(new Error("store down")),
    };
    const src = scheduleSourceFactory.create(
      scheduleSourceFactory.parseConfig({ cron: "0 * * * *" }),
      failing,
    );
    src.nextRunAt!(null, due - 1000);
    await assert.rejects(src.poll!(signal), /store down/);
    assert.equal(src.nextRunAt!(due + 2, due + 2), due + 2 + 1000, "retried after 1 s");
    await assert.rejects(src.poll!(signal), /store down/);
    assert.equal(src.nextRunAt!(due + 2, due + 2), due + 2 + 2000, "then 2 s");
    failing.emit = s.ctx.emit;
    assert.equal((await src.poll!(signal)).emitted, 1);
    const ev = (await s.h.events())[0];
    assert.equal(ev.headers["x-schedule-slot"], iso(due), "the missed slot, not a new one");
    assert.equal(iso(src.nextRunAt!(due + 2, due + 2)), iso(due + 3_600_000));
  } finally {
    await s.h.close();
  }
});
