/**
 * The ingress conformance suite: the same requests get the same answers at the full node, the
 * Deno Deploy edge and the Worker edge in workerd (404, 405 with Allow, 413, 429 with
 * Retry-After, 401 for signatures refused, 202 for signatures made by the providers' own
 * libraries, the route's response template, 202 with the event id). Routes are created on a
 * real full node through its API; `open` gives the base URL webhooks are sent to.
 */
import assert from "node:assert/strict";
import { sign as githubSign } from "@octokit/webhooks-methods";
import Stripe from "stripe";
import { Webhook } from "standardwebhooks";
import {
  apiClient,
  bootstrapAdmin,
  type RouterProcess,
  startRouter,
} from "../helpers/router_process.ts";

export const EDGE_SECRET = "conformance-edge-secret-0123456789abcdef";
const GITHUB_SECRET = "It's a Secret to Everybody";
const STRIPE_SECRET = "whsec_test_conformance_0123456789";
const SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const stripe = new Stripe("sk_test_unused");

export interface IngressTarget {
  /** Where webhooks are sent (the node itself or an edge in front of it). */
  url: string;
  close(): Promise<void>;
}

type Routes = Record<string, { id: string; endpoint: string }>;

const ROUTES: Record<string, Record<string, unknown>> = {
  plain: {},
  put_only: { method: "PUT" },
  inactive: { active: false },
  small: { limits: { max_body_bytes: 100 } },
  limited: { limits: { rate_per_second: 0.1, burst: 2 } },
  github: { signature_config: { enabled: true, preset: "github", secret: GITHUB_SECRET } },
  stripe: { signature_config: { enabled: true, preset: "stripe", secret: STRIPE_SECRET } },
  standard: {
    signature_config: { enabled: true, preset: "standard_webhooks", secret: SW_SECRET },
  },
  slack: {
    response: {
      status: 200,
      headers: { "x-echo": "{{headers.x-team}}" },
      body: "{{body.challenge}}",
    },
  },
};

