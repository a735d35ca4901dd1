/**
 * End-to-end through an edge, for each edge runtime: a webhook signed with the provider's
 * library enters at the edge, is answered 202 with an id, and reaches a real HTTP sink through
 * a real full node with that id; a forged one is refused at the edge; with the full node
 * stopped, 50 webhooks are answered 202 and all 50 are delivered once it is back, none twice;
 * the edge SIGKILLed with events buffered (and the node still away) starts again from its
 * saved routes and delivers them all; a route deleted on the node stops at the edge within
 * one refresh. Short refresh and retry intervals by configuration keep it to seconds.
 */
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import {
  apiClient,
  bootstrapAdmin,
  freePort,
  type RouterProcess,
  startRouter,
} from "../helpers/router_process.ts";
import { type EdgeKind, type EdgeProcess, startEdge } from "../helpers/edge_process.ts";
import { type Sink, startSink } from "../helpers/sink.ts";

const EDGE_SECRET = "e2e-edge-secret-0123456789abcdefghij";
const SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const wh = new Webhook(SW_SECRET);
const FAST = { ROUTES_REFRESH_SECONDS: "1", EDGE_RETRY_MAX_SECONDS: "1" };

function signed(body: string) {
  const id = `msg_${crypto.randomUUID()}`;
  const now = new Date();
  return {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
    "webhook-signature": wh.sign(id, now, body),
  };
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 20_000) {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function sendAll(edge: EdgeProcess, endpoint: string, n: number, tag: string) {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const body = JSON.stringify({ tag, i });
    const r = await fetch(`${edge.url}${endpoint}`, {
      method: "POST",
      body,
      headers: signed(body),
    });
    const text = await r.text();
    assert.equal(r.status, 202, `webhook ${i}: ${text}`);
    ids.push(JSON.parse(text).id);
  }
  return ids;
}

/** Every id delivered exactly once, also after a moment more (a late duplicate would show). */
async function deliveredOnce(sink: Sink, ids: string[]) {
  await until(`${ids.length} deliveries`, () => ids.every((id) => sink.events.has(id)), 30_000);
  await new Promise((r) => setTimeout(r, 1500));
  const twice = ids.filter((id) => sink.events.get(id) !== 1);
  assert.deepEqual(twice, [], "no event delivered twice");
}

