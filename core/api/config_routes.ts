/**
 * Config as code over the API: `GET /api/config/export` (YAML, or JSON with
 * `?format=json`) and `POST /api/config/apply` (the same code as `event-router config apply`,
 * core/config/apply.ts). The caller's own configuration; settings for admins only.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { ApiError } from "./errors.ts";
import { body, errors, json, security } from "./openapi_helpers.ts";
import type { Mount } from "./env.ts";
import { settingsApplied } from "./system_routes.ts";
import {
  checkConfigDocument,
  ConfigDocumentError,
  MAX_DOCUMENT_BYTES,
  parseConfigDocument,
  stringifyConfigDocument,
} from "../config/document.ts";
import { exportConfig } from "../config/export.ts";
import { applyConfig, ConfigApplyError, formatPlan } from "../config/apply.ts";

const ApplyRequest = z.strictObject({
  /** The document as YAML (or JSON) text, as `event-router config export` writes it. */
  yaml: z.string().max(MAX_DOCUMENT_BYTES).optional(),
  /** Or the document as JSON. */
  document: z.record(z.string(), z.unknown()).optional(),
  dry_run: z.boolean().default(false),
  prune: z.boolean().default(false),
}).refine((b) => (b.yaml === undefined) !== (b.document === undefined), {
  message: 'give exactly one of "yaml" and "document"',
}).openapi("ConfigApplyRequest");

const Change = z.object({
  op: z.enum(["+", "~", "-"]),
  kind: z.enum(["settings", "destination", "route", "trigger"]),
  name: z.string(),
  fields: z.array(z.string()).optional(),
}).openapi("ConfigChange");

const ApplyResult = z.object({
  applied: z.boolean().openapi({ description: "false for a dry run or when nothing changed" }),
  changes: z.array(Change),
  plan: z.string().openapi({ description: '"+ route orders" lines, or "no changes"' }),
}).openapi("ConfigApplyResult");

const ExportQuery = z.object({
  secrets: z.enum(["sealed", "env"]).default("sealed").openapi({
    description: "sealed: as stored (opens only on this node); env: ${NAME} references",
  }),
  format: z.enum(["yaml", "json"]).default("yaml"),
});

const ExportJson = z.object({
  document: z.record(z.string(), z.unknown()),
  variables: z.array(z.object({ name: z.string(), where: z.string() })),
}).openapi("ConfigExport");

export const mountConfig: Mount = (app, deps) => {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/config/export",
      tags: ["config"],
      summary: "The caller's destinations, routes, triggers (and settings for admins) as a file",
      security,
      request: { query: ExportQuery },
      responses: {
        200: {
          description: "The document (YAML by default; with format=json, JSON)",
          content: {
            "application/yaml": { schema: z.string() },
            "application/json": { schema: ExportJson },
          },
        },
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const out = await exportConfig(deps, c.get("scope"), q.secrets);
      if (q.format === "json") return c.json(out, 200);
      const header = out.variables.length
        ? `apply with these variables set: ${out.variables.map((v) => v.name).join(", ")}`
        : undefined;
      return c.text(stringifyConfigDocument(out.document, header), 200, {
        "content-type": "application/yaml; charset=utf-8",
      });
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/config/apply",
      tags: ["config"],
      summary:
        "Create or update by name what the file lists (validated whole first); prune deletes the rest",
      security,
      request: body(ApplyRequest),
      responses: { 200: json(ApplyResult), 400: errors[400] },
    }),
    async (c) => {
      const b = c.req.valid("json");
      const scope = c.get("scope");
      try {
        const doc = b.yaml !== undefined
          ? parseConfigDocument(b.yaml)
          : checkConfigDocument(b.document);
        const r = await applyConfig(deps, scope, doc, {
          dryRun: b.dry_run,
          prune: b.prune,
          // The API never reads the node's environment for a caller, and opens no sealed value
          // that is not the one stored at the same place.
          secrets: { env: null, openSealed: false },
          changed: deps.changed,
          settingsChanged: (s) => settingsApplied(deps, s),
        });
        return c.json({ ...r, plan: formatPlan(r.changes) }, 200);
      } catch (e) {
        if (e instanceof ConfigDocumentError || e instanceof ConfigApplyError) {
          throw new ApiError(400, "invalid_config", e.problems.join("; "));
        }
        throw e;
      }
    },
  );
};
