import assert from "node:assert/strict";
import { newId, timeOrderedCuid } from "../../core/model/ids.ts";

Deno.test("event and delivery ids: CUID2-shaped, unique, and ordered by creation time", () => {
  const ids = Array.from({ length: 20_000 }, () => newId("evt"));
  for (const id of ids.slice(0, 100)) assert.match(id, /^evt_[a-z][a-z0-9]{23}$/);
  assert.equal(new Set(ids).size, ids.length);
  const t = Date.UTC(2026, 11, 2, 8, 0, 0);
  const earlier = Array.from({ length: 50 }, () => timeOrderedCuid(t));
  const later = Array.from({ length: 50 }, () => timeOrderedCuid(t + 1));
  for (const a of earlier) for (const b of later) assert.ok(a < b, `${a} sorts after ${b}`);
  // A day, a year and 2059 (where the 8 time digits roll over into the letter) keep the order.
  for (const step of [86_400_000, 365 * 86_400_000, 36 ** 8 - t]) {
    assert.ok(timeOrderedCuid(t) < timeOrderedCuid(t + step));
    assert.match(timeOrderedCuid(t + step), /^[a-z][a-z0-9]{23}$/);
  }
});

Deno.test("event ids: the 15 random characters are uniform over base 36", () => {
  const counts = new Map<string, number>();
  const n = 20_000;
  for (let i = 0; i < n; i++) {
    for (const c of timeOrderedCuid().slice(9)) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  assert.equal(counts.size, 36);
  const expected = (n * 15) / 36;
  for (const [c, k] of counts) assert.ok(Math.abs(k - expected) < expected * 0.1, `${c}: ${k}`);
});
