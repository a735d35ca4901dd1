import assert from "node:assert/strict";
import { parseCidr, parseIp } from "../../../core/routing/cidr.ts";

Deno.test("cidr: IPv4 blocks", () => {
  const b = parseCidr("10.0.0.0/8");
  assert.equal(b.contains("10.255.1.2"), true);
  assert.equal(b.contains("11.0.0.1"), false);
  assert.equal(parseCidr("192.168.1.0/23").contains("192.168.0.7"), true);
  assert.equal(parseCidr("192.168.1.0/24").contains("192.168.0.7"), false);
  assert.equal(parseCidr("0.0.0.0/0").contains("8.8.8.8"), true);
  assert.equal(parseCidr("1.2.3.4").contains("1.2.3.4"), true);
  assert.equal(parseCidr("1.2.3.4").contains("1.2.3.5"), false);
});

Deno.test("cidr: IPv6 blocks, mapped IPv4, zones and brackets", () => {
  const b = parseCidr("2001:db8::/32");
  assert.equal(b.contains("2001:db8:1::5"), true);
  assert.equal(b.contains("2001:db9::1"), false);
  assert.equal(b.contains("10.0.0.1"), false);
  assert.equal(parseCidr("10.0.0.0/8").contains("::ffff:10.1.2.3"), true);
  assert.equal(parseCidr("fe80::/10").contains("fe80::1%eth0"), true);
  assert.equal(parseCidr("::1/128").contains("[::1]"), true);
  assert.equal(parseCidr("2620:112:3000::/44").contains("2620:112:300f:ffff::1"), true);
});

Deno.test("cidr: invalid input", () => {
  assert.throws(() => parseCidr("10.0.0.0/33"), /invalid prefix length/);
  assert.throws(() => parseCidr("300.0.0.0/8"), /invalid CIDR "300.0.0.0\/8"/);
  assert.throws(() => parseCidr("1::2::3/64"), /invalid CIDR/);
  assert.equal(parseIp("not-an-ip"), null);
  assert.equal(parseIp("1.2.3"), null);
  assert.equal(parseCidr("10.0.0.0/8").contains("garbage"), false);
});
