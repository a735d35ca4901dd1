import assert from "node:assert/strict";
import {
  DEFAULT_SCHEDULE_SECONDS,
  retryDelayMs,
  retryPolicy,
} from "../../core/delivery/backoff.ts";

Deno.test("backoff: the default policy is eight attempts over the default schedule", () => {
  assert.deepEqual(DEFAULT_SCHEDULE_SECONDS, [0, 5, 300, 1800, 7200, 18000, 36000, 36000]);
  assert.deepEqual(retryPolicy(), { maxAttempts: 8, scheduleSeconds: DEFAULT_SCHEDULE_SECONDS });
  assert.deepEqual(retryPolicy({}), retryPolicy());
  assert.deepEqual(retryPolicy({ schedule_seconds: [1, 2, 3] }), {
    maxAttempts: 3,
    scheduleSeconds: [1, 2, 3],
  });
  assert.deepEqual(retryPolicy({ max_attempts: 20 }), {
    maxAttempts: 20,
    scheduleSeconds: DEFAULT_SCHEDULE_SECONDS,
  });
  assert.equal(retryPolicy({ max_attempts: 2, schedule_seconds: [1, 2, 3] }).maxAttempts, 2);
});

Deno.test("backoff: each delay lies between the previous step and this one (full jitter)", () => {
  const p = retryPolicy();
  const s = DEFAULT_SCHEDULE_SECONDS;
  for (let made = 1; made < s.length; made++) {
    const lo = s[made - 1] * 1000, hi = s[made] * 1000;
    assert.equal(retryDelayMs(p, made, () => 0), lo, `after ${made}: earliest`);
    assert.equal(
      retryDelayMs(p, made, () => 0.5),
      Math.round((lo + hi) / 2),
      `after ${made}: middle`,
    );
    assert.equal(retryDelayMs(p, made, () => 0.9999999999), hi, `after ${made}: latest`);
    for (let i = 0; i < 200; i++) {
      const d = retryDelayMs(p, made);
      assert.ok(d >= lo && d <= hi, `after ${made} attempts: ${d} not in [${lo}, ${hi}]`);
    }
  }
  // the first retry comes within 5 s, the second between 5 s and 5 min
  assert.ok(retryDelayMs(p, 1) <= 5000);
  assert.ok(retryDelayMs(p, 2) >= 5000 && retryDelayMs(p, 2) <= 300_000);
});

Deno.test("backoff: past the end of the schedule the last step repeats; before it, nothing", () => {
  const p = retryPolicy({ max_attempts: 20, schedule_seconds: [0, 10, 60] });
  for (const made of [2, 3, 4, 10, 19]) {
    assert.equal(retryDelayMs(p, made, () => 0), 10_000, `after ${made}: earliest`);
    assert.equal(retryDelayMs(p, made, () => 0.9999999), 60_000, `after ${made}: latest`);
  }
  assert.equal(retryDelayMs(p, 0, () => 0.7), 0, "step 0 of this schedule is immediate");
  const one = retryPolicy({ max_attempts: 5, schedule_seconds: [30] });
  for (const made of [1, 2, 4]) {
    const d = retryDelayMs(one, made, () => 0.5);
    assert.equal(d, 15_000, "a one-step schedule jitters between 0 and its step");
  }
});

Deno.test("backoff: a schedule that goes down never jitters below the current step", () => {
  const p = retryPolicy({ schedule_seconds: [0, 60, 10] });
  assert.equal(retryDelayMs(p, 2, () => 0), 10_000);
  assert.equal(retryDelayMs(p, 2, () => 0.99), 10_000);
  const d = retryDelayMs(retryPolicy({ schedule_seconds: [0, 0.5, 1.25] }), 2, () => 0.5);
  assert.equal(d, 875, "fractional seconds are fine, rounded to whole ms");
  assert.ok(Number.isInteger(retryDelayMs(retryPolicy(), 3)));
});
