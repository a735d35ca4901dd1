import assert from "node:assert/strict";
import { createCircuitBreakers } from "../../core/delivery/circuit_breaker.ts";

const T = 1_000_000;

Deno.test("breaker: closed until `threshold` consecutive failures, then open for openMs", () => {
  const b = createCircuitBreakers({ threshold: 3, openMs: 1000, maxOpenMs: 10_000 });
  assert.equal(b.state("d1", T), "closed");
  assert.deepEqual(b.blocked(T), []);
  b.failure("d1", T);
  b.failure("d1", T + 1);
  assert.equal(b.state("d1", T + 2), "closed");
  assert.equal(b.isOpen("d1", T + 2), false);
  b.failure("d1", T + 2);
  assert.equal(b.state("d1", T + 2), "open");
  assert.equal(b.isOpen("d1", T + 2), true);
  assert.deepEqual(b.blocked(T + 2), ["d1"]);
  assert.equal(b.state("d1", T + 1001), "open");
  assert.equal(b.state("d1", T + 1002), "half-open", "the cool-down is over: one probe");
  assert.deepEqual(b.blocked(T + 1002), [], "a half-open destination is claimed again");
  assert.equal(b.isOpen("d1", T + 1002), false);
});

Deno.test("breaker: a success anywhere in between resets the count", () => {
  const b = createCircuitBreakers({ threshold: 3, openMs: 1000 });
  b.failure("d1", T);
  b.failure("d1", T);
  b.success("d1");
  b.failure("d1", T);
  b.failure("d1", T);
  assert.equal(b.state("d1", T), "closed");
  b.failure("d1", T);
  assert.equal(b.state("d1", T), "open");
});

Deno.test("breaker: a failed probe reopens with a doubled cool-down, capped; success closes", () => {
  const b = createCircuitBreakers({ threshold: 2, openMs: 1000, maxOpenMs: 3000 });
  b.failure("d", T);
  b.failure("d", T); // open until T + 1000
  let t = T + 1000;
  assert.equal(b.state("d", t), "half-open");
  b.failure("d", t); // probe failed: open for 2000
  assert.equal(b.state("d", t + 1999), "open");
  assert.equal(b.state("d", t + 2000), "half-open");
  t += 2000;
  b.failure("d", t); // 4000 capped to 3000
  assert.equal(b.state("d", t + 2999), "open");
  assert.equal(b.state("d", t + 3000), "half-open");
  t += 3000;
  b.failure("d", t);
  assert.equal(b.state("d", t + 2999), "open", "stays at the cap");
  assert.equal(b.state("d", t + 3000), "half-open");
  b.success("d");
  assert.equal(b.state("d", t + 3000), "closed");
  // after closing, it takes `threshold` failures again, and the cool-down starts over
  b.failure("d", t + 4000);
  assert.equal(b.state("d", t + 4000), "closed");
  b.failure("d", t + 4000);
  assert.equal(b.state("d", t + 4999), "open");
  assert.equal(b.state("d", t + 5000), "half-open");
});

Deno.test("breaker: failures reported while open do not extend the cool-down", () => {
  const b = createCircuitBreakers({ threshold: 1, openMs: 1000 });
  b.failure("d", T);
  b.failure("d", T + 500); // a late result of a batch published before it opened
  b.failure("d", T + 900);
  assert.equal(b.state("d", T + 999), "open");
  assert.equal(b.state("d", T + 1000), "half-open");
});

Deno.test("breaker: destinations are independent; defaults are 5 failures and 10 s", () => {
  const b = createCircuitBreakers();
  for (let i = 0; i < 4; i++) b.failure("a", T);
  assert.equal(b.state("a", T), "closed");
  b.failure("a", T);
  b.failure("b", T);
  assert.deepEqual(b.blocked(T), ["a"]);
  assert.equal(b.state("b", T), "closed");
  assert.equal(b.state("a", T + 9_999), "open");
  assert.equal(b.state("a", T + 10_000), "half-open");
  b.success("b");
  b.success("never-seen");
  assert.deepEqual(b.blocked(T + 1), ["a"]);
});

Deno.test("breaker: notClosed lists open and half-open destinations only (/health)", () => {
  const b = createCircuitBreakers({ threshold: 2, openMs: 1000 });
  b.failure("dest_a", 0);
  b.failure("dest_a", 0);
  b.failure("dest_b", 0);
  assert.deepEqual([...b.notClosed(10)], [["dest_a", "open"]]);
  assert.deepEqual([...b.notClosed(5000)], [["dest_a", "half-open"]]);
  b.success("dest_a");
  assert.equal(b.notClosed(5000).size, 0);
});
