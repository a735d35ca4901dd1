/**
 * CPU per request of three HTTP clients (Deno fetch, node:http with a keep-alive agent, undici
 * Pool.request): 16 concurrent 1 KiB POSTs to a server in another process, measured from
 * /proc schedstat. Run alternately, a server first:
 *   deno run --allow-net tests/bench/bare_server.ts 18777 &
 *   deno run -A tests/bench/http_clients.ts 18777 fetch|node|undici
 */
import http from "node:http";
import { Pool } from "undici";
const port = Number(Deno.args[0]);
const which = Deno.args[1];
const N = 20000, C = 16;
const body = new Uint8Array(1024).fill(120);
const url = `http://127.0.0.1:${port}/in`;
const agent = new http.Agent({ keepAlive: true, maxSockets: C });
const pool = new Pool(`http://127.0.0.1:${port}`, { connections: C });
function cpu() {
  let ns = 0;
  for (const t of Deno.readDirSync(`/proc/${Deno.pid}/task`)) {
    ns += Number(Deno.readTextFileSync(`/proc/${Deno.pid}/task/${t.name}/schedstat`).split(" ")[0]);
  }
  return ns;
}
function mainCpu() {
  return Number(
    Deno.readTextFileSync(`/proc/${Deno.pid}/task/${Deno.pid}/schedstat`).split(" ")[0],
  );
}
const headers = {
  "content-type": "application/json",
  "user-agent": "event-router",
  "webhook-id": "msg_1",
  "webhook-timestamp": "1700000000",
};
async function one(): Promise<number> {
  if (which === "fetch") {
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(), 30000);
    const res = await fetch(url, {
      method: "POST",
      headers: new Headers(headers),
      body,
      signal: AbortSignal.any([ac.signal]),
    });
    await res.body?.cancel();
    clearTimeout(t);
    return res.status;
  }
  if (which === "node") {
    return await new Promise((resolve, reject) => {
      const req = http.request({
        host: "127.0.0.1",
        port,
        path: "/in",
        method: "POST",
        agent,
        headers: { ...headers, "content-length": body.length },
        timeout: 30000,
      }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode!));
      });
      req.on("error", reject);
      req.end(body);
    });
  }
  const res = await pool.request({
    path: "/in",
    method: "POST",
    headers,
    body,
    headersTimeout: 30000,
  });
  await res.body.dump();
  return res.statusCode;
}
for (let i = 0; i < 500; i++) await one();
const c0 = cpu(), m0 = mainCpu(), t0 = performance.now();
let done = 0;
await Promise.all(Array.from({ length: C }, async () => {
  while (done++ < N) {
    const s = await one();
    if (s !== 202) throw new Error(String(s));
  }
}));
const dt = performance.now() - t0;
console.log(
  `${which.padEnd(6)} ${(N / dt * 1000).toFixed(0)}/s  all ${
    ((cpu() - c0) / N / 1000).toFixed(1)
  } µs  main ${((mainCpu() - m0) / N / 1000).toFixed(1)} µs`,
);
Deno.exit(0);
