/**
 * The runtime's Outbound: `resolve`, `lookup` and `refuseLiteral` decide on the addresses a
 * client will dial, and a node:net socket given the lookup connects to the checked address
 * even when DNS answers differently a moment later (rebinding).
 */
import assert from "node:assert/strict";
import net from "node:net";
import { createAddressPolicy, isForbiddenAddressError } from "../../../core/net/private_address.ts";
import type { LookupAddress } from "../../../core/ports.ts";
import { createOutbound } from "../../../runtimes/deno/outbound.ts";
import { canary } from "../../helpers/canary.ts";
import { bare, FORBIDDEN_FORMS } from "../../security/forbidden_forms.ts";

function lookupAll(
  fn: ReturnType<ReturnType<typeof createOutbound>["lookup"]>,
  host: string,
): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) =>
    fn(host, { all: true }, (err, addrs) => err ? reject(err) : resolve(addrs as LookupAddress[]))
  );
}

Deno.test("outbound: resolve and lookup refuse every forbidden form, naming the address", async () => {
  const ob = createOutbound(createAddressPolicy({}), {
    resolve: () => Promise.reject(new Error("no DNS in this test")),
  });
  for (const f of FORBIDDEN_FORMS) {
    await assert.rejects(ob.resolve(bare(f.host), 80), (e: Error) => {
      assert.ok(isForbiddenAddressError(e), `${f.what}: ${e.message}`);
      assert.match(e.message, f.reason);
      return true;
    });
    await assert.rejects(lookupAll(ob.lookup(80), bare(f.host)), f.reason, f.what);
  }
  await ob.close();
});

Deno.test("outbound: refuseLiteral decides IP literals at once and leaves names to lookup", () => {
  const ob = createOutbound(createAddressPolicy({ allowCidrs: ["10.9.0.0/16"] }));
  assert.match(ob.refuseLiteral("127.0.0.1", 80)!.message, /loopback/);
  assert.match(ob.refuseLiteral("::ffff:127.0.0.1", 80)!.message, /loopback/);
  assert.match(ob.refuseLiteral("0x7f.1", 80)!.message, /loopback/);
  assert.equal(ob.refuseLiteral("10.9.1.1", 80), null, "allowed CIDR");
  assert.equal(ob.refuseLiteral("93.184.216.34", 80), null);
  assert.equal(ob.refuseLiteral("mq.example", 80), null, "names are for lookup");
});

Deno.test("outbound: a socket dials the address that was checked, not a later DNS answer", async () => {
  const target = canary();
  let calls = 0;
  // The first answer is allowed (127.0.0.1/32 is allowed here), the next would be 127.0.0.2.
  const ob = createOutbound(createAddressPolicy({ allowCidrs: ["127.0.0.1/32"] }), {
    resolve: () => Promise.resolve([calls++ === 0 ? "127.0.0.1" : "127.0.0.2"]),
  });
  const lookup = ob.lookup(target.port) as unknown as net.LookupFunction;
  const remote = await new Promise<string>((resolve, reject) => {
    const s = net.connect({ host: "rebind.example", port: target.port, lookup }, () => {
      resolve(s.remoteAddress ?? "");
      s.destroy();
    });
    s.on("error", reject);
  });
  assert.equal(remote, "127.0.0.1");
  assert.equal(calls, 1, "resolved once, for the check; the socket used that answer");
  // The next resolution answers 127.0.0.2: refused, nothing dialled.
  await assert.rejects(lookupAll(ob.lookup(target.port), "rebind.example"), /127\.0\.0\.2/);
  assert.equal(target.connections(), 1);
  target.close();
  await ob.close();
});

Deno.test("outbound: allow_hosts allows a name on its port only", async () => {
  const ob = createOutbound(createAddressPolicy({ allowHosts: ["localhost:7000"] }));
  assert.deepEqual(await ob.resolve("localhost", 7000), ["localhost"], "dial it by name");
  await assert.rejects(ob.resolve("localhost", 7001), /loopback/);
  const addrs = await lookupAll(ob.lookup(7000), "localhost");
  assert.ok(addrs.length > 0, "the system resolver answers an allowed name");
  await assert.rejects(lookupAll(ob.lookup(6379), "localhost"), /loopback/);
  await ob.close();
});
