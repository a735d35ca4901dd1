/** The node settings (/health and /metrics: health_routes.ts). */
import { createRoute } from "@hono/zod-openapi";
import { ApiError } from "./errors.ts";
import { Any, body, errors, json, security } from "./openapi_helpers.ts";
import type { Mount } from "./env.ts";

import { readSettings, settingsBody } from "../model/settings.ts";

export { settingsBody } from "../model/settings.ts";

const adminsOnly = (role: string) => {
  if (role !== "admin") throw new ApiError(403, "forbidden", "admins only");
};

export const mountSettings: Mount = (app, deps) => {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/settings",
      tags: ["system"],
      summary: "Node settings (admins only: they name the internal hosts tenants may reach)",
      security,
      responses: { 200: json(settingsBody), 403: errors[403] },
    }),
    async (c) => {
      adminsOnly(c.get("scope").role);
      return c.json(readSettings(await deps.store.getSettings()).settings, 200);
    },
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
      adminsOnly(c.get("scope").role);
      // Validated by the parsers that apply each value (settingsBody), so nothing stored
      // here can fail later; the body validator has answered 400 naming the key otherwise.
      const patch = c.req.valid("json");
      const saved = readSettings(await deps.store.setSettings(patch)).settings;
      if (patch.ingest_rate_per_second !== undefined) {
        deps.ingest.globalRatePerSecond = patch.ingest_rate_per_second;
      }
      if (patch.ingest_burst !== undefined) deps.ingest.globalBurst = patch.ingest_burst;
      deps.settingsChanged?.(saved);
      return c.json(saved, 200);
    },
  );
};
