/**
 * The guarded undici dispatcher (adapters/net/dispatcher.ts) against real local servers: it
 * dials only checked addresses, resolves once per connection (keep-alive reuses it), checks
 * TLS against the URL's host name, and re-checks every redirect's target.
 */
import assert from "node:assert/strict";
import type { Dispatcher } from "undici";
import { createAddressPolicy } from "../../../core/net/private_address.ts";
import { ForbiddenAddressError } from "../../../runtimes/deno/guarded_fetch.ts";
import { createOutbound } from "../../../runtimes/deno/outbound.ts";
import { guardedDispatcher } from "../../../adapters/net/dispatcher.ts";
import { EXAMPLE_TEST_CERT, EXAMPLE_TEST_KEY, TEST_CA } from "./test_certs.ts";

function server(
  handler: (req: Request) => Response = () => new Response("ok"),
  opts: { hostname?: string; cert?: string; key?: string } = {},
) {
  const paths: string[] = [];
  const s = Deno.serve(
    { hostname: opts.hostname ?? "127.0.0.1", port: 0, onListen() {}, ...opts },
    async (req) => {
      paths.push(new URL(req.url).pathname);
      await req.arrayBuffer();
      return handler(req);
    },
  );
  return { port: s.addr.port, paths, close: () => s.shutdown() };
}

/** A resolver from a fixed table that counts its lookups. */
function table(entries: Record<string, string[]>) {
  const calls: string[] = [];
  const resolve = (host: string) => {
    calls.push(host);
    const ips = entries[host];
    return ips ? Promise.resolve(ips) : Promise.reject(new Error(`no such host ${host}`));
  };
  return { calls, resolve };
}

async function post(d: Dispatcher, url: string, body = "x") {
  const u = new URL(url);
  const res = await d.request({ origin: u.origin, path: u.pathname, method: "POST", body });
  return { status: res.statusCode, text: await res.body.text() };
}

Deno.test("guarded dispatcher: keep-alive reuses a checked connection, one lookup for many requests", async () => {
  const s = server();
  const dns = table({ "hooks.test": ["127.0.0.1"] });
  const outbound = createOutbound(createAddressPolicy({ allowCidrs: ["127.0.0.1/32"] }), dns);
  const d = guardedDispatcher(outbound, { connections: 1 });
  try {
    for (let i = 0; i < 10; i++) {
      assert.deepEqual(await post(d, `http://hooks.test:${s.port}/k${i}`), {
        status: 200,
        text: "ok",
      });
    }
    assert.equal(s.paths.length, 10);
    assert.deepEqual(dns.calls, ["hooks.test"], "resolved when the connection opened, only then");
  } finally {
    await d.destroy();
    await outbound.close();
    await s.close();
  }
});

Deno.test("guarded dispatcher: a name or a literal that is forbidden is refused before dialling", async () => {
  const s = server();
  const dns = table({ "inside.test": ["127.0.0.1"], "mixed.test": ["93.184.216.34", "127.0.0.1"] });
  const outbound = createOutbound(createAddressPolicy({ allowPrivate: false }), dns);
  const d = guardedDispatcher(outbound);
  try {
    for (const host of ["inside.test", "mixed.test", "127.0.0.1", "[::1]", "2130706433"]) {
      await assert.rejects(
        post(d, `http://${host}:${s.port}/`),
        (e: Error) => e instanceof ForbiddenAddressError && /loopback/.test(e.message),
        host,
      );
    }
    assert.equal(s.paths.length, 0, "the server saw nothing");
  } finally {
    await d.destroy();
    await outbound.close();
    await s.close();
  }
});

Deno.test("guarded dispatcher: https dials the checked address and TLS checks the URL's name", async () => {
  const s = server(() => new Response("secure"), {
    cert: EXAMPLE_TEST_CERT,
    key: EXAMPLE_TEST_KEY,
  });
  const dns = table({ "example.test": ["127.0.0.1"], "wrong.test": ["127.0.0.1"] });
  const outbound = createOutbound(createAddressPolicy({ allowCidrs: ["127.0.0.1/32"] }), dns);
  const d = guardedDispatcher(outbound, { ca: [TEST_CA] });
  try {
    assert.deepEqual(await post(d, `https://example.test:${s.port}/tls`), {
      status: 200,
      text: "secure",
    });
    // Same address, but the certificate is not valid for this name: refused by TLS.
    await assert.rejects(
      post(d, `https://wrong.test:${s.port}/tls`),
      (e: Error) => /certificate|altname|NotValidForName/i.test(`${e.message} ${e.cause ?? ""}`),
    );
    assert.deepEqual(s.paths, ["/tls"]);
  } finally {
    await d.destroy();
    await outbound.close();
    await s.close();
  }
});

Deno.test("guarded dispatcher: redirects are followed, each target checked", async () => {
  const hidden = server(() => new Response("hidden"), { hostname: "127.0.0.2" });
  const target = server(() => new Response("moved here"));
  const front = server((req) => {
    const p = new URL(req.url).pathname;
    const location = p === "/away"
      ? `http://127.0.0.2:${hidden.port}/internal`
      : `http://127.0.0.1:${target.port}/new`;
    return new Response(null, { status: 307, headers: { location } });
  });
  const outbound = createOutbound(createAddressPolicy({ allowCidrs: ["127.0.0.1/32"] }));
  const d = guardedDispatcher(outbound);
  try {
    assert.deepEqual(await post(d, `http://127.0.0.1:${front.port}/old`), {
      status: 200,
      text: "moved here",
    });
    assert.deepEqual(target.paths, ["/new"]);
    await assert.rejects(
      post(d, `http://127.0.0.1:${front.port}/away`),
      (e: Error) => e instanceof ForbiddenAddressError && /127\.0\.0\.2/.test(e.message),
    );
    assert.equal(hidden.paths.length, 0, "the private target saw nothing");
  } finally {
    await d.destroy();
    await outbound.close();
    for (const s of [hidden, target, front]) await s.close();
  }
});
