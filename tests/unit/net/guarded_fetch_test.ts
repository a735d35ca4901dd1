import assert from "node:assert/strict";
import { createAddressPolicy } from "../../../core/net/private_address.ts";
import {
  checkedAddresses,
  createGuardedFetch,
  ForbiddenAddressError,
  type Resolver,
} from "../../../runtimes/deno/guarded_fetch.ts";
import { EXAMPLE_TEST_CERT, EXAMPLE_TEST_KEY, TEST_CA } from "./test_certs.ts";

interface Seen {
  method: string;
  url: string;
  host: string | null;
  body: string;
}

/** A local server recording what it receives; `handler` may answer differently per request. */
function sink(
  handler: (req: Request) => Response | Promise<Response> = () => new Response("ok"),
  opts: { hostname?: string; cert?: string; key?: string } = {},
) {
  const seen: Seen[] = [];
  const server = Deno.serve(
    { hostname: opts.hostname ?? "127.0.0.1", port: 0, onListen() {}, ...opts },
    async (req) => {
      seen.push({
        method: req.method,
        url: req.url,
        host: req.headers.get("host"),
        body: await req.text(),
      });
      return handler(req);
    },
  );
  return { seen, port: server.addr.port, close: () => server.shutdown() };
}

/** A resolver answering from a table: names that exist nowhere prove the pin is used. */
const table = (map: Record<string, string[]>): Resolver => (host) => {
  const r = map[host];
  return r ? Promise.resolve(r) : Promise.reject(new Error(`no such host ${host}`));
};

Deno.test("guarded fetch: an IP literal in a forbidden range is refused before connecting", async () => {
  const s = sink();
  const gf = createGuardedFetch(createAddressPolicy({}));
  try {
    await assert.rejects(
      gf(`http://127.0.0.1:${s.port}/x`, { method: "POST", body: "hi" }),
      (e: Error) =>
        e instanceof ForbiddenAddressError && /127\.0\.0\.1/.test(e.message) &&
        /loopback/.test(e.message),
    );
    await assert.rejects(gf(`http://[::1]:${s.port}/`), ForbiddenAddressError);
    await assert.rejects(gf(`http://0x7f.1:${s.port}/`), /127\.0\.0\.1.*loopback/);
    assert.equal(s.seen.length, 0);
  } finally {
    await gf.close();
    await s.close();
  }
});

Deno.test("guarded fetch: any forbidden address among the resolved ones refuses the host", async () => {
  const gf = createGuardedFetch(createAddressPolicy({}), {
    resolve: table({ "mixed.test": ["93.184.216.34", "10.0.0.7"] }),
  });
  try {
    await assert.rejects(
      gf("http://mixed.test/"),
      /refusing to connect to mixed\.test: 10\.0\.0\.7 is private/,
    );
  } finally {
    await gf.close();
  }
});

Deno.test("guarded fetch: http connects to the checked address and keeps the Host header", async () => {
  const s = sink();
  // "pinned.test" exists in no DNS: reaching the sink proves the checked address was used.
  const gf = createGuardedFetch(createAddressPolicy({ allowCidrs: ["127.0.0.1/32"] }), {
    resolve: table({ "pinned.test": ["127.0.0.1"] }),
  });
  try {
    for (let i = 0; i < 3; i++) {
      const res = await gf(`http://pinned.test:${s.port}/p?i=${i}`, { method: "PUT", body: "b" });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "ok");
    }
    assert.equal(s.seen.length, 3);
    assert.equal(s.seen[0].host, `pinned.test:${s.port}`);
    assert.equal(s.seen[0].method, "PUT");
    assert.equal(s.seen[2].url, `http://pinned.test:${s.port}/p?i=2`);
  } finally {
    await gf.close();
    await s.close();
  }
});

Deno.test("guarded fetch: IPv6 pin over the tcp transport", async () => {
  let s;
  try {
    s = sink(undefined, { hostname: "::1" });
  } catch {
    console.warn("skipping: no IPv6 loopback");
    return;
  }
  const gf = createGuardedFetch(createAddressPolicy({ allowCidrs: ["::1/128"] }), {
    resolve: table({ "six.test": ["::1"] }),
  });
  try {
    const res = await gf(`http://six.test:${s.port}/`);
    assert.equal(await res.text(), "ok");
    assert.equal(s.seen[0].host, `six.test:${s.port}`);
  } finally {
    await gf.close();
    await s.close();
  }
});

