/** The node settings (/health and /metrics: health_routes.ts). */
import { createRoute } from "@hono/zod-openapi";
import { ApiError } from "./errors.ts";
import { body, errors, json, security } from "./openapi_helpers.ts";
import type { Mount } from "./env.ts";
import type { AppDeps } from "../app_deps.ts";

import { effectiveIngest, readSettings, settingsBody, settingsPatch } from "../model/settings.ts";
import { maskSecrets, sealSecrets } from "../model/secret_fields.ts";

export { settingsBody } from "../model/settings.ts";

const adminsOnly = (role: string) => {
  if (role !== "admin") throw new ApiError(403, "forbidden", "admins only");
};

/**
 * Puts saved settings into effect on this node without a restart: the ingest limits here, the
 * rest (allow lists, broker defaults, ...) through the runtime's `settingsChanged`.
 */
export function settingsApplied(deps: AppDeps, stored: Record<string, unknown>) {
  const saved = readSettings(stored).settings;
  Object.assign(deps.ingest, effectiveIngest(deps.ingestBase ?? deps.ingest, saved));
  deps.settingsChanged?.(saved);
}

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
      return c.json(maskSecrets(readSettings(await deps.store.getSettings()).settings), 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/settings",
      tags: ["system"],
      summary: "Change node settings (admins only)",
      security,
      request: body(settingsPatch),
      responses: { 200: json(settingsBody), 400: errors[400], 403: errors[403] },
    }),
    async (c) => {
      adminsOnly(c.get("scope").role);
      // Validated by the parsers that apply each value (settingsBody), so nothing stored
      // here can fail later; the body validator has answered 400 naming the key otherwise.
      const patch = c.req.valid("json");
      // Broker URLs with a password are sealed like any secret; an echoed mask keeps it.
      let sealed;
      try {
        sealed = (await sealSecrets(patch, await deps.store.getSettings(), deps.sealer)).sealed;
      } catch (e) {
        throw new ApiError(400, "invalid_body", (e as Error).message);
      }
      const saved = readSettings(await deps.store.setSettings(sealed)).settings;
      settingsApplied(deps, saved);
      return c.json(maskSecrets(saved), 200);
    },
  );
};
