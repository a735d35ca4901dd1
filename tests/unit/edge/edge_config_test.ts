import assert from "node:assert/strict";
import { EdgeConfigError, loadEdgeConfig } from "../../../core/edge/edge_config.ts";
import { retryDelayMs } from "../../../core/edge/forwarder.ts";

const SECRET = "x".repeat(32);

function refuses(vars: Record<string, string>, ...patterns: RegExp[]) {
  assert.throws(() => loadEdgeConfig(vars), (e: Error) => {
    assert.ok(e instanceof EdgeConfigError, String(e));
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

Deno.test("edge config: defaults, and every variable checked by name", () => {
  const c = loadEdgeConfig({ FULL_NODE_URL: "https://router.example.com/", EDGE_SECRET: SECRET });
  assert.deepEqual(c, {
    fullNodeUrl: "https://router.example.com",
    secret: SECRET,
    edgeId: "edge",
    routesRefreshMs: 30_000,
    batchSize: 100,
    retryMaxMs: 300_000,
  });
  refuses({ EDGE_SECRET: SECRET }, /FULL_NODE_URL is required/);
  refuses({ FULL_NODE_URL: "nope", EDGE_SECRET: SECRET }, /FULL_NODE_URL=nope is invalid/);
  // plain http would carry signature secrets in the clear: only on loopback
  refuses({ FULL_NODE_URL: "http://router.example.com", EDGE_SECRET: SECRET }, /must be https/);
  assert.equal(
    loadEdgeConfig({ FULL_NODE_URL: "http://127.0.0.1:8080", EDGE_SECRET: SECRET }).fullNodeUrl,
    "http://127.0.0.1:8080",
  );
  refuses(
    { FULL_NODE_URL: "https://a.b", EDGE_SECRET: "short" },
    /EDGE_SECRET/,
    /at least 32/,
    /5/,
  );
  refuses({ FULL_NODE_URL: "https://a.b", EDGE_SECRET: SECRET, EDGE_ID: "a b" }, /EDGE_ID=a b/);
  refuses(
    { FULL_NODE_URL: "https://a.b", EDGE_SECRET: SECRET, ROUTES_REFRESH_SECONDS: "0" },
    /ROUTES_REFRESH_SECONDS=0 is invalid/,
  );
});

Deno.test("edge retry delay: doubles from 1 s, capped, never zero", () => {
  assert.equal(retryDelayMs(0, 60_000, () => 1), 1000);
  assert.equal(retryDelayMs(3, 60_000, () => 1), 8000);
  assert.equal(retryDelayMs(3, 60_000, () => 0), 4000);
  assert.equal(retryDelayMs(30, 60_000, () => 1), 60_000);
  assert.equal(retryDelayMs(30, 1000, () => 0), 500);
});