export function edgeEndToEnd(kind: EdgeKind) {
  Deno.test(`e2e ${kind} edge: at the edge, through the full node, to the sink, at least once`, async (t) => {
    const sink = await startSink();
    const nodeDir = await Deno.makeTempDir({ prefix: "edge-e2e-node-" });
    const nodePort = freePort();
    const nodeEnv = { EDGE_SECRET };
    let node: RouterProcess | null = await startRouter({
      dir: nodeDir,
      port: nodePort,
      env: nodeEnv,
    });
    let edge: EdgeProcess | null = null;
    const edgeDir = await Deno.makeTempDir({ prefix: `edge-e2e-${kind}-` });
    try {
      const token = await bootstrapAdmin(node.url);
      const api = apiClient(node.url, token);
      const dest = await api("POST", "/api/destinations", {
        name: "sink",
        type: "http",
        config: { url: `${sink.url}/in` },
      });
      const route = await api<{ id: string; endpoint: string }>("POST", "/api/routes", {
        name: "signed",
        destinations: [{ destination_id: dest.id }],
        signature_config: { enabled: true, preset: "standard_webhooks", secret: SW_SECRET },
      });
      const edgePort = freePort();
      const startThisEdge = () =>
        startEdge(kind, {
          fullNodeUrl: node?.url ?? `http://127.0.0.1:${nodePort}`,
          secret: EDGE_SECRET,
          dir: edgeDir,
          port: edgePort,
          env: FAST,
        });
      edge = await startThisEdge();

      await t.step("a signed webhook: 202 at the edge, delivered with that id", async () => {
        const body = '{"type":"invoice.paid","amount":42}';
        const r = await fetch(`${edge!.url}${route.endpoint}`, {
          method: "POST",
          body,
          headers: signed(body),
        });
        const out = await r.json();
        assert.equal(r.status, 202, JSON.stringify(out));
        assert.match(out.id, /^evt_/);
        await deliveredOnce(sink, [out.id]);
        const e = await api<{ id: string; source: string }>("GET", `/api/events/${out.id}`);
        assert.equal(e.id, out.id, "the full node keeps the edge's id");
        assert.equal(e.source, `edge:test-${kind}`, "and shows it came through the edge");
      });

      await t.step("a 600 KiB body arrives at the full node byte for byte", async () => {
        const body = JSON.stringify({ pad: "0123456789abcdef".repeat(600 * 64) });
        const r = await fetch(`${edge!.url}${route.endpoint}`, {
          method: "POST",
          body,
          headers: signed(body),
        });
        const out = await r.json();
        assert.equal(r.status, 202, JSON.stringify(out));
        await deliveredOnce(sink, [out.id]);
        const e = await api<{ body: string }>("GET", `/api/events/${out.id}`);
        assert.equal(e.body.length, body.length);
        assert.equal(e.body, body);
      });

      await t.step("a forged webhook is refused at the edge and never delivered", async () => {
        const body = '{"type":"forged"}';
        const headers = {
          ...signed(body),
          "webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        };
        const before = sink.total();
        const r = await fetch(`${edge!.url}${route.endpoint}`, { method: "POST", body, headers });
        assert.equal(r.status, 401);
        assert.equal((await r.json()).error.code, "unauthorized");
        const events = await api<{ total: number }>("GET", "/api/events?limit=100");
        assert.equal(events.total, 2, "nothing stored on the node");
        assert.equal(sink.total(), before);
      });

      await t.step(
        "full node stopped: 50 webhooks answered 202, all delivered after it is back",
        async () => {
          await node!.kill();
          node = null;
          const ids = await sendAll(edge!, route.endpoint, 50, "outage");
          assert.equal(new Set(ids).size, 50);
          await new Promise((r) => setTimeout(r, 1500)); // forwarding fails a few times meanwhile
          node = await startRouter({ dir: nodeDir, port: nodePort, env: nodeEnv });
          await deliveredOnce(sink, ids);
        },
      );

      await t.step(
        "edge SIGKILLed with events buffered and the node away: restarted, delivers all",
        async () => {
          await node!.kill();
          node = null;
          const ids = await sendAll(edge!, route.endpoint, 20, "crash");
          await edge!.kill("SIGKILL");
          // started again while the node is still away: it answers from its saved routes copy
          edge = await startThisEdge();
          const more = await sendAll(edge, route.endpoint, 5, "after-restart");
          node = await startRouter({ dir: nodeDir, port: nodePort, env: nodeEnv });
          await deliveredOnce(sink, [...ids, ...more]);
        },
      );

      await t.step(
        "a route deleted on the full node stops at the edge within one refresh",
        async () => {
          const api2 = apiClient(node!.url, await bootstrapAdmin(node!.url));
          const doomed = await api2<{ id: string; endpoint: string }>("POST", "/api/routes", {
            name: "doomed",
            destinations: [{ destination_id: dest.id }],
          });
          await until("the edge to learn the new route", async () => {
            const r = await fetch(`${edge!.url}${doomed.endpoint}`, { method: "POST", body: "{}" });
            await r.body?.cancel();
            return r.status === 202;
          });
          await api2("DELETE", `/api/routes/${doomed.id}`);
          const deletedAt = Date.now();
          await until("the edge to refuse the deleted route", async () => {
            const r = await fetch(`${edge!.url}${doomed.endpoint}`, { method: "POST", body: "{}" });
            await r.body?.cancel();
            return r.status === 404;
          }, 5000);
          const took = Date.now() - deletedAt;
          assert.ok(took <= 1000 + 500, `refused after ${took} ms (refresh interval 1 s)`);
        },
      );
      assert.equal(sink.deliveries.size, sink.total(), "no delivery id arrived twice");
    } finally {
      await edge?.kill();
      await node?.kill();
      await sink.stop();
      await Deno.remove(nodeDir, { recursive: true }).catch(() => {});
      await Deno.remove(edgeDir, { recursive: true }).catch(() => {});
    }
  });
}
