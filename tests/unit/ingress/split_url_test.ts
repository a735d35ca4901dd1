import assert from "node:assert/strict";
import { splitUrl } from "../../../core/ingress/ingress.ts";

Deno.test("splitUrl: the same path and query as new URL, for plain and odd request URLs", () => {
  const urls = [
    "http://127.0.0.1:8080/webhook/wh_abc",
    "http://127.0.0.1:8080/webhook/wh_abc?",
    "http://127.0.0.1:8080/webhook/wh_abc?a=1&b=two",
    "http://h/webhook/wh_x?q=a%20b&x=%zz",
    "http://h/webhook/./wh_x/../wh_y?x",
    "http://h/webhook/wh_ü?ä=1",
    "http://h/webhook/wh x?y=\"<>'",
    "http://h/a?b?c",
    "http://h/",
    "https://[::1]:9/p/q;r?s#t",
    "http://h/%2e%2E/x",
    "http://h/x/..",
  ];
  const chars = "ab/?.%#=&;: ü\"'`{}|\\~!*+";
  for (let i = 0; i < 2000; i++) {
    let tail = "";
    for (let n = Math.floor(Math.random() * 12); n > 0; n--) {
      tail += chars[Math.floor(Math.random() * chars.length)];
    }
    urls.push(`http://127.0.0.1:1/${tail}`);
  }
  for (const u of urls) {
    let want;
    try {
      want = new URL(u);
    } catch {
      continue;
    }
    assert.deepEqual(splitUrl(u), { pathname: want.pathname, search: want.search }, u);
  }
});
