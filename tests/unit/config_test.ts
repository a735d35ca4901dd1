import assert from "node:assert/strict";
import { ConfigError, flagsToEnv, loadConfig } from "../../runtimes/deno/config.ts";

/** Asserts loadConfig refuses `env` with a ConfigError whose message matches every pattern. */
function refuses(env: Record<string, string>, ...patterns: RegExp[]) {
  assert.throws(() => loadConfig(env), (e: unknown) => {
    assert.ok(e instanceof ConfigError, `a ConfigError, got ${e}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

Deno.test("config: defaults", () => {
  const c = loadConfig({}) as unknown as Record<string, unknown>;
  // a subset: other settings may join the config without breaking this test
  const want: Record<string, unknown> = {
    port: 8080,
    host: "0.0.0.0",
    databaseType: "sqlite",
    databasePath: "./data/event-router.db",
    databaseUrl: undefined,
    databaseAuthToken: undefined,
    databaseSync: "full",
    dataDir: "./data",
    jwtSecret: undefined,
    encryptionKey: undefined,
    logLevel: "info",
    redisAddress: undefined,
    rabbitmqUrl: undefined,
    allowPrivateNetworks: false,
    maxBodyBytes: 1024 * 1024,
    tokenTtlSeconds: 86400,
    retentionDays: 7,
    trustProxy: false,
    nodeId: undefined,
  };
  for (const [k, v] of Object.entries(want)) assert.deepEqual(c[k], v, k);
  // empty values count as unset
  assert.deepEqual(loadConfig({ PORT: "", JWT_SECRET: "", LOG_LEVEL: "" }), loadConfig({}));
});

Deno.test("config: a short JWT_SECRET is refused, naming the variable and the rule", () => {
  refuses({ JWT_SECRET: "0123456789" }, /JWT_SECRET/, /at least 32 characters/, /10/);
  const ok = "x".repeat(32);
  assert.equal(loadConfig({ JWT_SECRET: ok }).jwtSecret, ok);
});

Deno.test("config: a short EDGE_SECRET is refused; unset leaves the edge endpoints off", () => {
  refuses({ EDGE_SECRET: "short-secret" }, /EDGE_SECRET/, /at least 32 characters/, /12/);
  const ok = "e".repeat(32);
  assert.equal(loadConfig({ EDGE_SECRET: ok }).edgeSecret, ok);
  assert.equal(loadConfig({}).edgeSecret, undefined);
});

Deno.test("config: integers are checked by name and range", () => {
  refuses({ PORT: "abc" }, /^PORT=abc is invalid/, /integer from 0 to 65535/);
  refuses({ PORT: "70000" }, /PORT=70000/);
  refuses({ PORT: "-1" }, /PORT=-1/);
  refuses({ PORT: "80.5" }, /PORT/);
  refuses({ MAX_BODY_BYTES: "0" }, /MAX_BODY_BYTES=0/);
  refuses({ TOKEN_TTL_SECONDS: "10" }, /TOKEN_TTL_SECONDS/, /from 60/);
  refuses({ RETENTION_DAYS: "many" }, /RETENTION_DAYS/);
  const c = loadConfig({ PORT: "9000", MAX_BODY_BYTES: "2048", RETENTION_DAYS: "30" });
  assert.equal(c.port, 9000);
  assert.equal(c.maxBodyBytes, 2048);
  assert.equal(c.retentionDays, 30);
  assert.equal(loadConfig({ PORT: "0" }).port, 0, "0 asks for any free port");
});

Deno.test("config: booleans and enumerations", () => {
  for (const v of ["true", "1", "yes", "TRUE"]) {
    assert.equal(loadConfig({ ALLOW_PRIVATE_NETWORKS: v }).allowPrivateNetworks, true, v);
  }
  for (const v of ["false", "0", "no"]) {
    assert.equal(loadConfig({ TRUST_PROXY: v }).trustProxy, false, v);
  }
  refuses({ ALLOW_PRIVATE_NETWORKS: "maybe" }, /ALLOW_PRIVATE_NETWORKS=maybe/, /true or false/);
  refuses({ LOG_LEVEL: "verbose" }, /LOG_LEVEL=verbose/, /debug, info, warn, error/);
  assert.equal(loadConfig({ LOG_LEVEL: "DEBUG" }).logLevel, "debug");
  refuses({ DATABASE_SYNC: "off" }, /DATABASE_SYNC/);
  assert.equal(loadConfig({ DATABASE_SYNC: "normal" }).databaseSync, "normal");
});

Deno.test("config: database selection", () => {
  const l = loadConfig({ DATABASE_URL: "libsql://db.example.turso.io", DATABASE_AUTH_TOKEN: "t" });
  assert.equal(l.databaseType, "libsql");
  assert.equal(l.databaseUrl, "libsql://db.example.turso.io");
  assert.equal(l.databaseAuthToken, "t");
  assert.equal(
    loadConfig({ DATABASE_TYPE: "turso", DATABASE_URL: "https://x" }).databaseType,
    "libsql",
  );
  refuses({ DATABASE_TYPE: "libsql" }, /DATABASE_URL is required/);
  refuses({ DATABASE_TYPE: "postgres" }, /DATABASE_TYPE=postgres/);
  refuses({ DATABASE_TYPE: "mysql" }, /DATABASE_TYPE=mysql/, /sqlite/);
  // a bad URL is named without its password
  assert.throws(
    () => loadConfig({ DATABASE_URL: "mysql://user:hunter2@db/x" }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /DATABASE_URL/);
      assert.equal(e.message.includes("hunter2"), false, e.message);
      return true;
    },
  );
  assert.equal(loadConfig({ DATABASE_PATH: "/var/lib/er/main.db" }).dataDir, "/var/lib/er");
  assert.equal(loadConfig({ DATABASE_PATH: "main.db" }).dataDir, ".");
  assert.equal(loadConfig({ DATABASE_PATH: "/main.db" }).dataDir, ".");
  assert.equal(loadConfig({ DATABASE_PATH: "x/y.db", DATA_DIR: "/d" }).dataDir, "/d");
  // DATA_DIR alone puts the embedded database in it too (README: where the database lives)
  assert.equal(loadConfig({ DATA_DIR: "/d/" }).databasePath, "/d/event-router.db");
  assert.equal(loadConfig({ DATA_DIR: "/" }).databasePath, "/event-router.db");
});

Deno.test("flagsToEnv: --name value and --name=value map to env names; the rest is kept", () => {
  const { env, rest } = flagsToEnv([
    "serve",
    "--port",
    "9000",
    "--log-level=debug",
    "--allow-private-networks",
    "--help",
    "--database-path",
    "--jwt-secret=a=b=c",
    "extra",
    "--trust-proxy",
  ]);
  assert.deepEqual(env, {
    PORT: "9000",
    LOG_LEVEL: "debug",
    ALLOW_PRIVATE_NETWORKS: "true",
    DATABASE_PATH: "true",
    JWT_SECRET: "a=b=c",
    TRUST_PROXY: "true",
  });
  assert.deepEqual(rest, ["serve", "--help", "extra"]);
  assert.deepEqual(flagsToEnv([]), { env: {}, rest: [] });
  // flags that are not configuration (a subcommand's own) stay in the rest
  assert.deepEqual(flagsToEnv(["--force", "--port", "1", "--role=admin"]), {
    env: { PORT: "1" },
    rest: ["--force", "--role=admin"],
  });
  // flags override the environment
  const merged = loadConfig({ PORT: "1000", ...flagsToEnv(["--port=2000"]).env });
  assert.equal(merged.port, 2000);
  assert.throws(() => loadConfig(flagsToEnv(["--port", "abc"]).env), /PORT=abc/);
});
