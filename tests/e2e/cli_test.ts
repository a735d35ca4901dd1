/**
 * The CLI's manners, through the real entry point: unknown flags, a port in use and an invalid
 * ENCRYPTION_KEY are one clear line and exit code 2 (and nothing is written), `serve --help`
 * lists every variable, and stopping `npm start` stops the router.
 */
import assert from "node:assert/strict";
import { DENO, freePort } from "../helpers/router_process.ts";
import { VARIABLES } from "../../runtimes/deno/variables.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

async function cli(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(DENO, {
    args: ["run", "-A", `${ROOT}main.ts`, ...args],
    cwd: ROOT,
    env: { LOG_LEVEL: "warn", ...env },
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

Deno.test("cli: an unknown flag names itself and the nearest valid one, exit 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const env = { DATABASE_PATH: `${dir}/data/db` };
    const r = await cli(["--prot", "9000"], env);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.stderr.trim(),
      "unknown flag --prot for serve; did you mean --port? (see event-router serve --help)",
    );
    const user = await cli(["user", "add", "bob", "--rol", "admin"], env);
    assert.equal(user.code, 2);
    assert.match(user.stderr, /unknown flag --rol for user; did you mean --role\?/);
    const far = await cli(["migrate", "--completely-different"], env);
    assert.equal(far.code, 2);
    assert.match(far.stderr, /^unknown flag --completely-different for migrate \(see/);
    // route test takes no node variables
    const route = await cli(["route", "test", "--port", "1"], env);
    assert.equal(route.code, 2);
    assert.match(route.stderr, /unknown flag --port for route/);
    assert.equal(await exists(`${dir}/data`), false, "nothing was written");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: a port in use is one line and exit 2, before anything is written", async () => {
  const dir = await Deno.makeTempDir();
  const port = freePort();
  const taken = Deno.listen({ hostname: "127.0.0.1", port });
  try {
    const r = await cli(["serve"], {
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_PATH: `${dir}/data/event-router.db`,
    });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.stderr.trim(),
      `configuration error: PORT=${port} is already in use on 127.0.0.1: stop the other process or set another PORT`,
    );
    assert.equal(await exists(`${dir}/data`), false, "no data folder, keys or database");
  } finally {
    taken.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: an invalid ENCRYPTION_KEY fails before any file is written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await cli(["serve"], {
      PORT: String(freePort()),
      HOST: "127.0.0.1",
      DATABASE_PATH: `${dir}/data/event-router.db`,
      ENCRYPTION_KEY: "not-a-key",
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr.trim(), /^configuration error: ENCRYPTION_KEY is invalid: .*64 hex/);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.equal(await exists(`${dir}/data`), false);

    // a key file that does not parse: refused before the JWT secret is generated beside it
    await Deno.mkdir(`${dir}/kept`);
    await Deno.writeTextFile(`${dir}/kept/encryption_key`, "garbage\n");
    const f = await cli(["serve"], {
      PORT: String(freePort()),
      HOST: "127.0.0.1",
      DATABASE_PATH: `${dir}/kept/event-router.db`,
    });
    assert.equal(f.code, 2, f.stderr);
    assert.match(f.stderr, /kept\/encryption_key is invalid/);
    assert.deepEqual([...Deno.readDirSync(`${dir}/kept`)].map((e) => e.name), ["encryption_key"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: serve --help lists every variable, postgres among the database types", async () => {
  const r = await cli(["serve", "--help"]);
  assert.equal(r.code, 0);
  for (const v of VARIABLES) assert.match(r.stdout, new RegExp(`^  ${v.name}\\b`, "m"), v.name);
  assert.match(r.stdout, /DATABASE_TYPE=sqlite .*postgres/);
  assert.match(r.stdout, /POSTGRES_HOST/);
});

/** Starts `npm start` on a free port, waits for /health, sends `signal` to npm itself. */
async function stopsWithNpm(signal: Deno.Signal) {
  const dir = await Deno.makeTempDir();
  const port = freePort();
  // In a session of its own, so the cleanup can end whatever npm left behind, also when the
  // test fails (the bug this guards against is exactly a router outliving npm).
  const npm = new Deno.Command("setsid", {
    args: ["npm", "start"],
    cwd: ROOT,
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_PATH: `${dir}/event-router.db`,
      LOG_LEVEL: "warn",
    },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `http://127.0.0.1:${port}/health`;
  const up = async () => {
    try {
      const r = await fetch(url);
      await r.body?.cancel();
      return true;
    } catch {
      return false;
    }
  };
  try {
    const startBy = Date.now() + 60_000;
    while (!(await up())) {
      assert.ok(Date.now() < startBy, "npm start did not serve /health within 60 s");
      await new Promise((r) => setTimeout(r, 200));
    }
    npm.kill(signal);
    const stoppedBy = Date.now() + 5000;
    while (await up()) {
      assert.ok(Date.now() < stoppedBy, `the router still serves 5 s after ${signal} to npm`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // the port is free: something else can listen on it
    Deno.listen({ hostname: "127.0.0.1", port }).close();
  } finally {
    try {
      Deno.kill(-npm.pid, "SIGKILL");
    } catch { /* all gone */ }
    await npm.status;
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("npm start: SIGTERM to npm stops the router, port free within 5 s", () =>
  stopsWithNpm("SIGTERM"));

Deno.test("npm start: SIGINT to npm stops the router, port free within 5 s", () =>
  stopsWithNpm("SIGINT"));
