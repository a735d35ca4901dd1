import assert from "node:assert/strict";
import { createAddressPolicy } from "../../../core/net/private_address.ts";

Deno.test("policy: public addresses pass, any forbidden address fails with a reason", () => {
  const p = createAddressPolicy({});
  assert.equal(p.check("example.com", ["93.184.216.34", "2606:2800:220:1::1"]), null);
  const reason = p.check("evil.example", ["93.184.216.34", "127.0.0.1"]);
  assert.equal(reason, "127.0.0.1 is loopback (127.0.0.0/8)");
  assert.match(p.check("meta", ["169.254.169.254"])!, /cloud metadata/);
  assert.match(p.check("none.example", [])!, /no addresses/);
  assert.equal(p.hostAllowed("example.com"), false);
});

Deno.test("policy: allowPrivate lifts the guard", () => {
  const p = createAddressPolicy({ allowPrivate: true });
  assert.equal(p.allowPrivate, true);
  assert.equal(p.check("localhost", ["127.0.0.1", "::1"]), null);
  assert.equal(p.hostAllowed("anything"), true);
});

Deno.test("policy: allowHosts by exact name, wildcard subdomain and IP literal, on a port", () => {
  const p = createAddressPolicy({
    allowHosts: ["Internal.Corp.:443", "*.svc.local:8080", "[::1]:9000"],
  });
  assert.equal(p.check("internal.corp", ["10.0.0.5"], 443), null);
  assert.equal(p.check("INTERNAL.corp.", ["10.0.0.5"], 443), null);
  assert.match(p.check("internal.corp", ["10.0.0.5"], 5432)!, /private/, "only the given port");
  assert.match(p.check("internal.corp", ["10.0.0.5"])!, /private/, "no port, no name allowance");
  assert.equal(p.check("api.svc.local", ["10.0.0.6"], 8080), null);
  assert.notEqual(
    p.check("svc.local", ["10.0.0.6"], 8080),
    null,
    "wildcard does not match the apex",
  );
  assert.notEqual(p.check("other.corp", ["10.0.0.5"], 443), null);
  assert.equal(p.check("[0:0::1]", ["::1"], 9000), null, "IP literals compare canonically");
  assert.equal(p.hostAllowed("a.b.svc.local", 8080), true);
  assert.equal(p.hostAllowed("a.b.svc.local", 8081), false);
});

Deno.test("policy: allowHosts entries need a port; errors name the entry", () => {
  assert.throws(
    () => createAddressPolicy({ allowHosts: ["hooks.internal"] }),
    /hooks\.internal.*host:port/,
  );
  assert.throws(() => createAddressPolicy({ allowHosts: ["a:70000"] }), /port must be 1-65535/);
  assert.throws(() => createAddressPolicy({ allowHosts: ["a b:80"] }), /a b:80/);
});

Deno.test("policy: allowCidrs admit forbidden addresses inside them only", () => {
  const p = createAddressPolicy({ allowCidrs: ["10.1.0.0/16", "fd00:1::/32"] });
  assert.equal(p.check("a", ["10.1.2.3"]), null);
  assert.equal(p.check("a", ["::ffff:10.1.2.3"]), null);
  assert.equal(p.check("a", ["fd00:1::5"]), null);
  assert.match(p.check("a", ["10.1.2.3", "10.2.0.1"])!, /10\.2\.0\.1 is private/);
  assert.match(p.check("a", ["fd00:2::5"])!, /unique local/);
});

Deno.test("policy: malformed allowCidrs throw naming the value", () => {
  assert.throws(() => createAddressPolicy({ allowCidrs: ["10.0.0.0/40"] }), /10\.0\.0\.0\/40/);
});
