/**
 * The `http` publisher against a real local HTTP sink, through the real guarded fetch.
 * The sink runs on 127.0.0.1, so most tests allow exactly that address with allowCidrs: the
 * request still goes through resolution, the check and the pinned client.
 */
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import type { Logger, Outgoing, PublisherContext, PublishResult } from "../../../core/ports.ts";
import { createAddressPolicy } from "../../../core/net/private_address.ts";
import { ForbiddenAddressError } from "../../../runtimes/deno/guarded_fetch.ts";
import { type ClosableOutbound, createOutbound } from "../../../runtimes/deno/outbound.ts";
import { httpPublisherFactory } from "../../../adapters/brokers/http/publisher.ts";
import { outgoing, publisherSuite, type ReadBack } from "../../conformance/publisher_suite.ts";

interface Received {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

type Handler = (req: Request, n: number) => Response | Promise<Response>;

/** A local HTTP server that records every request; `handler` decides the answer. */
function startSink(
  handler: Handler = () => new Response(null, { status: 204 }),
  hostname = "127.0.0.1",
) {
  const got: Received[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = Deno.serve({ hostname, port: 0, onListen() {} }, async (req) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      const body = new Uint8Array(await req.arrayBuffer());
      got.push({
        method: req.method,
        path: new URL(req.url).pathname,
        headers: Object.fromEntries(req.headers),
        body,
      });
      return await handler(req, got.length);
    } finally {
      inFlight--;
    }
  });
  return {
    got,
    url: `http://${hostname}:${server.addr.port}`,
    port: server.addr.port,
    maxInFlight: () => maxInFlight,
    close: () => server.shutdown(),
  };
}

const silent: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silent,
};

function context(gf: ClosableOutbound): PublisherContext {
  return { ...gf, log: silent };
}

/** A guarded fetch that allows the local sink's address and nothing else private. */
const allowLoopbackSink = () =>
  createOutbound(createAddressPolicy({ allowCidrs: ["127.0.0.1/32"] }));

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const dec = new TextDecoder();
const enc = new TextEncoder();

async function publishOnce(
  url: string,
  gf: ClosableOutbound,
  batch: Outgoing[],
  extra: Record<string, unknown> = {},
  signal = new AbortController().signal,
): Promise<PublishResult[]> {
  const config = httpPublisherFactory.parseConfig({ url, ...extra });
  const p = httpPublisherFactory.create(config, context(gf));
  await p.connect(signal);
  try {
    return await p.publish(batch, signal);
  } finally {
    await p.close();
  }
}

publisherSuite("http", {
  ordered: false,
  setup() {
    const sink = startSink();
    const gf = allowLoopbackSink();
    const config = httpPublisherFactory.parseConfig({ url: `${sink.url}/hook`, secret: SECRET });
    const publisher = httpPublisherFactory.create(config, context(gf));
    return Promise.resolve({
      publisher,
      async readBack(count: number, timeoutMs: number): Promise<ReadBack[]> {
        const until = Date.now() + timeoutMs;
        while (sink.got.length < count && Date.now() < until) {
          await new Promise((r) => setTimeout(r, 10));
        }
        return sink.got.map((r) => ({
          body: r.body,
          headers: r.headers,
          id: r.headers["webhook-id"],
        }));
      },
      async cleanup() {
        await gf.close();
        await sink.close();
      },
    });
  },
});