Deno.test("guarded fetch: https is pinned through the relay and TLS checks the real name", async () => {
  const s = sink(() => new Response("secure"), { cert: EXAMPLE_TEST_CERT, key: EXAMPLE_TEST_KEY });
  const gf = createGuardedFetch(createAddressPolicy({ allowCidrs: ["127.0.0.1/32"] }), {
    resolve: table({ "example.test": ["127.0.0.1"], "wrong.test": ["127.0.0.1"] }),
    caCerts: [TEST_CA],
  });
  try {
    for (let i = 0; i < 2; i++) {
      const res = await gf(`https://example.test:${s.port}/tls`, { method: "POST", body: "x" });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "secure");
    }
    assert.equal(s.seen.length, 2);
    assert.equal(s.seen[0].body, "x");
    // Same address, but the certificate is not valid for this name: refused by TLS.
    await assert.rejects(
      gf(`https://wrong.test:${s.port}/tls`),
      (e: Error) => e instanceof TypeError && /certificate|NotValidForName/i.test(String(e.cause)),
    );
    assert.equal(s.seen.length, 2);
  } finally {
    await gf.close();
    await s.close();
  }
});

Deno.test("guarded fetch: redirects are followed by hand, re-checked, and rewritten like fetch", async () => {
  const target = sink();
  const redirector = sink((req) => {
    const u = new URL(req.url);
    const to = (status: number, where: string) =>
      new Response(null, { status, headers: { location: where } });
    if (u.pathname === "/303") return to(303, `http://ok.test:${target.port}/after303`);
    if (u.pathname === "/307") return to(307, `http://ok.test:${target.port}/after307`);
    if (u.pathname === "/loop") return to(302, "/loop");
    if (u.pathname === "/meta") return to(302, "http://169.254.169.254/latest/meta-data/");
    if (u.pathname === "/file") return to(302, "file:///etc/passwd");
    return new Response("?", { status: 404 });
  });
  const viaName = (path: string) => `http://127.0.0.1:${redirector.port}${path}`;
  const gf2 = createGuardedFetch(createAddressPolicy({ allowCidrs: ["127.0.0.1/32"] }), {
    resolve: table({ "ok.test": ["127.0.0.1"] }),
  });
  try {
    let res = await gf2(viaName("/303"), { method: "POST", body: "payload" });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    assert.equal(target.seen.at(-1)!.method, "GET");
    assert.equal(target.seen.at(-1)!.body, "");

    res = await gf2(viaName("/307"), { method: "POST", body: "payload" });
    await res.body?.cancel();
    assert.equal(target.seen.at(-1)!.method, "POST");
    assert.equal(target.seen.at(-1)!.body, "payload");
    assert.equal(res.url, `http://ok.test:${target.port}/after307`);

    await assert.rejects(gf2(viaName("/loop")), /too many redirects.*max 5/);
    assert.equal(redirector.seen.filter((r) => r.url.endsWith("/loop")).length, 6);

    await assert.rejects(
      gf2(viaName("/meta")),
      (e: Error) =>
        e instanceof ForbiddenAddressError && /169\.254\.169\.254.*cloud metadata/.test(e.message),
    );
    await assert.rejects(gf2(viaName("/file")), /refusing file: URL/);

    res = await gf2(viaName("/307"), { method: "POST", body: "p", redirect: "manual" });
    assert.equal(res.status, 307);
    await res.body?.cancel();
    await assert.rejects(gf2(viaName("/307"), { redirect: "error" }), /redirect: error/);
  } finally {
    await gf2.close();
    await target.close();
    await redirector.close();
  }
});

