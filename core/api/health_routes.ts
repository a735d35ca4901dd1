/**
 * `GET /health` (public summary; `?verbose=true` with an admin's token adds each part's
 * details) and `GET /metrics` (Prometheus). The rule for 200/503 is in `health.ts`.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { ApiError } from "./errors.ts";
import { errors, security } from "./openapi_helpers.ts";
import type { Mount } from "./env.ts";
import { requireAuth } from "./auth_routes.ts";
import { healthDetails, healthSummary } from "./health.ts";

const PartStatus = z.enum(["ok", "degraded", "unavailable"]);
const when = z.string().nullable().openapi({ format: "date-time" });

const HealthDetail = z.object({
  store: z.object({
    status: PartStatus,
    kind: z.string(),
    latency_ms: z.number().nullable(),
    error: z.string().nullable(),
  }),
  coordinator: z.object({
    status: PartStatus,
    kind: z.string(),
    latency_ms: z.number().nullable(),
    error: z.string().nullable(),
  }).optional(),
  destinations: z.array(z.object({
    id: z.string(),
    name: z.string(),
    type: z.string(),
    owner: z.string(),
    status: PartStatus,
    circuit: z.enum(["closed", "open", "half-open"]),
    pending: z.number().int(),
    retrying: z.number().int(),
    dead: z.number().int(),
    last_delivered_at: when,
    last_error: z.string().nullable(),
    last_error_at: when,
  })).optional(),
  triggers: z.array(z.object({
    id: z.string(),
    name: z.string(),
    type: z.string(),
    owner: z.string(),
    status: PartStatus,
    running_here: z.boolean(),
    node: z.string().nullable(),
    state: z.string().nullable(),
    last_run_at: when,
    next_run_at: when,
    last_error: z.string().nullable(),
  })).optional(),
});

export const HealthSchema = z.object({
  status: PartStatus.openapi({
    description: "unavailable (503): the store does not answer; degraded: a part needs attention",
  }),
  version: z.string(),
  checks: z.record(z.string(), PartStatus).openapi({
    description: "store, coordinator, publishers (broker connections), destinations, triggers",
  }),
}).extend(HealthDetail.partial().shape).openapi("Health");

export const mountHealth: Mount = (app, deps) => {
  const content = (description: string) => ({
    description,
    content: { "application/json": { schema: HealthSchema } },
  });
  app.openapi(
    createRoute({
      method: "get",
      path: "/health",
      tags: ["system"],
      summary: "Health: 503 when the store does not answer; details for admins with ?verbose=true",
      security: [{}, ...security],
      request: {
        query: z.object({ verbose: z.enum(["true", "false", "1", "0"]).optional() }),
      },
      responses: {
        200: content("The node accepts events (status ok or degraded)"),
        401: errors[401],
        403: errors[403],
        503: content("The node cannot accept events: the store does not answer"),
      },
    }),
    async (c) => {
      const verbose = ["true", "1"].includes(c.req.valid("query").verbose ?? "");
      let authed = false;
      if (verbose) {
        try {
          await requireAuth(deps)(c, () => Promise.resolve());
          authed = true;
        } catch (e) {
          // A token cannot be checked while the store is down: answer the summary, whose 503
          // says why.
          if (e instanceof ApiError) throw e;
        }
        if (authed && c.get("scope").role !== "admin") {
          throw new ApiError(403, "forbidden", "verbose health is for admins");
        }
      }
      const r = authed
        ? await healthDetails(deps, c.get("scope"))
        : { ...(await healthSummary(deps)), detail: {} };
      const body = { status: r.status, version: deps.version, checks: r.checks, ...r.detail };
      return c.json(body as z.infer<typeof HealthSchema>, r.status === "unavailable" ? 503 : 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/metrics",
      tags: ["system"],
      summary: "Prometheus metrics: process, ingest, delivery lag and backlog, attempts, triggers",
      responses: {
        200: {
          description: "Prometheus text exposition format 0.0.4",
          content: { "text/plain": { schema: z.string() } },
        },
      },
    }),
    async (c) => {
      const text = deps.renderMetrics ? await deps.renderMetrics() : await deps.metrics.render();
      return c.text(text, 200, { "content-type": "text/plain; version=0.0.4" });
    },
  );
};
