/**
 * The outbound address guard through the real router process, as a hostile tenant meets it
 * (ALLOW_PRIVATE_NETWORKS unset): every literal spelling of a forbidden address is a 400
 * naming the field at save, for every destination type and every outbound stage field; names
 * and configs saved while an admin allowed them are refused when connecting, and a loopback
 * listener standing in for the target must receive nothing; a redirect from an allowed host
 * to a forbidden one is refused too. The per-library proof (each client dials only checked
 * addresses, a name that resolves to loopback included) is in tests/integration/brokers.
 */
import assert from "node:assert/strict";
import { apiClient, bootstrapAdmin, startRouter } from "../helpers/router_process.ts";
import { canary } from "../helpers/canary.ts";
import { FORBIDDEN_FORMS } from "./forbidden_forms.ts";

const AWS_KEYS = { access_key_id: "AKIATEST", secret_access_key: "secret-test" };

/** One field of one type that names a host, with a config putting `host` (and a port) in it. */
interface HostField {
  type: string;
  field: string;
  config(host: string, port: number): Record<string, unknown>;
}

const hostPort = (host: string, port: number) => `${host}:${port}`;

const DESTINATION_FIELDS: HostField[] = [
  { type: "http", field: "url", config: (h, p) => ({ url: `http://${hostPort(h, p)}/hook` }) },
  {
    type: "rabbitmq",
    field: "url",
    config: (h, p) => ({ url: `amqp://guest:guest@${hostPort(h, p)}/`, queue: "q" }),
  },
  {
    type: "kafka",
    field: "brokers.0",
    config: (h, p) => ({ brokers: [hostPort(h, p)], topic: "t" }),
  },
  {
    type: "redis",
    field: "url",
    config: (h, p) => ({ url: `redis://${hostPort(h, p)}`, stream: "s" }),
  },
  {
    type: "redis",
    field: "address",
    config: (h, p) => ({ address: hostPort(h, p), stream: "s" }),
  },
  {
    type: "sqs",
    field: "queue_url",
    config: (h, p) => ({
      queue_url: `http://${hostPort(h, p)}/123456789012/q`,
      region: "us-east-1",
      ...AWS_KEYS,
    }),
  },
  {
    type: "sqs",
    field: "endpoint",
    config: (h, p) => ({
      queue_url: "https://sqs.us-east-1.amazonaws.com/123456789012/q",
      endpoint: `http://${hostPort(h, p)}`,
      ...AWS_KEYS,
    }),
  },
  {
    type: "sns",
    field: "endpoint",
    config: (h, p) => ({
      topic_arn: "arn:aws:sns:us-east-1:123456789012:t",
      endpoint: `http://${hostPort(h, p)}`,
      ...AWS_KEYS,
    }),
  },
  {
    type: "pubsub",
    field: "emulator_host",
    config: (h, p) => ({
      project_id: "test-project",
      topic: "orders",
      emulator_host: hostPort(h, p),
    }),
  },
];

/** The outbound fields of pipeline stages: the enrich URL and its OAuth2 token URL. */
const STAGE_FIELDS = [
  {
    field: "pipeline.0.url",
    stage: (h: string, p: number) => ({ type: "enrich", url: `http://${hostPort(h, p)}/x` }),
  },
  {
    field: "pipeline.0.auth.token_url",
    stage: (h: string, p: number) => ({
      type: "enrich",
      url: "https://api.example.com/x",
      auth: {
        type: "oauth2_client_credentials",
        token_url: `http://${hostPort(h, p)}/token`,
        client_id: "c",
        client_secret: "s",
      },
    }),
  },
];

// deno-lint-ignore no-explicit-any
type Api = <T = any>(method: string, path: string, body?: unknown) => Promise<T>;

async function raw(url: string, token: string, method: string, path: string, body?: unknown) {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: await r.json().catch(() => null) };
}

