/**
 * Request heads through the real process: a head over MAX_HEADER_BYTES answers 431, and 1,000
 * clients that send their heads slowly (slowloris) are cut off after HEADER_TIMEOUT_MS while
 * the node keeps answering everyone else. Deno.serve alone (HEADER_TIMEOUT_MS=0) is measured
 * too: it keeps every slow socket, which is why the node has a front (runtimes/deno/http_front.ts).
 */
import assert from "node:assert/strict";
import { freePort, startRouter } from "../helpers/router_process.ts";

const SLOW = 1_000;
const HEAD_TIMEOUT_MS = 2_000;
const enc = new TextEncoder();

/** Opens `n` connections that each send a head start and then one byte every 300 ms. */
async function slowClients(port: number, n: number) {
  const conns: Deno.Conn[] = [];
  const closedAt: (number | null)[] = new Array(n).fill(null);
  const answers: string[] = [];
  for (let i = 0; i < n; i++) {
    // Each connection's time counts from its own opening: on a loaded machine opening 1,000
    // takes longer than the head timeout, and the first ones are rightly cut off meanwhile.
    const started = Date.now();
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    conns.push(c);
    await c.write(enc.encode("POST /webhook/wh_slow HTTP/1.1\r\nHost: x\r\nx-a: "));
    (async () => {
      const buf = new Uint8Array(512);
      try {
        for (;;) {
          const got = await c.read(buf);
          if (got === null) break;
          answers.push(new TextDecoder().decode(buf.subarray(0, got)).split("\r\n")[0]);
        }
      } catch { /* reset */ }
      closedAt[i] = Date.now() - started;
    })();
  }
  let stop = false;
  const drip = (async () => {
    while (!stop) {
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < n; i++) {
        if (closedAt[i] === null) await conns[i].write(enc.encode("a")).catch(() => {});
      }
    }
  })();
  return {
    closed: () => closedAt.filter((t) => t !== null).length,
    closedAt,
    answers,
    async end() {
      stop = true;
      await drip;
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
  };
}

async function timedHealth(url: string): Promise<number> {
  const t0 = performance.now();
  const r = await fetch(`${url}/health`);
  await r.body?.cancel();
  assert.equal(r.status, 200);
  return performance.now() - t0;
}

Deno.test({
  name: "heads through the real process: 431 over the limit, 1,000 slow senders cut off",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const port = freePort();
    const router = await startRouter({
      port,
      env: { HEADER_TIMEOUT_MS: String(HEAD_TIMEOUT_MS), MAX_HEADER_BYTES: "16384" },
    });
    try {
      const big = await fetch(`${router.url}/health`, { headers: { "x-big": "a".repeat(20_000) } });
      assert.equal(big.status, 431);
      assert.equal((await big.json()).error.code, "request_header_fields_too_large");
      const fine = await fetch(`${router.url}/health`, { headers: { "x-ok": "a".repeat(8_000) } });
      assert.equal(fine.status, 200);
      await fine.body?.cancel();

      const slow = await slowClients(port, SLOW);
      // Everyone else is served while the slow heads are pending.
      const latencies: number[] = [];
      for (let i = 0; i < 20; i++) latencies.push(await timedHealth(router.url));
      const deadline = Date.now() + HEAD_TIMEOUT_MS + 5_000;
      while (slow.closed() < SLOW && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const closed = slow.closed();
      const times = slow.closedAt.filter((t): t is number => t !== null).sort((a, b) => a - b);
      console.log(
        `slowloris: ${closed}/${SLOW} slow connections cut off, after ` +
          `${times[0]}-${
            times.at(-1)
          } ms (head timeout ${HEAD_TIMEOUT_MS} ms); /health meanwhile ` +
          `max ${Math.round(Math.max(...latencies))} ms, median ${
            Math.round(latencies.sort((a, b) => a - b)[10])
          } ms`,
      );
      await slow.end();
      assert.equal(closed, SLOW, "every slow connection was cut off");
      assert.ok(
        times[0] >= HEAD_TIMEOUT_MS - 500,
        `none before the timeout (the first after ${times[0]} ms)`,
      );
      assert.ok(slow.answers.every((a) => a === "HTTP/1.1 408 Request Timeout"), "408 each");
      assert.ok(Math.max(...latencies) < 2_000, "others were answered promptly");
      assert.equal(await timedHealth(router.url) < 2_000, true, "and still are");
    } finally {
      await router.kill("SIGTERM");
      await Deno.remove(router.dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "Deno.serve alone (HEADER_TIMEOUT_MS=0) keeps slow senders: what the front is for",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const port = freePort();
    const router = await startRouter({ port, env: { HEADER_TIMEOUT_MS: "0" } });
    try {
      const slow = await slowClients(port, 50);
      await new Promise((r) => setTimeout(r, HEAD_TIMEOUT_MS + 1_500));
      const closed = slow.closed();
      await slow.end();
      console.log(
        `without the front: ${closed}/50 slow connections closed after ${
          HEAD_TIMEOUT_MS + 1_500
        } ms`,
      );
      assert.equal(closed, 0, "Deno.serve has no head timeout (if this fails, it grew one)");
    } finally {
      await router.kill("SIGTERM");
      await Deno.remove(router.dir, { recursive: true }).catch(() => {});
    }
  },
});
