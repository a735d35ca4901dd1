/**
 * `event-router config export|apply` through the real entry point on the real store files:
 * a configuration made over the API of a running node is exported, applied back (no changes),
 * applied to an empty node with `${ENV}` secrets from the environment (the exports then
 * compare equal), dry-run, refused files (exit 1, nothing changed) and usage errors (exit 2).
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { apiClient, bootstrapAdmin, DENO, startRouter } from "../helpers/router_process.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const HOOK_SECRET = "whsec_aG9vay1zZWNyZXQtZm9yLXRoZS1jbGktdGVzdA==";
const HEADER_TOKEN = "Bearer cli-header-token-42";

async function cli(dir: string, args: string[], env: Record<string, string> = {}, stdin?: string) {
  const child = new Deno.Command(DENO, {
    args: ["run", "-A", `${ROOT}main.ts`, "config", ...args],
    cwd: dir,
    env: { DATABASE_PATH: `${dir}/event-router.db`, LOG_LEVEL: "error", ...env },
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

const body = (yaml: string) => yaml.replace(/^#.*\n/gm, "");

Deno.test("config CLI: export, apply back, apply to an empty node, dry run, refusals", async () => {
  const a = await Deno.makeTempDir({ prefix: "er-config-a-" });
  const b = await Deno.makeTempDir({ prefix: "er-config-b-" });
  try {
    const router = await startRouter({ dir: a });
    try {
      const api = apiClient(router.url, await bootstrapAdmin(router.url));
      const dest = await api("POST", "/api/destinations", {
        name: "crm",
        type: "http",
        config: {
          url: "https://crm.example.com/in",
          secret: HOOK_SECRET,
          headers: { authorization: HEADER_TOKEN },
        },
      });
      const route = await api("POST", "/api/routes", {
        name: "orders",
        destinations: [{ destination_id: dest.id }],
        pipeline: [{ type: "transform", operations: [{ op: "set", path: "via", value: "cli" }] }],
      });
      await api("POST", "/api/triggers", {
        name: "nightly",
        type: "schedule",
        route_id: route.id,
        config: { cron: "0 3 * * *", payload: { report: true } },
      });
    } finally {
      await router.kill();
    }

    const sealed = await cli(a, ["export"]);
    assert.equal(sealed.code, 0, sealed.stderr);
    assert.ok(!sealed.stdout.includes(HOOK_SECRET) && !sealed.stdout.includes(HEADER_TOKEN));
    assert.match(sealed.stdout, /sealed:v1:/);
    await Deno.writeTextFile(`${a}/er.yaml`, sealed.stdout);
    const back = await cli(a, ["apply", "er.yaml"]);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(back.stdout, "no changes\n");

    const env = await cli(a, ["export", "--secrets", "env", "--output", "env.yaml"]);
    assert.equal(env.code, 0, env.stderr);
    assert.match(env.stderr, /\$\{DESTINATION_CRM_SECRET\}: destination crm: secret/);
    const envYaml = await Deno.readTextFile(`${a}/env.yaml`);
    assert.match(envYaml, /secret: \$\{DESTINATION_CRM_SECRET\}/);
    assert.equal((await Deno.stat(`${a}/env.yaml`)).mode! & 0o777, 0o600);

    // an empty node: the variables come from the environment
    const vars = {
      DESTINATION_CRM_SECRET: HOOK_SECRET,
      DESTINATION_CRM_HEADERS_AUTHORIZATION: HEADER_TOKEN,
    };
    const missing = await cli(b, ["apply", "-"], {}, envYaml);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /\$\{DESTINATION_CRM_SECRET\} is not set in the environment/);
    const created = await cli(b, ["apply", "-"], vars, envYaml);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(
      created.stdout,
      "+ destination crm\n+ route orders\n+ trigger nightly\n",
    );
    assert.equal((await cli(b, ["apply", "-"], vars, envYaml)).stdout, "no changes\n");
    const again = await cli(b, ["export", "--secrets", "env"]);
    assert.equal(body(again.stdout), body(envYaml), "the same configuration on the new node");

    // dry run: the plan, nothing written
    const doc = parse(envYaml);
    doc.destinations[0].config.url = "https://crm.example.com/v2";
    doc.triggers = [];
    await Deno.writeTextFile(`${b}/changed.yaml`, JSON.stringify(doc));
    const dry = await cli(b, ["apply", "changed.yaml", "--dry-run", "--prune"], vars);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(
      dry.stdout,
      "~ destination crm (config)\n- trigger nightly\n(dry run: nothing changed)\n",
    );
    assert.equal(body((await cli(b, ["export", "--secrets", "env"])).stdout), body(envYaml));

    // refused: every problem named, exit 1, nothing changed
    doc.routes[0].destinations = [{ destination: "nowhere" }];
    doc.destinations.push({ name: "bad", type: "http", config: {} });
    await Deno.writeTextFile(`${b}/bad.yaml`, JSON.stringify(doc));
    const bad = await cli(b, ["apply", "bad.yaml"], vars);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^bad\.yaml: refused, nothing changed:$/m);
    assert.match(bad.stderr, /destinations\[1\] \(bad\): config\.url/);
    assert.match(bad.stderr, /no destination named "nowhere"/);
    assert.equal(body((await cli(b, ["export", "--secrets", "env"])).stdout), body(envYaml));

    // usage
    assert.equal((await cli(b, ["apply", "absent.yaml"])).code, 2);
    const nobody = await cli(b, ["export", "--tenant", "nobody"]);
    assert.equal(nobody.code, 2);
    assert.match(nobody.stderr, /no user named "nobody"/);
    const typo = await cli(b, ["apply", "er.yaml", "--dryrun"]);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /unknown flag --dryrun for config; did you mean --dry-run\?/);
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
});