Deno.test("http: Standard Webhooks headers verify with the standardwebhooks library", async () => {
  const sink = startSink();
  const gf = allowLoopbackSink();
  try {
    const batch = outgoing(3, "sig");
    batch[0].headers = {
      ...batch[0].headers,
      connection: "keep-alive, x-hop",
      "x-hop": "dropped",
      "keep-alive": "timeout=5",
      "webhook-signature": "v1,stale-from-the-original-sender",
      host: "original.example",
    };
    const results = await publishOnce(`${sink.url}/in`, gf, batch, {
      secret: SECRET,
      method: "put",
      headers: { "X-Api-Key": "k1" },
    });
    assert.deepEqual(results, [{ ok: true }, { ok: true }, { ok: true }]);
    assert.equal(sink.got.length, 3);
    const wh = new Webhook(SECRET);
    for (const m of batch) {
      const r = sink.got.find((g) => g.headers["webhook-id"] === m.id);
      assert.ok(r, `request for ${m.id}`);
      assert.equal(r.method, "PUT");
      assert.equal(r.path, "/in");
      assert.deepEqual(r.body, m.body);
      assert.deepEqual(wh.verify(dec.decode(r.body), r.headers), JSON.parse(dec.decode(m.body)));
      assert.match(r.headers["webhook-timestamp"], /^\d{10}$/);
      assert.ok(Math.abs(Number(r.headers["webhook-timestamp"]) - Date.now() / 1000) < 60);
      assert.equal(r.headers["x-api-key"], "k1");
      assert.equal(r.headers["x-seq"], m.headers["x-seq"]);
      assert.equal(r.headers["content-type"], "application/json");
    }
    const first = sink.got.find((g) => g.headers["webhook-id"] === batch[0].id)!;
    assert.equal(first.headers["x-hop"], undefined, "headers named by Connection are dropped");
    assert.equal(first.headers["keep-alive"], undefined);
    assert.equal(first.headers["host"], sink.url.slice("http://".length));
    assert.doesNotMatch(first.headers["webhook-signature"], /stale/);
    // a tampered body fails verification
    assert.throws(() => wh.verify(dec.decode(first.body) + " ", first.headers));
  } finally {
    await gf.close();
    await sink.close();
  }
});

Deno.test("http: a non-whsec secret is used as raw UTF-8 key bytes; no secret, no signature", async () => {
  const sink = startSink();
  const gf = allowLoopbackSink();
  try {
    const secret = "plain shared secret ✓";
    const [m] = outgoing(1, "raw");
    assert.deepEqual(await publishOnce(sink.url, gf, [m], { secret }), [{ ok: true }]);
    const r = sink.got[0];
    const wh = new Webhook(enc.encode(secret), { format: "raw" });
    assert.ok(wh.verify(dec.decode(r.body), r.headers));

    assert.deepEqual(await publishOnce(sink.url, gf, [m]), [{ ok: true }]);
    assert.equal(sink.got[1].headers["webhook-id"], m.id, "the id is sent unsigned too");
    assert.ok(sink.got[1].headers["webhook-timestamp"]);
    assert.equal(sink.got[1].headers["webhook-signature"], undefined);
    assert.equal(sink.got[1].method, "POST");
  } finally {
    await gf.close();
    await sink.close();
  }
});

Deno.test("http: user:password in the URL goes as Basic authorization, not dropped", async () => {
  const sink = startSink();
  const gf = allowLoopbackSink();
  try {
    const [m] = outgoing(1, "auth");
    const url = `http://hook%40user:p%C3%A4ss:word@127.0.0.1:${sink.port}/in?x=1`;
    assert.deepEqual(await publishOnce(url, gf, [m]), [{ ok: true }]);
    const r = sink.got[0];
    const [scheme, b64] = r.headers["authorization"].split(" ");
    assert.equal(scheme, "Basic");
    assert.equal(
      dec.decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))),
      "hook@user:päss:word",
    );
    assert.equal(r.path, "/in");
    // Without credentials no Authorization is invented.
    assert.deepEqual(await publishOnce(`${sink.url}/in`, gf, [m]), [{ ok: true }]);
    assert.equal(sink.got[1].headers["authorization"], undefined);
    // A configured Authorization header wins over the URL's (curl's -H does the same).
    const headers = { Authorization: "Bearer configured" };
    assert.deepEqual(await publishOnce(url, gf, [m], { headers }), [{ ok: true }]);
    assert.equal(sink.got[2].headers["authorization"], "Bearer configured");
  } finally {
    await gf.close();
    await sink.close();
  }
});

