/**
 * The HTTP front (runtimes/deno/http_front.ts) over a real Deno.serve, spoken to over raw TCP:
 * bodies of every framing reach the server intact, kept-alive and pipelined requests are
 * guarded one by one, bad framing is a 400, heads over the limit 431, slow heads 408, the
 * client's address reaches the server in the one header the front adds (first, so a client's
 * own copy of it does not win), and a connection that bypasses the front finds no peer.
 */
import assert from "node:assert/strict";
import { frontPeer, PEER_HEADER, startFront } from "../../runtimes/deno/http_front.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function setup(opts: { headTimeoutMs?: number; maxHeadBytes?: number } = {}) {
  const dir = await Deno.makeTempDir();
  const socket = `${dir}/http.sock`;
  const seen: { method: string; body: string; peer: string | null; headers: string[] }[] = [];
  let ready!: () => void;
  const listening = new Promise<void>((r) => (ready = r));
  const server = Deno.serve(
    { path: socket, transport: "unix", onListen: () => ready() },
    async (req) => {
      const body = await req.text();
      const peer = frontPeer(req.headers);
      seen.push({ method: req.method, body, peer, headers: [...req.headers.keys()] });
      if (new URL(req.url).pathname === "/stream") {
        let n = 0;
        return new Response(
          new ReadableStream({
            async pull(c) {
              await new Promise((r) => setTimeout(r, 50));
              c.enqueue(enc.encode(`tick ${n++}\n`));
              if (n === 5) c.close();
            },
          }),
        );
      }
      return new Response(`${req.method} ${body.length} ${peer ?? "none"}`);
    },
  );
  await listening;
  const front = startFront({
    hostname: "127.0.0.1",
    port: 0,
    upstreamPath: socket,
    peerHeader: PEER_HEADER,
    headTimeoutMs: opts.headTimeoutMs ?? 2_000,
    maxHeadBytes: opts.maxHeadBytes ?? 4096,
    idleTimeoutMs: 5_000,
  });
  return {
    port: front.addr.port,
    socket,
    seen,
    front,
    async close() {
      await front.close();
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Sends `text` on a fresh connection (in parts, with pauses, when given an array) and
 * collects what comes back until the server closes or `ms` pass. */
async function exchange(
  to: number | string,
  text: string | string[],
  ms = 1_500,
): Promise<string> {
  const c = typeof to === "number"
    ? await Deno.connect({ hostname: "127.0.0.1", port: to })
    : await Deno.connect({ transport: "unix", path: to });
  const parts = Array.isArray(text) ? text : [text];
  let out = "";
  const reading = (async () => {
    const buf = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await c.read(buf);
        if (n === null) break;
        out += dec.decode(buf.subarray(0, n));
      }
    } catch { /* closed */ }
  })();
  for (const p of parts) {
    await c.write(enc.encode(p));
    if (parts.length > 1) await new Promise((r) => setTimeout(r, 30));
  }
  await Promise.race([reading, new Promise((r) => setTimeout(r, ms))]);
  try {
    c.close();
  } catch { /* closed */ }
  await reading;
  return out;
}

const statuses = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]);