async function send(
  base: string,
  path: string,
  body: string | null,
  headers: Record<string, string> = {},
  method = "POST",
) {
  const res = await fetch(`${base}${path}`, {
    method,
    body,
    headers: { "content-type": "application/json", ...headers },
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

function expectError(r: Awaited<ReturnType<typeof send>>, status: number, code: string) {
  assert.equal(r.status, status, r.text);
  const body = r.json();
  assert.equal(body.error.code, code, r.text);
  assert.equal(typeof body.error.message, "string");
  return body.error.message as string;
}

function expectAccepted(r: Awaited<ReturnType<typeof send>>) {
  assert.equal(r.status, 202, r.text);
  const body = r.json();
  assert.deepEqual(Object.keys(body), ["id"]);
  assert.match(body.id, /^evt_[a-z0-9]{24}$/);
  return body.id as string;
}

/**
 * Runs the suite: a full node with EDGE_SECRET and the routes above, then `open(node)` for
 * the target under test (the node itself, or an edge started against it).
 */
export function ingressSuite(name: string, open: (node: RouterProcess) => Promise<IngressTarget>) {
  Deno.test(`ingress ${name}: the same answers to the same requests`, async (t) => {
    const node = await startRouter({ env: { EDGE_SECRET } });
    let target: IngressTarget | null = null;
    try {
      const api = apiClient(node.url, await bootstrapAdmin(node.url));
      const routes: Routes = {};
      for (const [key, extra] of Object.entries(ROUTES)) {
        routes[key] = await api("POST", "/api/routes", { name: key, ...extra }) as Routes[string];
      }
      target = await open(node);
      const base = target.url;

      await t.step("unknown and inactive endpoints: 404", async () => {
        expectError(
          await send(base, "/webhook/wh_doesnotexist000000000000000", "{}"),
          404,
          "not_found",
        );
        expectError(await send(base, routes.inactive.endpoint, "{}"), 404, "not_found");
      });

      await t.step("wrong method: 405 with Allow", async () => {
        const r = await send(base, routes.put_only.endpoint, "{}");
        expectError(r, 405, "method_not_allowed");
        assert.equal(r.headers.get("allow"), "PUT");
        expectAccepted(await send(base, routes.put_only.endpoint, "{}", {}, "PUT"));
      });

      await t.step("body over the route's limit: 413", async () => {
        expectAccepted(await send(base, routes.small.endpoint, "x".repeat(100)));
        const message = expectError(
          await send(base, routes.small.endpoint, "x".repeat(101)),
          413,
          "payload_too_large",
        );
        assert.match(message, /100 bytes/);
      });

      await t.step("over the route's rate: 429 with Retry-After", async () => {
        expectAccepted(await send(base, routes.limited.endpoint, "1"));
        expectAccepted(await send(base, routes.limited.endpoint, "2"));
        const r = await send(base, routes.limited.endpoint, "3");
        expectError(r, 429, "rate_limited");
        const retry = Number(r.headers.get("retry-after"));
        assert.ok(retry >= 1 && retry <= 10, `Retry-After ${retry}`);
      });

      await t.step(
        "github: @octokit/webhooks-methods signature 202, another secret's 401",
        async () => {
          const body = '{"action":"opened","number":7}';
          const good = { "x-hub-signature-256": await githubSign(GITHUB_SECRET, body) };
          expectAccepted(await send(base, routes.github.endpoint, body, good));
          const bad = { "x-hub-signature-256": await githubSign("not the secret", body) };
          const message = expectError(
            await send(base, routes.github.endpoint, body, bad),
            401,
            "unauthorized",
          );
          assert.equal(message, "signature verification failed", "no detail leaked");
          expectError(await send(base, routes.github.endpoint, body), 401, "unauthorized");
        },
      );

      await t.step("stripe: stripe-node's test header 202, a tampered body 401", async () => {
        const body = '{"id":"evt_1","type":"payment_intent.succeeded"}';
        const header = await stripe.webhooks.generateTestHeaderStringAsync({
          payload: body,
          secret: STRIPE_SECRET,
        });
        expectAccepted(
          await send(base, routes.stripe.endpoint, body, { "stripe-signature": header }),
        );
        expectError(
          await send(base, routes.stripe.endpoint, body.replace("1", "2"), {
            "stripe-signature": header,
          }),
          401,
          "unauthorized",
        );
      });

      await t.step(
        "standard webhooks: the standardwebhooks library's signature 202, stale 401",
        async () => {
          const body = '{"type":"invoice.paid"}';
          const wh = new Webhook(SW_SECRET);
          const id = `msg_${crypto.randomUUID()}`;
          const now = new Date();
          const headers = {
            "webhook-id": id,
            "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
            "webhook-signature": wh.sign(id, now, body),
          };
          expectAccepted(await send(base, routes.standard.endpoint, body, headers));
          const old = new Date(Date.now() - 3600_000);
          const stale = {
            "webhook-id": `${id}-old`,
            "webhook-timestamp": String(Math.floor(old.getTime() / 1000)),
            "webhook-signature": wh.sign(`${id}-old`, old, body),
          };
          expectError(await send(base, routes.standard.endpoint, body, stale), 401, "unauthorized");
        },
      );

      await t.step("response template: Slack's challenge echoed", async () => {
        const r = await send(
          base,
          routes.slack.endpoint,
          '{"type":"url_verification","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}',
          { "x-team": "T123" },
        );
        assert.equal(r.status, 200, r.text);
        assert.equal(r.text, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
        assert.equal(r.headers.get("x-echo"), "T123");
        assert.match(r.headers.get("content-type") ?? "", /^text\/plain/);
      });

      await t.step("202 with the event id, the same id the full node stores", async () => {
        const id = expectAccepted(await send(base, `${routes.plain.endpoint}?q=1`, '{"n":1}'));
        const deadline = Date.now() + 15_000;
        for (;;) {
          const r = await fetch(`${node.url}/api/events/${id}`, {
            headers: { authorization: `Bearer ${await bootstrapAdmin(node.url)}` },
          });
          if (r.status === 200) {
            const e = await r.json();
            assert.equal(e.id, id);
            assert.equal(e.route_id, routes.plain.id);
            break;
          }
          await r.body?.cancel();
          if (Date.now() > deadline) throw new Error(`event ${id} never reached the full node`);
          await new Promise((r) => setTimeout(r, 100));
        }
      });
    } finally {
      await target?.close();
      await node.kill();
      await Deno.remove(node.dir, { recursive: true }).catch(() => {});
    }
  });
}