Deno.test("http: status codes map to delivered, retriable or permanent", async () => {
  let answer: () => Response = () => new Response("ok");
  const sink = startSink(() => answer());
  const gf = allowLoopbackSink();
  const soon = new Date(Date.now() + 120_000).toUTCString();
  const cases: [() => Response, (r: PublishResult) => void][] = [
    [() => new Response("ok", { status: 200 }), (r) => assert.deepEqual(r, { ok: true })],
    [() => new Response(null, { status: 204 }), (r) => assert.deepEqual(r, { ok: true })],
    [() => new Response("{}", { status: 202 }), (r) => assert.deepEqual(r, { ok: true })],
    [() => new Response("bad field 'x'", { status: 400 }), (r) => {
      assert.equal(r.ok, false);
      assert.ok(!r.ok && r.permanent);
      assert.ok(!r.ok && /400 Bad Request: bad field 'x'/.test(r.error), JSON.stringify(r));
    }],
    [() => new Response("nope", { status: 404 }), (r) => assert.ok(!r.ok && r.permanent)],
    [() => new Response("gone", { status: 410 }), (r) => assert.ok(!r.ok && r.permanent)],
    [() => new Response(null, { status: 301 }), (r) => assert.ok(!r.ok && r.permanent)],
    [() => new Response("slow down", { status: 408 }), (r) => {
      assert.ok(!r.ok && !r.permanent && /408/.test(r.error));
      assert.ok(!r.ok && r.retryAfterMs === undefined);
    }],
    [() => new Response("later", { status: 429, headers: { "retry-after": "7" } }), (r) => {
      assert.ok(!r.ok && !r.permanent && /429/.test(r.error));
      assert.ok(!r.ok && r.retryAfterMs === 7000);
    }],
    [() => new Response("later", { status: 429, headers: { "retry-after": soon } }), (r) => {
      assert.ok(!r.ok && !r.permanent);
      const ms = !r.ok ? r.retryAfterMs ?? -1 : -1;
      assert.ok(ms > 110_000 && ms <= 120_000, `retryAfterMs ${ms} from an HTTP date`);
    }],
    [() => new Response("down", { status: 503, headers: { "retry-after": "2" } }), (r) => {
      assert.ok(!r.ok && !r.permanent && r.retryAfterMs === 2000 && /503/.test(r.error));
    }],
    [() => new Response("x".repeat(5000), { status: 500 }), (r) => {
      assert.ok(!r.ok && !r.permanent);
      const excerpt = !r.ok ? r.error.slice(r.error.indexOf(": ", 6) + 2) : "";
      assert.ok(excerpt.length <= 203, `excerpt is short: ${excerpt.length}`);
      assert.match(excerpt, /^x{200}\.\.\.$/);
    }],
    [() => new Response("bad gateway", { status: 502 }), (r) => assert.ok(!r.ok && !r.permanent)],
  ];
  try {
    for (const [respond, check] of cases) {
      answer = respond;
      const [result] = await publishOnce(sink.url, gf, outgoing(1, "st"));
      check(result);
    }
    assert.equal(sink.got.length, cases.length);
  } finally {
    await gf.close();
    await sink.close();
  }
});

Deno.test("http: a slow endpoint times out (retriable); a closed port is a retriable network error", async () => {
  const sink = startSink(async () => {
    await new Promise((r) => setTimeout(r, 300));
    return new Response("late");
  });
  const gf = allowLoopbackSink();
  try {
    const started = Date.now();
    const [r] = await publishOnce(sink.url, gf, outgoing(1, "to"), { timeout_ms: 50 });
    assert.ok(!r.ok && !r.permanent, JSON.stringify(r));
    assert.ok(!r.ok && /timed out after 50 ms/.test(r.error));
    assert.ok(Date.now() - started < 250, "did not wait for the slow answer");

    const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = closed.addr.port;
    closed.close();
    const [n] = await publishOnce(`http://127.0.0.1:${port}/`, gf, outgoing(1, "nw"));
    assert.ok(!n.ok && !n.permanent, JSON.stringify(n));
  } finally {
    await gf.close();
    await sink.close();
  }
});

Deno.test("http: guard refuses 127.0.0.1 when private networks are not allowed", async () => {
  const sink = startSink();
  const gf = createOutbound(createAddressPolicy({ allowPrivate: false }));
  try {
    await assert.rejects(
      gf.fetch(`${sink.url}/direct`, { method: "POST", body: "x" }),
      (e: Error) =>
        e instanceof ForbiddenAddressError && /127\.0\.0\.1 is loopback/.test(e.message),
    );
    const results = await publishOnce(`${sink.url}/hook`, gf, outgoing(2, "g"), { secret: SECRET });
    for (const r of results) {
      assert.ok(!r.ok && r.permanent, JSON.stringify(r));
      assert.ok(!r.ok && /refusing to connect to 127\.0\.0\.1: .*loopback/.test(r.error));
    }
    await assert.rejects(gf.checkHost("127.0.0.1"), ForbiddenAddressError);
    assert.equal(sink.got.length, 0, "the sink saw nothing");
  } finally {
    await gf.close();
    await sink.close();
  }
});

