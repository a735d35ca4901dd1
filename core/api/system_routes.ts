/** /health, /metrics and the node settings. */
import { createRoute, z } from "@hono/zod-openapi";
import { ApiError } from "./errors.ts";
import { Any, body, errors, json, security } from "./openapi_helpers.ts";
import type { Mount } from "./env.ts";

/** Node-wide settings; unknown keys are refused so a typo does not silently do nothing. */
export const settingsBody = z.strictObject({
  allow_hosts: z.array(z.string().min(1).max(253)).max(1000).optional(),
  allow_cidrs: z.array(z.string().regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, "must be a CIDR")).max(1000)
    .optional(),
  retention_days: z.number().min(0.01).max(3650).optional(),
  ingest_rate_per_second: z.number().min(0).max(10_000_000).optional(),
  ingest_burst: z.number().int().min(1).max(10_000_000).optional(),
}).openapi("Settings");

export const mountHealth: Mount = (app, deps) => {
  app.get("/health", async (c) => {
    const checks: Record<string, string> = {};
    let ok = true;
    try {
      await deps.store.ping();
      checks.store = "ok";
    } catch (e) {
      ok = false;
      checks.store = `error: ${(e as Error).message}`;
    }
    for (const [name, check] of Object.entries(deps.healthChecks ?? {})) {
      const good = await check().catch(() => false);
      checks[name] = good ? "ok" : "degraded";
    }
    return c.json(
      { status: ok ? "ok" : "unavailable", version: deps.version, checks },
      ok ? 200 : 503,
    );
  });
  app.get("/metrics", async (c) => {
    const text = deps.renderMetrics ? await deps.renderMetrics() : await deps.metrics.render();
    return c.text(text, 200, { "content-type": "text/plain; version=0.0.4" });
  });
};

export const mountSettings: Mount = (app, deps) => {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/settings",
      tags: ["system"],
      security,
      responses: { 200: json(Any) },
    }),
    async (c) => c.json(await deps.store.getSettings(), 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/settings",
      tags: ["system"],
      summary: "Change node settings (admins only)",
      security,
      request: body(settingsBody),
      responses: { 200: json(Any), 400: errors[400], 403: errors[403] },
    }),
    async (c) => {
      if (c.get("scope").role !== "admin") throw new ApiError(403, "forbidden", "admins only");
      const patch = c.req.valid("json");
      const saved = await deps.store.setSettings(patch);
      if (patch.ingest_rate_per_second !== undefined) {
        deps.ingest.globalRatePerSecond = patch.ingest_rate_per_second;
      }
      if (patch.ingest_burst !== undefined) deps.ingest.globalBurst = patch.ingest_burst;
      deps.settingsChanged?.(saved);
      return c.json(saved, 200);
    },
  );
};
