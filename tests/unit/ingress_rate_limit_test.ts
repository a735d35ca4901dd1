import assert from "node:assert/strict";
import { createRateLimiter } from "../../core/ingress/rate_limit.ts";

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

Deno.test("rate limit: a full bucket admits `burst` requests at once, then refuses", () => {
  const c = clock();
  const limiter = createRateLimiter({ rate: 1, burst: 3, now: c.now });
  for (let i = 0; i < 3; i++) assert.deepEqual(limiter.take("route_a"), { ok: true });
  assert.deepEqual(limiter.take("route_a"), { ok: false, retryAfterSeconds: 1 });
});

Deno.test("rate limit: tokens come back at `rate` per second", () => {
  const c = clock();
  const limiter = createRateLimiter({ rate: 10, burst: 1, now: c.now });
  assert.equal(limiter.take("k").ok, true);
  assert.equal(limiter.take("k").ok, false);
  c.advance(99);
  assert.equal(limiter.take("k").ok, false);
  c.advance(1);
  assert.equal(limiter.take("k").ok, true);
  // never more than burst, however long the pause
  c.advance(60_000);
  assert.equal(limiter.take("k").ok, true);
  assert.equal(limiter.take("k").ok, false);
});

Deno.test("rate limit: Retry-After is the whole seconds until the next token", () => {
  const c = clock();
  const limiter = createRateLimiter({ rate: 0.1, burst: 1, now: c.now });
  assert.equal(limiter.take("k").ok, true);
  assert.deepEqual(limiter.take("k"), { ok: false, retryAfterSeconds: 10 });
  c.advance(7_500);
  assert.deepEqual(limiter.take("k"), { ok: false, retryAfterSeconds: 3 });
  c.advance(2_500);
  assert.deepEqual(limiter.take("k"), { ok: true });
});

Deno.test("rate limit: keys are independent", () => {
  const c = clock();
  const limiter = createRateLimiter({ rate: 1, burst: 1, now: c.now });
  assert.equal(limiter.take("ip:10.0.0.1").ok, true);
  assert.equal(limiter.take("ip:10.0.0.1").ok, false);
  assert.equal(limiter.take("ip:10.0.0.2").ok, true);
  assert.equal(limiter.take("global").ok, true);
});

Deno.test("rate limit: memory stays bounded under a flood of distinct keys", () => {
  const c = clock();
  const limiter = createRateLimiter({ rate: 1, burst: 2, now: c.now, maxKeys: 100 });
  for (let i = 0; i < 10_000; i++) {
    limiter.take(`flood-${i}`);
    if (i % 100 === 0) c.advance(1);
  }
  assert.ok(limiter.size <= 100, `size ${limiter.size}`);
  // after the flood the limiter still limits
  assert.equal(limiter.take("k").ok, true);
  assert.equal(limiter.take("k").ok, true);
  assert.equal(limiter.take("k").ok, false);
});

Deno.test("rate limit: an idle sweep keeps a busy bucket's state", () => {
  const c = clock();
  const limiter = createRateLimiter({ rate: 1, burst: 1, now: c.now, maxKeys: 10 });
  for (let i = 0; i < 9; i++) limiter.take(`idle-${i}`);
  c.advance(5_000);
  limiter.take("busy");
  // the 11th key triggers a sweep: the 9 idle buckets go, "busy" stays empty
  limiter.take("x");
  limiter.take("y");
  assert.ok(limiter.size <= 10);
  assert.equal(limiter.take("busy").ok, false);
});

Deno.test("rate limit: refuses nonsense options with the value in the message", () => {
  assert.throws(() => createRateLimiter({ rate: 0, burst: 1 }), /rate must be a positive .* got 0/);
  assert.throws(
    () => createRateLimiter({ rate: 1, burst: 0.5 }),
    /burst must be at least 1, got 0.5/,
  );
  assert.throws(() => createRateLimiter({ rate: NaN, burst: 1 }), /got NaN/);
  assert.throws(() => createRateLimiter({ rate: 1, burst: 1, maxKeys: 0 }), /maxKeys .* got 0/);
});

Deno.test("rate limit: a clock that goes backwards does not mint tokens", () => {
  const c = clock();
  const limiter = createRateLimiter({ rate: 1, burst: 1, now: c.now });
  assert.equal(limiter.take("k").ok, true);
  c.advance(-10_000);
  assert.equal(limiter.take("k").ok, false);
});