Deno.test("checkedAddresses: canonicalises, resolves and names the refused address", async () => {
  const policy = createAddressPolicy({});
  const resolve = table({ "public.test": ["2606:2800:220:1::1", "93.184.216.34"] });
  assert.deepEqual(await checkedAddresses(policy, "PUBLIC.test.", 443, resolve), [
    "93.184.216.34",
    "2606:2800:220:1::1",
  ], "IPv4 first");
  await assert.rejects(checkedAddresses(policy, "127.1", 80, resolve), /127\.0\.0\.1 is loopback/);
  await assert.rejects(checkedAddresses(policy, "0x7f.1", 80, resolve), /127\.0\.0\.1 is loopback/);
  await assert.rejects(checkedAddresses(policy, "localhost", 80), /loopback/);
  await assert.rejects(checkedAddresses(policy, "::1", 80), /::1 is loopback/);
  await assert.rejects(checkedAddresses(policy, "[fd00:ec2::254]", 80), /cloud metadata/);
  await assert.rejects(checkedAddresses(policy, "a b", 80), /not a valid host name/);
  await assert.rejects(checkedAddresses(policy, "host:5672", 80), /not a valid host name/);
  const corp = createAddressPolicy({ allowHosts: ["*.corp:5672"] });
  assert.deepEqual(await checkedAddresses(corp, "mq.corp", 5672), [], "allowed by name");
  await assert.rejects(
    checkedAddresses(corp, "mq.corp", 6379, table({ "mq.corp": ["10.0.0.9"] })),
    /10\.0\.0\.9 is private/,
    "allowed on its port only",
  );
});

Deno.test("guarded fetch: allowPrivate fetches plainly", async () => {
  const s = sink();
  const gf = createGuardedFetch(createAddressPolicy({ allowPrivate: true }));
  try {
    const res = await gf(`http://127.0.0.1:${s.port}/`);
    assert.equal(await res.text(), "ok");
  } finally {
    await gf.close();
    await s.close();
  }
});

Deno.test("guarded fetch: plain parts (the publishers' way) and a Request send the same thing", async () => {
  const seenHeaders: Record<string, string>[] = [];
  const target = sink((req) => {
    seenHeaders.push(Object.fromEntries(req.headers));
    return new Response("ok");
  });
  const redirector = sink(() =>
    new Response(null, {
      status: 307,
      headers: { location: `http://localhost:${target.port}/moved` },
    })
  );
  const gf = createGuardedFetch(createAddressPolicy({ allowPrivate: true }));
  try {
    const url = `http://127.0.0.1:${target.port}/in`;
    const headers = new Headers({ "content-type": "application/json", "x-a": "1" });
    for (
      const call of [
        () => gf(url, { method: "post", headers, body: new TextEncoder().encode('{"a":1}') }),
        () =>
          gf(new URL(url), {
            method: "POST",
            headers: { "content-type": "application/json", "x-a": "1" },
            body: '{"a":1}',
          }),
        () => gf(new Request(url, { method: "POST", headers, body: '{"a":1}' })),
      ]
    ) await (await call()).body?.cancel();
    assert.equal(target.seen.length, 3);
    target.seen.forEach((g, i) => {
      assert.equal(g.method, "POST");
      assert.equal(g.body, '{"a":1}');
      assert.equal(seenHeaders[i]["x-a"], "1");
      assert.equal(seenHeaders[i]["content-type"], "application/json");
    });
    // Methods other than fetch's standard six keep their case, as fetch keeps them.
    await (await gf(url, { method: "patch", body: "x" })).body?.cancel();
    assert.equal(target.seen.at(-1)!.method, "patch");
    await assert.rejects(gf(url, { method: "GET", body: "x" }), /GET request cannot have a body/);
    // A cross-origin redirect drops credentials from the request, not from the caller's Headers.
    const mine = new Headers({ authorization: "Bearer secret", "x-b": "2" });
    await (await gf(`http://127.0.0.1:${redirector.port}/`, {
      method: "POST",
      headers: mine,
      body: "y",
    }))
      .body?.cancel();
    assert.equal(target.seen.at(-1)!.url, `http://localhost:${target.port}/moved`);
    assert.equal(seenHeaders.at(-1)!["authorization"], undefined);
    assert.equal(seenHeaders.at(-1)!["x-b"], "2");
    assert.equal(mine.get("authorization"), "Bearer secret");
  } finally {
    await gf.close();
    await target.close();
    await redirector.close();
  }
});