async function waitFor<T>(what: string, ms: number, get: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

Deno.test({
  name: "address guard through the real process: save-time 400s, delivery-time refusals",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const router = await startRouter({ env: { ALLOW_PRIVATE_NETWORKS: "false" } });
    try {
      const admin: Api = apiClient(router.url, await bootstrapAdmin(router.url));
      await admin("POST", "/api/users", {
        username: "mallory",
        password: "mallory-pass-1",
        role: "user",
      });
      const tenantToken = (await apiClient(router.url)<{ token: string }>("POST", "/login", {
        username: "mallory",
        password: "mallory-pass-1",
      })).token;
      const tenant: Api = apiClient(router.url, tenantToken);
      const call = (method: string, path: string, body?: unknown) =>
        raw(router.url, tenantToken, method, path, body);

      await t.step("every literal form, every destination field: 400 naming it", async () => {
        for (const f of DESTINATION_FIELDS) {
          for (const form of FORBIDDEN_FORMS) {
            const r = await call("POST", "/api/destinations", {
              name: `${f.type}-${form.what}`,
              type: f.type,
              config: f.config(form.host, 4000),
            });
            const what = `${f.type}.${f.field} = ${form.host} (${form.what})`;
            assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.body)}`);
            const msg: string = r.body.error.message;
            assert.ok(msg.includes(`config.${f.field}`), `${what} names the field: ${msg}`);
            // A form the type's own schema refuses is a 400 too; every other one is the guard's.
            if (r.body.error.code === "forbidden_address") assert.match(msg, form.reason, what);
            else assert.equal(r.body.error.code, "invalid_body", `${what}: ${msg}`);
          }
        }
      });

      await t.step("every literal form in enrich url and token_url: 400 naming it", async () => {
        for (const s of STAGE_FIELDS) {
          for (const form of FORBIDDEN_FORMS) {
            const r = await call("POST", "/api/routes", {
              name: `enrich-${form.what}`,
              pipeline: [s.stage(form.host, 4000)],
            });
            const what = `${s.field} = ${form.host} (${form.what})`;
            assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.body)}`);
            assert.equal(r.body.error.code, "forbidden_address", what);
            assert.ok(r.body.error.message.includes(s.field), `${what}: ${r.body.error.message}`);
            assert.match(r.body.error.message, form.reason, what);
          }
        }
      });

      await t.step(
        "admins are not guarded; public literals and names pass for tenants",
        async () => {
          const mine = await admin("POST", "/api/destinations", {
            name: "admin-local",
            type: "http",
            config: { url: "http://127.0.0.1:9/hook" },
          });
          await admin("DELETE", `/api/destinations/${mine.id}`);
          const pub = await tenant("POST", "/api/destinations", {
            name: "public",
            type: "http",
            config: { url: "http://93.184.216.34/hook" },
          });
          await tenant("DELETE", `/api/destinations/${pub.id}`);
        },
      );

      await t.step("sqs, sns and pubsub without credentials: 400 (never the node's)", async () => {
        for (
          const [type, config, field] of [
            [
              "sqs",
              { queue_url: "https://sqs.us-east-1.amazonaws.com/123456789012/q" },
              "access_key_id",
            ],
            ["sns", { topic_arn: "arn:aws:sns:us-east-1:123456789012:t" }, "access_key_id"],
            ["pubsub", { project_id: "acme-prod", topic: "orders" }, "credentials"],
          ] as const
        ) {
          const r = await call("POST", "/api/destinations", { name: type, type, config });
          assert.equal(r.status, 400, `${type}: ${JSON.stringify(r.body)}`);
          assert.ok(r.body.error.message.includes(`config.${field}`), r.body.error.message);
        }
      });

      await t.step("saved while allowed, refused when connecting: nothing reaches", async () => {
        // An admin allows loopback for a moment; the tenant saves a destination of every
        // network type pointing at a listener; the admin takes the allowance back.
        await admin("POST", "/api/settings", { allow_cidrs: ["127.0.0.0/8"] });
        const targets = new Map<string, ReturnType<typeof canary>>();
        const dests: string[] = [];
        for (const f of DESTINATION_FIELDS) {
          const target = canary();
          const d = await tenant("POST", "/api/destinations", {
            name: `${f.type}-${f.field}-late`,
            type: f.type,
            config: { ...f.config("127.0.0.1", target.port), timeout_ms: 2_000 },
            retry: { max_attempts: 1 },
          });
          targets.set(d.id, target);
          dests.push(d.id);
        }
        const enrichTarget = canary();
        const tokenTarget = canary();
        const enrichRoute = await tenant("POST", "/api/routes", {
          name: "late-enrich",
          pipeline: [{ type: "enrich", url: `http://127.0.0.1:${enrichTarget.port}/x` }],
          destinations: [{ destination_id: dests[0] }],
        });
        const tokenRoute = await tenant("POST", "/api/routes", {
          name: "late-token",
          pipeline: [{
            type: "enrich",
            url: `http://127.0.0.1:${enrichTarget.port}/y`,
            auth: {
              type: "oauth2_client_credentials",
              token_url: `http://127.0.0.1:${tokenTarget.port}/token`,
              client_id: "c",
              client_secret: "s",
            },
          }],
          destinations: [{ destination_id: dests[0] }],
        });
        const fanOut = await tenant("POST", "/api/routes", {
          name: "late-fan-out",
          destinations: dests.map((id) => ({ destination_id: id })),
        });
        await admin("POST", "/api/settings", { allow_cidrs: [] });

        const send = async (endpoint: string) => {
          const r = await fetch(`${router.url}${endpoint}`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: '{"n":1}',
          });
          assert.equal(r.status, 202);
          return (await r.json()).id as string;
        };
        const fanEvent = await send(fanOut.endpoint);
        const enrichEvent = await send(enrichRoute.endpoint);
        const tokenEvent = await send(tokenRoute.endpoint);

        const deliveries = await waitFor("every delivery to settle", 30_000, async () => {
          const e = await tenant("GET", `/api/events/${fanEvent}`);
          const ds = e.deliveries as {
            status: string;
            destination_id: string;
            last_error: string;
          }[];
          return ds.length === dests.length && ds.every((d) => d.status === "dead")
            ? ds
            : undefined;
        });
        for (const d of deliveries) {
          assert.match(d.last_error, /refusing to connect to 127\.0\.0\.1.*loopback/, d.last_error);
        }
        for (const id of [enrichEvent, tokenEvent]) {
          const e = await waitFor(`stage failure of ${id}`, 15_000, async () => {
            const ev = await tenant("GET", `/api/events/${id}`);
            return ev.error ? ev : undefined;
          });
          assert.match(e.error, /refusing to connect to 127\.0\.0\.1.*loopback/, e.error);
          // a refused address is permanent: dead-lettered at once, not retried every 30 s
          assert.equal(e.status, "failed", JSON.stringify(e));
          assert.match(e.error, /\(permanent: not retried\)/);
          assert.equal(e.attempts, 1);
        }
        for (const [id, target] of targets) {
          assert.equal(target.connections(), 0, `destination ${id}: the listener got nothing`);
          target.close();
        }
        assert.equal(enrichTarget.connections(), 0, "the enrich listener got nothing");
        assert.equal(tokenTarget.connections(), 0, "the token listener got nothing");
        enrichTarget.close();
        tokenTarget.close();
      });

      await t.step("a redirect from an allowed host to a forbidden one is refused", async () => {
        const hidden = canary("127.0.0.2");
        const front = Deno.serve(
          { hostname: "127.0.0.1", port: 0, onListen() {} },
          () =>
            new Response(null, {
              status: 307,
              headers: { location: `http://127.0.0.2:${hidden.port}/internal` },
            }),
        );
        try {
          await admin("POST", "/api/settings", { allow_cidrs: ["127.0.0.1/32"] });
          const d = await tenant("POST", "/api/destinations", {
            name: "redirector",
            type: "http",
            config: { url: `http://127.0.0.1:${front.addr.port}/hook` },
            retry: { max_attempts: 1 },
          });
          const viaHttp = await tenant("POST", "/api/routes", {
            name: "redirect-http",
            destinations: [{ destination_id: d.id }],
          });
          const viaEnrich = await tenant("POST", "/api/routes", {
            name: "redirect-enrich",
            pipeline: [{ type: "enrich", url: `http://127.0.0.1:${front.addr.port}/e` }],
            destinations: [{ destination_id: d.id }],
          });
          const post = async (endpoint: string) =>
            (await (await fetch(`${router.url}${endpoint}`, { method: "POST", body: "{}" }))
              .json()).id as string;
          const e1 = await post(viaHttp.endpoint);
          const e2 = await post(viaEnrich.endpoint);
          const dead = await waitFor("the redirected delivery", 15_000, async () => {
            const e = await tenant("GET", `/api/events/${e1}`);
            return e.deliveries?.[0]?.status === "dead" ? e.deliveries[0] : undefined;
          });
          assert.match(dead.last_error, /127\.0\.0\.2 is loopback/);
          const failed = await waitFor("the redirected enrich", 15_000, async () => {
            const e = await tenant("GET", `/api/events/${e2}`);
            return e.error ? e : undefined;
          });
          assert.match(failed.error, /127\.0\.0\.2 is loopback/);
          assert.equal(hidden.connections(), 0, "the hidden host got nothing");
        } finally {
          await admin("POST", "/api/settings", { allow_cidrs: [] });
          await front.shutdown();
          hidden.close();
        }
      });
    } finally {
      await router.kill("SIGTERM");
      await Deno.remove(router.dir, { recursive: true }).catch(() => {});
    }
  },
});
