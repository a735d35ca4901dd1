/**
 * Config as code over the API: export -> apply on an empty node reproduces the configuration
 * (the exports compare equal), applying twice is a no-op that says so, an invalid file changes
 * nothing, dry runs and prune, secrets never in clear, settings admins only.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { type Harness, harness } from "../helpers/app.ts";
import { cheapAdmin, expectError, expectJson } from "./_helpers.ts";

const SECRETS = {
  DESTINATION_CRM_SECRET: "whsec_Y3JtLXNpZ25pbmctc2VjcmV0LTAxMjM0NTY3ODk=",
  DESTINATION_CRM_HEADERS_AUTHORIZATION: "Bearer crm-api-token-abcdef",
  DESTINATION_QUEUE_URL: "amqp://router:rabbit-pass-xyz@mq.example.com:5672/",
  ROUTE_ORDERS_SIGNATURE_CONFIG_SECRET: "github-hook-secret-987654",
  ROUTE_ORDERS_PIPELINE_1_AUTH_TOKEN: "enrich-bearer-token-555",
};

/** A configuration with every kind of part, made through the API as a user would. */
async function populate(h: Harness, token: string) {
  const call = (m: string, p: string, b?: unknown) => expectJson(h.call(m, p, b, token), 201);
  const crm = await call("POST", "/api/destinations", {
    name: "crm",
    type: "http",
    config: {
      url: "https://crm.example.com/hooks",
      secret: SECRETS.DESTINATION_CRM_SECRET,
      headers: { authorization: SECRETS.DESTINATION_CRM_HEADERS_AUTHORIZATION },
    },
    retry: { max_attempts: 3, schedule_seconds: [0, 10, 60] },
  });
  const queue = await call("POST", "/api/destinations", {
    name: "queue",
    type: "rabbitmq",
    config: { url: SECRETS.DESTINATION_QUEUE_URL, exchange: "events", routing_key: "x" },
  });
  const backup = await call("POST", "/api/destinations", {
    name: "backup",
    type: "log",
    config: {},
    active: false,
  });
  const orders = await call("POST", "/api/routes", {
    name: "orders",
    description: "orders from the shop",
    destinations: [
      { destination_id: crm.id, fallback_destination_id: backup.id },
      { destination_id: queue.id, weight: 2 },
    ],
    signature_config: {
      enabled: true,
      preset: "github",
      secret: SECRETS.ROUTE_ORDERS_SIGNATURE_CONFIG_SECRET,
    },
    rules: [{
      name: "big",
      when: { field: "body.total", range: { gte: 100 } },
      destinations: [crm.id],
    }],
    pipeline: [
      { type: "transform", operations: [{ op: "set", path: "seen", value: true }] },
      {
        type: "enrich",
        url: "https://api.example.com/customers/{{body.customer}}",
        auth: { type: "bearer", token: SECRETS.ROUTE_ORDERS_PIPELINE_1_AUTH_TOKEN },
        into: "customer",
      },
    ],
    response: { status: 200, body: { ok: true } },
    limits: { max_body_bytes: 65536 },
  });
  await call("POST", "/api/routes", { name: "catch-all", default: true, method: "ANY" });
  await call("POST", "/api/triggers", {
    name: "nightly",
    type: "schedule",
    route_id: orders.id,
    config: { cron: "0 3 * * *", timezone: "Europe/Berlin", payload: { report: "daily" } },
  });
  await expectJson(h.call("POST", "/api/settings", { retention_days: 3 }, token), 200);
}

const exportText = async (h: Harness, token: string, secrets = "sealed") => {
  const r = await h.call("GET", `/api/config/export?secrets=${secrets}`, undefined, token);
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type") ?? "", /yaml/);
  return await r.text();
};
const apply = (h: Harness, token: string, body: Record<string, unknown>) =>
  h.call("POST", "/api/config/apply", body, token);
