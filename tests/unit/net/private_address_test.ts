import assert from "node:assert/strict";
import {
  cidrContains,
  classifyAddress,
  formatIp,
  isForbiddenAddress,
  parseIp,
} from "../../../core/net/private_address.ts";

// [address, forbidden?, label fragment when forbidden]
const cases: [string, boolean, string?][] = [
  // IPv4 public
  ["8.8.8.8", false],
  ["1.1.1.1", false],
  ["93.184.216.34", false],
  ["100.63.255.255", false],
  ["100.128.0.0", false],
  ["172.15.255.255", false],
  ["172.32.0.0", false],
  ["192.169.0.1", false],
  ["198.17.255.255", false],
  ["198.20.0.0", false],
  ["223.255.255.255", false],
  // IPv4 forbidden
  ["0.0.0.0", true, "unspecified"],
  ["0.1.2.3", true, "unspecified"],
  ["10.0.0.1", true, "private"],
  ["10.255.255.255", true, "private"],
  ["172.16.0.1", true, "private"],
  ["172.31.255.255", true, "private"],
  ["192.168.1.1", true, "private"],
  ["127.0.0.1", true, "loopback"],
  ["127.255.255.254", true, "loopback"],
  ["169.254.1.1", true, "link-local"],
  ["169.254.169.254", true, "cloud metadata"],
  ["100.64.0.1", true, "carrier-grade NAT"],
  ["100.100.100.200", true, "carrier-grade NAT"],
  ["100.127.255.255", true, "carrier-grade NAT"],
  ["192.0.0.1", true, "IETF"],
  ["192.0.2.5", true, "documentation"],
  ["198.51.100.7", true, "documentation"],
  ["203.0.113.9", true, "documentation"],
  ["198.18.0.1", true, "benchmarking"],
  ["198.19.255.255", true, "benchmarking"],
  ["224.0.0.1", true, "multicast"],
  ["239.255.255.250", true, "multicast"],
  ["240.0.0.1", true, "reserved"],
  ["255.255.255.255", true, "broadcast"],
  // IPv6 public
  ["2606:4700:4700::1111", false],
  ["2001:4860:4860::8888", false],
  ["2a00:1450:4001:82a::200e", false],
  ["2001:3::1", false],
  ["64:ff9b::808:808", false], // NAT64 of 8.8.8.8
  ["2002:808:808::1", false], // 6to4 of 8.8.8.8
  // IPv6 forbidden
  ["::", true, "unspecified"],
  ["::1", true, "loopback"],
  ["[::1]", true, "loopback"],
  ["0:0:0:0:0:0:0:1", true, "loopback"],
  ["fe80::1", true, "link-local"],
  ["fe80::1%eth0", true, "link-local"],
  ["febf::1", true, "link-local"],
  ["fc00::1", true, "unique local"],
  ["fd12:3456::1", true, "unique local"],
  ["fd00:ec2::254", true, "cloud metadata"],
  ["ff02::1", true, "multicast"],
  ["fec0::1", true, "site-local"],
  ["2001:db8::1", true, "documentation"],
  ["3fff::1", true, "documentation"],
  ["2001::1", true, "Teredo"],
  ["2001:2::1", true, "benchmarking"],
  ["100::1", true, "discard"],
  ["::127.0.0.1", true, "IPv4-compatible"],
  ["4000::1", true, "not global unicast"],
  // IPv4 inside IPv6
  ["::ffff:127.0.0.1", true, "loopback"],
  ["::ffff:7f00:1", true, "loopback"],
  ["::ffff:169.254.169.254", true, "cloud metadata"],
  ["::ffff:10.1.2.3", true, "private"],
  ["::ffff:8.8.8.8", false],
  ["64:ff9b::127.0.0.1", true, "NAT64 of 127.0.0.1, loopback"],
  ["64:ff9b::a9fe:a9fe", true, "cloud metadata"],
  ["64:ff9b:1::1", true, "local-use NAT64"],
  ["2002:7f00:1::", true, "6to4 of 127.0.0.1"],
  ["2002:c0a8:101::1", true, "private"],
  // Not an address: fails closed
  ["localhost", true, "not an IP address"],
  ["", true, "not an IP address"],
  ["127.1", true, "not an IP address"],
  ["0x7f.0.0.1", true, "not an IP address"],
  ["010.0.0.1", true, "not an IP address"],
  ["256.1.1.1", true, "not an IP address"],
  ["1:2:3:4:5:6:7:8:9", true, "not an IP address"],
  ["1::2::3", true, "not an IP address"],
  ["12345::1", true, "not an IP address"],
];

for (const [ip, forbidden, label] of cases) {
  Deno.test(`isForbiddenAddress(${JSON.stringify(ip)}) is ${forbidden}`, () => {
    assert.equal(isForbiddenAddress(ip), forbidden);
    const c = classifyAddress(ip);
    if (forbidden) {
      assert.ok(c, "classified");
      assert.ok(c.label.includes(label!), `label "${c.label}" mentions "${label}"`);
    } else {
      assert.equal(c, null);
    }
  });
}

const cidrCases: [string, string, boolean][] = [
  ["10.0.0.0/8", "10.200.1.1", true],
  ["10.0.0.0/8", "11.0.0.1", false],
  ["100.64.0.0/10", "100.127.0.1", true],
  ["100.64.0.0/10", "100.128.0.1", false],
  ["192.168.1.0/24", "192.168.1.255", true],
  ["192.168.1.0/24", "192.168.2.0", false],
  ["192.168.1.7", "192.168.1.7", true],
  ["192.168.1.7", "192.168.1.8", false],
  ["0.0.0.0/0", "203.0.113.1", true],
  ["0.0.0.0/0", "2001:db8::1", false],
  ["10.0.0.0/8", "::ffff:10.0.0.1", true],
  ["::ffff:10.0.0.0/104", "10.9.9.9", true],
  ["fd00::/8", "fd12::1", true],
  ["fd00::/8", "fe80::1", false],
  ["2001:db8::/32", "2001:db8:ffff::1", true],
  ["2001:db8::/33", "2001:db8:8000::1", false],
  ["::/0", "::1", true],
  ["::1/128", "::1", true],
  ["10.0.0.0/8", "not-an-ip", false],
];

Deno.test("cidrContains: table", () => {
  for (const [cidr, ip, want] of cidrCases) {
    assert.equal(cidrContains(cidr, ip), want, `${cidr} contains ${ip}`);
  }
});

Deno.test("cidrContains: malformed CIDR throws naming it", () => {
  assert.throws(() => cidrContains("10.0.0.0/33", "10.0.0.1"), /10\.0\.0\.0\/33/);
  assert.throws(() => cidrContains("fd00::/129", "fd00::1"), /fd00::\/129/);
  assert.throws(() => cidrContains("nope/8", "10.0.0.1"), /nope\/8/);
});

Deno.test("formatIp: canonical IPv6 text", () => {
  const f = (s: string) => formatIp(parseIp(s)!);
  assert.equal(f("0:0:0:0:0:0:0:1"), "::1");
  assert.equal(f("::"), "::");
  assert.equal(f("2001:DB8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
  assert.equal(f("fe80:0:0:0:0:0:0:0"), "fe80::");
  assert.equal(f("1:0:2:3:4:5:6:7"), "1:0:2:3:4:5:6:7");
  assert.equal(f("10.1.2.3"), "10.1.2.3");
});
