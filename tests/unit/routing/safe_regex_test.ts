import assert from "node:assert/strict";
import { compileSafeRegex, MAX_INPUT } from "../../../core/routing/safe_regex.ts";

const PATTERNS = [
  "^refs/heads/(main|release-.*)$",
  "a+b",
  "\\d{3}-\\d{4}",
  "^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$",
  "colou?r",
  "\\bcat\\b",
  "\\Bat",
  "a.*?b",
  "[]a",
  "[^]a",
  "(?<y>\\d{4})-(\\d\\d)",
  "a{2,3}",
  "[a-c-]+",
  "\\u0041\\x42",
  "[\\d.]+",
  "^$",
  "(a|ab)(c|bcd)(d*)",
  "a|b|",
  "A[B-D]",
  "(x)?y",
  "\\w+\\s\\w+",
  "[\\s\\S]{2}",
  "[^\\W_]+",
  "[\\D]x",
];
const INPUTS = [
  "refs/heads/main",
  "refs/heads/release-1.2",
  "xaab",
  "555-1234",
  "me@x.io",
  "color colour",
  "the cat sat",
  "a123b aab",
  "",
  "\na",
  "2024-05",
  "aaaa",
  "ab-c",
  "AB",
  "1.5.6",
  "abcd",
  "Ac",
  "y xy",
  "hello world",
];

Deno.test("safe regex agrees with RegExp on test, exec and replace", () => {
  for (const p of PATTERNS) {
    for (const ic of [false, true]) {
      const re = compileSafeRegex(p, { ignoreCase: ic });
      const flags = ic ? "i" : "";
      for (const s of INPUTS) {
        const native = new RegExp(p, flags).exec(s);
        const caps = re.exec(s);
        const ctx = `/${p}/${flags} on ${JSON.stringify(s)}`;
        assert.equal(re.test(s), native !== null, ctx);
        assert.equal(caps ? s.slice(caps[0], caps[1]) : null, native ? native[0] : null, ctx);
        assert.equal(
          re.replaceAll(s, "<$&|$1>"),
          s.replace(new RegExp(p, flags + "g"), "<$&|$1>"),
          ctx,
        );
      }
    }
  }
});

Deno.test("safe regex: catastrophic patterns run in linear time", () => {
  const evil = "a".repeat(30_000) + "!";
  for (const p of ["(a+)+$", "^(a|a)*$", "(a*)*b", "^(\\w+\\s?)*$", "a*a*a*a*a*b"]) {
    const t = performance.now();
    assert.equal(compileSafeRegex(p).test(evil), false, p);
    assert.ok(performance.now() - t < 2000, `${p} took ${performance.now() - t} ms`);
  }
});

Deno.test("safe regex: refuses backreferences, lookaround, huge repeats", () => {
  for (
    const [p, msg] of [
      ["(a)\\1", /backreferences/],
      ["(?<x>a)\\k<x>", /backreferences/],
      ["(?=a)", /lookaround/],
      ["(?!a)", /lookaround/],
      ["(?<=a)b", /lookaround/],
      ["(?<!a)b", /lookaround/],
      ["\\p{L}", /unicode property/],
      ["a{2000}", /repeat count above 1000/],
      ["(", /unsupported regular expression/],
      ["x".repeat(2000), /longer than 1024/],
    ] as const
  ) {
    assert.throws(() => compileSafeRegex(p), msg, p);
  }
});

Deno.test("safe regex: inputs above the cap never match; named groups in replace", () => {
  const re = compileSafeRegex("a");
  assert.equal(re.test("a".repeat(MAX_INPUT + 1)), false);
  assert.equal(re.replaceAll("b".repeat(MAX_INPUT + 1), "x").length, MAX_INPUT + 1);
  const date = compileSafeRegex("(?<y>\\d{4})-(?<m>\\d\\d)");
  assert.equal(date.replaceAll("on 2024-05!", "$<m>/$<y> $$"), "on 05/2024 $!");
});