const withoutComments = (yaml: string) => yaml.replace(/^#.*\n/gm, "");

Deno.test("config: export never shows a secret; apply of the export changes nothing", async () => {
  const h = await harness();
  try {
    const admin = await cheapAdmin(h);
    await populate(h, admin.token);
    const sealed = await exportText(h, admin.token);
    const env = await exportText(h, admin.token, "env");
    for (const secret of Object.values(SECRETS)) {
      assert.ok(!sealed.includes(secret), `sealed export shows ${secret}`);
      assert.ok(!env.includes(secret), `env export shows ${secret}`);
      assert.ok(!sealed.includes(secret.replace(/^.*:\/\/[^:]*:([^@]*)@.*$/, "$1")));
    }
    assert.match(sealed, /sealed:v1:/);
    for (const name of Object.keys(SECRETS)) assert.ok(env.includes(`\${${name}}`), name);

    const doc = parse(sealed);
    assert.deepEqual(doc.destinations.map((d: { name: string }) => d.name), [
      "backup",
      "crm",
      "queue",
    ]);
    const orders = doc.routes.find((r: { name: string }) => r.name === "orders");
    assert.deepEqual(orders.destinations, [
      { destination: "crm", fallback: "backup" },
      { destination: "queue", weight: 2 },
    ]);
    assert.deepEqual(orders.rules[0].destinations, ["crm"], "rules name destinations");
    assert.equal(doc.triggers[0].route, "orders");
    assert.deepEqual(doc.settings, { retention_days: 3 });

    const again = await expectJson(apply(h, admin.token, { yaml: sealed }), 200);
    assert.deepEqual(again, { applied: false, changes: [], plan: "no changes" });
    assert.equal(
      withoutComments(await exportText(h, admin.token)).length,
      withoutComments(sealed).length,
    );
  } finally {
    await h.close();
  }
});

Deno.test("config: export -> apply on an empty node reproduces it; twice is a no-op", async () => {
  const a = await harness();
  const b = await harness();
  try {
    const adminA = await cheapAdmin(a);
    await populate(a, adminA.token);
    const envExport = await exportText(a, adminA.token, "env");
    // The API reads no environment: references are filled in by the client (the CLI does).
    const filled = envExport.replace(
      /\$\{([A-Z0-9_]+)\}/g,
      (_m, n) => SECRETS[n as keyof typeof SECRETS],
    );

    const adminB = await cheapAdmin(b);
    const refused = await expectError(apply(b, adminB.token, { yaml: envExport }), 400);
    assert.match(refused.message, /environment reference/);
    const dry = await expectJson(apply(b, adminB.token, { yaml: filled, dry_run: true }), 200);
    assert.equal(dry.applied, false);
    assert.match(dry.plan, /^~ settings \(retention_days\)$/m);
    assert.match(dry.plan, /^\+ destination crm$/m);
    assert.match(dry.plan, /^\+ route orders$/m);
    assert.match(dry.plan, /^\+ trigger nightly$/m);
    assert.equal((await b.store.allRoutes()).length, 0, "a dry run writes nothing");

    const first = await expectJson(apply(b, adminB.token, { yaml: filled }), 200);
    assert.equal(first.applied, true);
    assert.equal(first.changes.length, 1 + 3 + 2 + 1);
    const second = await expectJson(apply(b, adminB.token, { yaml: filled }), 200);
    assert.deepEqual(second, { applied: false, changes: [], plan: "no changes" });

    assert.equal(
      withoutComments(await exportText(b, adminB.token, "env")),
      withoutComments(envExport),
      "the same configuration on the new node",
    );
    // the secrets arrived (sealed at rest) and work: the webhook's signature is checked
    const route = (await b.store.allRoutes()).find((r) => r.name === "orders")!;
    assert.match(JSON.stringify(route.spec.signature_config), /sealed:v1:/);
    const unsigned = await b.call("POST", route.endpoint, { total: 1 });
    assert.equal(unsigned.status, 401);
    await unsigned.body?.cancel();
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("config: an invalid file changes nothing and names every problem", async () => {
  const h = await harness();
  try {
    const admin = await cheapAdmin(h);
    await populate(h, admin.token);
    const before = await exportText(h, admin.token);
    const doc = parse(before);
    doc.destinations.push({ name: "fresh", type: "log", config: {} }); // valid on its own
    doc.destinations.push({ name: "broken", type: "http", config: { url: "not a url" } });
    doc.routes.push({ name: "lost", destinations: [{ destination: "nowhere" }] });
    doc.triggers.push({ name: "odd", type: "schedule", route: "orders", config: { cron: "x" } });
    const e = await expectError(
      apply(h, admin.token, { document: doc }),
      400,
      undefined,
      "invalid_config",
    );
    assert.match(e.message, /destinations\[4\] \(broken\): config\.url/);
    assert.match(
      e.message,
      /routes\[2\] \(lost\)\.destinations\[0\]\.destination: no destination named "nowhere"/,
    );
    assert.match(e.message, /triggers\[1\] \(odd\).*cron/);
    assert.equal(withoutComments(await exportText(h, admin.token)), withoutComments(before));
    assert.ok(!(await h.store.allDestinations()).some((d) => d.name === "fresh"));

    await expectError(apply(h, admin.token, { yaml: "version: 1\nroutez: []\n" }), 400, "routez");
    await expectError(apply(h, admin.token, { yaml: "version: [1\n" }), 400, "not valid YAML");
    await expectError(apply(h, admin.token, { yaml: "version: 2\n" }), 400, "version");
  } finally {
    await h.close();
  }
});

Deno.test("config: changes show their fields; prune deletes what the file does not list", async () => {
  const h = await harness();
  try {
    const admin = await cheapAdmin(h);
    await populate(h, admin.token);
    const doc = parse(await exportText(h, admin.token));
    doc.destinations.find((d: { name: string }) => d.name === "crm").config.url =
      "https://crm.example.com/v2";
    doc.triggers = [];
    const kept = await expectJson(apply(h, admin.token, { document: doc }), 200);
    assert.equal(kept.plan, "~ destination crm (config)", "without prune the trigger stays");
    const pruned = await expectJson(apply(h, admin.token, { document: doc, prune: true }), 200);
    assert.equal(pruned.plan, "- trigger nightly");
    assert.equal((await h.store.allTriggers()).length, 0);
    // prune cannot leave a route pointing at a destination it deletes
    doc.destinations = doc.destinations.filter((d: { name: string }) => d.name !== "backup");
    const e = await expectError(apply(h, admin.token, { document: doc, prune: true }), 400);
    assert.match(e.message, /destination "backup" is not in the file, and --prune deletes it/);
  } finally {
    await h.close();
  }
});

Deno.test("config: a tenant applies its own configuration; settings and defaults are admins'", async () => {
  const h = await harness();
  try {
    const admin = await cheapAdmin(h);
    await populate(h, admin.token);
    const t = await h.tenant("config-tenant");
    const mine = parse(await exportText(h, t.token));
    assert.deepEqual(mine, { version: 1, destinations: [], routes: [], triggers: [] });
    const e = await expectError(
      apply(h, t.token, { document: { version: 1, settings: { retention_days: 1 } } }),
      400,
    );
    assert.match(e.message, /settings: only admins/);
    const d = await expectError(
      apply(h, t.token, { document: { version: 1, routes: [{ name: "x", default: true }] } }),
      400,
    );
    assert.match(d.message, /only admins may set the default route/);
    // a sealed value copied from the admin's export is not opened for a tenant
    const adminDoc = parse(await exportText(h, admin.token));
    const crm = adminDoc.destinations.find((x: { name: string }) => x.name === "crm");
    const stolen = await expectError(
      apply(h, t.token, { document: { version: 1, destinations: [crm] } }),
      400,
    );
    assert.match(stolen.message, /sealed value is accepted only when it is the one stored there/);
    const ok = await expectJson(
      apply(h, t.token, {
        document: { version: 1, destinations: [{ name: "mine", type: "log", config: {} }] },
      }),
      200,
    );
    assert.equal(ok.plan, "+ destination mine");
    const adminAfter = parse(await exportText(h, admin.token));
    assert.ok(!adminAfter.destinations.some((x: { name: string }) => x.name === "mine"));
  } finally {
    await h.close();
  }
});

Deno.test("config: the README's example file applies as it says, with CRM_SECRET set", async () => {
  const { applyConfig, formatPlan } = await import("../../core/config/apply.ts");
  const { parseConfigDocument } = await import("../../core/config/document.ts");
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const section = readme.slice(readme.indexOf("## Config as code"));
  const yaml = section.slice(
    section.indexOf("```yaml\n") + 8,
    section.indexOf("```", section.indexOf("```yaml\n") + 8),
  );
  const h = await harness();
  try {
    const admin = await cheapAdmin(h);
    const scope = { userId: admin.id, role: "admin" as const };
    const env = { CRM_SECRET: "whsec_cmVhZG1lLWV4YW1wbGUtc2VjcmV0" };
    const doc = parseConfigDocument(yaml);
    const r = await applyConfig(h.deps, scope, doc, { secrets: { env, openSealed: true } });
    assert.equal(
      formatPlan(r.changes),
      "~ settings (retention_days)\n+ destination crm\n+ destination backup\n+ route orders\n+ trigger nightly",
    );
    const twice = await applyConfig(h.deps, scope, doc, { secrets: { env, openSealed: true } });
    assert.equal(formatPlan(twice.changes), "no changes");
    const stored = (await h.store.allDestinations()).find((d) => d.name === "crm")!;
    assert.match(String(stored.config.secret), /^sealed:v1:/, "the secret is sealed at rest");
  } finally {
    await h.close();
  }
});