Deno.test("http: a redirect from an allowed host to a private address is refused", async () => {
  const hidden = startSink(undefined, "127.0.0.2");
  const front = startSink(() =>
    new Response(null, { status: 307, headers: { location: `${hidden.url}/internal` } })
  );
  const gf = allowLoopbackSink(); // 127.0.0.1 allowed; 127.0.0.2 is not
  try {
    const [r] = await publishOnce(`${front.url}/hook`, gf, outgoing(1, "rd"), { secret: SECRET });
    assert.ok(!r.ok && r.permanent, JSON.stringify(r));
    assert.ok(
      !r.ok && /refusing to connect to 127\.0\.0\.2: 127\.0\.0\.2 is loopback/.test(r.error),
    );
    assert.equal(front.got.length, 1);
    assert.equal(hidden.got.length, 0, "the private target saw nothing");
  } finally {
    await gf.close();
    await front.close();
    await hidden.close();
  }
});

Deno.test("http: a batch is sent concurrently, at most `concurrency` at once, results in order", async () => {
  const sink = startSink(async (req) => {
    await new Promise((r) => setTimeout(r, 30));
    const seq = Number(req.headers.get("x-seq"));
    return new Response(null, { status: seq % 5 === 4 ? 500 : 200 });
  });
  const gf = allowLoopbackSink();
  try {
    const batch = outgoing(20, "cc");
    const results = await publishOnce(sink.url, gf, batch, { concurrency: 4 });
    assert.equal(results.length, 20);
    results.forEach((r, i) => assert.equal(r.ok, i % 5 !== 4, `result ${i}`));
    assert.ok(sink.maxInFlight() <= 4, `max in flight ${sink.maxInFlight()}`);
    assert.ok(sink.maxInFlight() > 1, "requests overlapped");
  } finally {
    await gf.close();
    await sink.close();
  }
});

Deno.test("http: an aborted signal fails messages as retriable", async () => {
  const sink = startSink(async () => {
    await new Promise((r) => setTimeout(r, 200));
    return new Response("ok");
  });
  const gf = allowLoopbackSink();
  try {
    const before = new AbortController();
    before.abort();
    let results = await publishOnce(sink.url, gf, outgoing(2, "ab"), {}, before.signal);
    for (const r of results) assert.ok(!r.ok && !r.permanent && /aborted/.test(r.error));
    assert.equal(sink.got.length, 0);

    const during = new AbortController();
    setTimeout(() => during.abort(), 50);
    results = await publishOnce(sink.url, gf, outgoing(1, "ab2"), {}, during.signal);
    assert.ok(!results[0].ok && !results[0].permanent && /aborted/.test(results[0].error));
  } finally {
    await gf.close();
    await sink.close();
  }
});

Deno.test("http: config errors name the field", () => {
  const bad: [unknown, RegExp][] = [
    [{}, /http config: url: /],
    [{ url: "ftp://example.com/" }, /url: expected an http/],
    [{ url: "https://example.com", method: "GET" }, /method: /],
    [
      { url: "https://example.com", headers: { Host: "x" } },
      /headers\.Host: .*set by the publisher/,
    ],
    [{ url: "https://example.com", headers: { "bad name": "x" } }, /headers\.bad name: /],
    [{ url: "https://example.com", headers: { "x-a": "a\r\nb" } }, /headers\.x-a: /],
    [{ url: "https://example.com", secret: "whsec_!!!" }, /secret: a whsec_ secret must be base64/],
    [{ url: "https://example.com", timeout_ms: 0 }, /timeout_ms: /],
    [{ url: "https://example.com", extra: 1 }, /extra/],
  ];
  for (const [input, re] of bad) {
    assert.throws(() => httpPublisherFactory.parseConfig(input), re, JSON.stringify(input));
  }
  const ok = httpPublisherFactory.parseConfig({ url: "https://example.com/h", method: "patch" });
  assert.deepEqual(ok, {
    url: "https://example.com/h",
    method: "PATCH",
    headers: {},
    timeout_ms: 15_000,
    concurrency: 8,
  });
});
