import assert from "node:assert/strict";
import { timingSafeEqual, timingSafeEqualText } from "../../../core/verify/timing_safe.ts";

Deno.test("timingSafeEqual: equal, different, different lengths, empty", () => {
  const b = (...x: number[]) => new Uint8Array(x);
  assert.equal(timingSafeEqual(b(1, 2, 3), b(1, 2, 3)), true);
  assert.equal(timingSafeEqual(b(1, 2, 3), b(1, 2, 4)), false);
  assert.equal(timingSafeEqual(b(1, 2, 3), b(1, 2)), false);
  assert.equal(timingSafeEqual(b(1, 2), b(1, 2, 0)), false);
  assert.equal(timingSafeEqual(b(), b()), true);
  assert.equal(timingSafeEqual(b(), b(0)), false);
});

Deno.test("timingSafeEqualText: compares UTF-8 bytes", () => {
  assert.equal(timingSafeEqualText("pä", "pä"), true);
  assert.equal(timingSafeEqualText("pä", "pa"), false);
  assert.equal(timingSafeEqualText("", ""), true);
});
