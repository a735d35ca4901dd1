import assert from "node:assert/strict";
import {
  createAddressPolicy,
  literalAddressProblems,
  literalHostProblem,
  parseInetAton,
} from "../../../core/net/private_address.ts";
import { FORBIDDEN_FORMS } from "../../security/forbidden_forms.ts";

const strict = createAddressPolicy({});

Deno.test("parseInetAton: the legacy IPv4 forms resolvers accept", () => {
  const ip = (s: string) => parseInetAton(s)?.join(".") ?? null;
  assert.equal(ip("2130706433"), "127.0.0.1");
  assert.equal(ip("0177.0.0.1"), "127.0.0.1");
  assert.equal(ip("0x7f.1"), "127.0.0.1");
  assert.equal(ip("127.1"), "127.0.0.1");
  assert.equal(ip("10.0x10.1"), "10.16.0.1");
  assert.equal(ip("0x7F000001"), "127.0.0.1");
  assert.equal(ip("1.2.3.4."), "1.2.3.4");
  for (const bad of ["08.0.0.1", "256.0.0.1", "1.2.3.4.5", "0x1g", "example.com", "1e3", ""]) {
    assert.equal(ip(bad), null, bad);
  }
  assert.equal(ip("4294967296"), null, "past 32 bits");
});

Deno.test("literalHostProblem: every forbidden spelling, and public hosts pass", () => {
  for (const f of FORBIDDEN_FORMS) {
    const why = literalHostProblem(f.host, strict, 80);
    assert.ok(why, `${f.what} (${f.host}) is refused`);
    assert.match(why!, f.reason, f.what);
  }
  for (const ok of ["93.184.216.34", "example.com", "[2606:2800:220:1::1]", "{{body.host}}"]) {
    assert.equal(literalHostProblem(ok, strict, 80), null, ok);
  }
  const allowed = createAddressPolicy({ allowCidrs: ["10.0.0.0/8"], allowHosts: ["localhost:9"] });
  assert.equal(literalHostProblem("10.1.2.3", allowed, 80), null);
  assert.equal(literalHostProblem("localhost", allowed, 9), null);
  assert.ok(literalHostProblem("localhost", allowed, 10), "another port stays refused");
});

Deno.test("literalAddressProblems: URLs of any scheme and host-named fields, with paths", () => {
  const problems = literalAddressProblems(
    {
      url: "https://user:pw@0x7f.1:8443/hook",
      http_slash: "http:/127.1/x",
      amqp: "amqp://guest:guest@[::1]:5672/",
      redis: { address: "169.254.169.254:6379" },
      brokers: ["public.example:9092", "10.0.0.5:9092"],
      emulator_host: "localhost:8085",
      imap: { host: "192.168.0.10", port: 993 },
      headers: { "x-forwarded-host": "127.0.0.1" },
      note: "127.0.0.1 is not a URL here",
      enrich: "https://api.example.com/{{body.id}}",
    },
    strict,
    ["config"],
  );
  assert.deepEqual(problems.map((p) => p.path.join(".")), [
    "config.url",
    "config.http_slash",
    "config.amqp",
    "config.redis.address",
    "config.brokers.1",
    "config.emulator_host",
    "config.imap.host",
  ]);
  assert.match(problems[0].reason, /127\.0\.0\.1 is loopback/);
  assert.equal(problems[0].host, "127.0.0.1");
});