Deno.test({
  name: "http front: framings, keep-alive, pipelining, peers, limits, bypass",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const s = await setup();
    try {
      await t.step("content-length body, keep-alive, then a GET; the peer is known", async () => {
        const out = await exchange(s.port, [
          "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel",
          "lo",
          "GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ]);
        assert.deepEqual(statuses(out), ["200", "200"]);
        assert.match(out, /POST 5 127\.0\.0\.1/);
        assert.match(out, /GET 0 127\.0\.0\.1/);
      });

      await t.step(
        "a client's own peer header does not win; the head is otherwise intact",
        async () => {
          const out = await exchange(s.port, [
            `\r\nPOST /s HTTP/1.1\r\nHost: x\r\n${PEER_HEADER}: 10.9.9.9\r\nx-a: 1\r\n`,
            "Content-Length: 2\r\nConnection: close\r\n\r\nhi",
          ]);
          assert.deepEqual(statuses(out), ["200"]);
          assert.match(out, /POST 2 127\.0\.0\.1/);
          const seen = s.seen.at(-1)!;
          assert.deepEqual(
            seen.headers.sort(),
            ["connection", "content-length", "host", PEER_HEADER, "x-a"].sort(),
          );
        },
      );

      await t.step("chunked bodies (split anywhere, with extensions and trailers)", async () => {
        const out = await exchange(s.port, [
          "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nwi",
          "ki\r\n5\r\npedia\r",
          "\n0\r\nx-trailer: t\r\n\r\n",
          "POST /d HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
        ]);
        assert.deepEqual(statuses(out), ["200", "200"]);
        assert.ok(s.seen.some((x) => x.body === "wikipedia"), JSON.stringify(s.seen));
        assert.ok(s.seen.some((x) => x.body === "ok"));
      });

      await t.step("pipelined requests in one packet", async () => {
        const one = "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
        const out = await exchange(
          s.port,
          one + one + "GET /q HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert.deepEqual(statuses(out), ["200", "200", "200"]);
      });

      await t.step("a streamed response passes as it comes", async () => {
        const out = await exchange(s.port, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n", 2_000);
        for (let i = 0; i < 5; i++) assert.match(out, new RegExp(`tick ${i}`));
      });

      await t.step("framing the front cannot follow: 400", async () => {
        for (
          const head of [
            "Content-Length: 5\r\nContent-Length: 6",
            "Content-Length: 5, 6",
            "Content-Length: -1",
            "Content-Length: 5\r\nTransfer-Encoding: chunked",
            "Transfer-Encoding: gzip",
          ]
        ) {
          const out = await exchange(s.port, `POST /x HTTP/1.1\r\nHost: x\r\n${head}\r\n\r\n`);
          assert.deepEqual(statuses(out), ["400"], head);
        }
        const badChunk = await exchange(
          s.port,
          "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        );
        assert.deepEqual(statuses(badChunk), ["400"]);
      });

      await t.step("a head over the limit: 431, also on a kept-alive connection", async () => {
        const big = `GET / HTTP/1.1\r\nHost: x\r\nx-big: ${"a".repeat(5000)}\r\n\r\n`;
        assert.deepEqual(statuses(await exchange(s.port, big)), ["431"]);
        const second = await exchange(s.port, [
          "GET /fine HTTP/1.1\r\nHost: x\r\n\r\n",
          `GET / HTTP/1.1\r\nHost: x\r\nx-big: ${"a".repeat(3000)}`,
          "a".repeat(2000),
        ]);
        assert.deepEqual(statuses(second), ["200", "431"], "the first is answered, then 431");
      });

      await t.step("a connection that bypasses the front has no peer", async () => {
        const out = await exchange(
          s.socket,
          "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert.match(out, /GET 0 none/);
      });
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "http front: a slow head is cut off with 408, also the second one on a connection",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const s = await setup({ headTimeoutMs: 300 });
    try {
      const silent = await exchange(s.port, "GET / HTTP/1.1\r\nHost: x\r\n", 2_000);
      assert.deepEqual(statuses(silent), ["408"]);
      const kept = await exchange(s.port, [
        "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /slow HTTP/1.1\r\n",
      ], 2_000);
      assert.deepEqual(statuses(kept), ["200", "408"]);
      // idle between requests is not a slow head: the next request arrives after 500 ms
      const c = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
      const buf = new Uint8Array(4096);
      await c.write(enc.encode("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"));
      assert.match(dec.decode(buf.subarray(0, (await c.read(buf))!)), /^HTTP\/1\.1 200/);
      await new Promise((r) => setTimeout(r, 500));
      await c.write(enc.encode("GET /2 HTTP/1.1\r\nHost: x\r\n\r\n"));
      assert.match(dec.decode(buf.subarray(0, (await c.read(buf))!)), /^HTTP\/1\.1 200/);
      c.close();
    } finally {
      await s.close();
    }
  },
});
