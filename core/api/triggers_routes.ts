/**
 * GET|POST /api/triggers, GET|PUT|DELETE /api/triggers/{id}, POST /api/triggers/{id}/run,
 * GET /api/triggers/types. Configs are checked by the type's schema from the injected
 * registry; secrets are sealed by the one rule and masked in answers; the route must belong to
 * the trigger's owner.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { ApiError, notFound } from "./errors.ts";
import { body, doc, errors, idParam, json, security } from "./openapi_helpers.ts";
import { Deleted, pageOf, TriggerOut, TypeList } from "./response_schemas.ts";
import type { Mount } from "./env.ts";
import type { AppDeps, ConfigDeps } from "../app_deps.ts";
import {
  type Trigger,
  type TriggerBody,
  triggerBody,
  type TriggerState,
} from "../model/trigger.ts";
import { pageQuery } from "../model/page.ts";
import { newId } from "../model/ids.ts";
import { maskSecrets } from "../model/secret_fields.ts";
import { checkedConfig, requireType } from "./typed_config.ts";
import { registerConfigSchemas, typeList } from "./config_schemas.ts";

const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());

/** Cursors are the source's own JSON (or text); a large one is summarised, not shipped. */
const CURSOR_SHOWN_BYTES = 8192;

function presentCursor(cursor: string | null | undefined): unknown {
  if (cursor == null) return null;
  if (cursor.length > CURSOR_SHOWN_BYTES) return { truncated: true, bytes: cursor.length };
  try {
    return JSON.parse(cursor);
  } catch {
    return cursor;
  }
}

export function presentTrigger(deps: AppDeps, t: Trigger, state: TriggerState | null) {
  const live = deps.triggers?.live(t.id);
  const status = live?.status ?? state?.status ?? {};
  return {
    id: t.id,
    name: t.name,
    ...(t.description ? { description: t.description } : {}),
    type: t.type,
    route_id: t.routeId,
    config: maskSecrets(t.config),
    active: t.active,
    owner: t.owner,
    status: Object.keys(status).length ? status : { state: t.active ? "starting" : "stopped" },
    last_run_at: iso(live?.lastRunAt ?? state?.lastRunAt),
    next_run_at: iso(live ? live.nextRunAt : state?.nextRunAt),
    last_error: live ? live.lastError : state?.lastError ?? null,
    events_emitted: state?.eventsEmitted ?? 0,
    cursor: presentCursor(state?.cursor),
    created_at: iso(t.createdAt),
    updated_at: iso(t.updatedAt),
  };
}

/**
 * Checks type, route and config; returns the config with its secrets sealed. `knownRoutes` are
 * ids about to be created with it (config as code), taken as present.
 */
export async function prepareTrigger(
  deps: ConfigDeps,
  owner: string,
  b: TriggerBody,
  stored?: Trigger,
  knownRoutes?: ReadonlySet<string>,
) {
  const ownerUser = await deps.store.getUser(owner);
  requireType(deps.sources, b.type);
  const route = knownRoutes?.has(b.route_id) ||
    await deps.store.getRoute({ userId: owner, role: "user" }, b.route_id);
  if (!route) throw new ApiError(400, "invalid_body", `route_id: ${b.route_id} not found`);
  return checkedConfig(deps, deps.sources, deps.tenantSources, {
    kind: "trigger",
    type: b.type,
    config: b.config,
    stored: stored?.config,
    tenant: ownerUser?.role !== "admin",
  });
}

export const mountTriggers: Mount = (app, deps) => {
  const sources = deps.sources ?? {};
  const requestBody = triggerBody.openapi("TriggerRequest", {
    oneOf: registerConfigSchemas(app, "TriggerConfig", sources),
  } as never);
  const present = async (t: Trigger) =>
    presentTrigger(deps, t, await deps.store.getTriggerState(t.id));

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/triggers/types",
      tags: ["triggers"],
      summary: "Trigger types this node runs, each with its config's JSON Schema",
      security,
      responses: { 200: doc(TypeList) },
    }),
    (c) => c.json(typeList(sources), 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/triggers",
      tags: ["triggers"],
      security,
      request: { query: pageQuery },
      responses: { 200: doc(pageOf(TriggerOut, "TriggerPage")) },
    }),
    async (c) => {
      const page = await deps.store.listTriggers(c.get("scope"), c.req.valid("query"));
      const states = await deps.store.triggerStates(page.items.map((t) => t.id));
      return c.json({
        ...page,
        items: await Promise.all(
          page.items.map((t) => presentTrigger(deps, t, states.get(t.id) ?? null)),
        ),
      }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/triggers",
      tags: ["triggers"],
      security,
      request: body(requestBody),
      responses: { 201: doc(TriggerOut), 400: errors[400] },
    }),
    async (c) => {
      const b = c.req.valid("json");
      const owner = c.get("scope").userId;
      const now = deps.clock.now();
      const t: Trigger = {
        id: newId("trigger"),
        owner,
        name: b.name,
        description: b.description ?? null,
        type: b.type,
        routeId: b.route_id,
        config: await prepareTrigger(deps, owner, b),
        active: b.active,
        createdAt: now,
        updatedAt: now,
      };
      await deps.store.createTrigger(t);
      deps.changed("trigger", t.id);
      return c.json(await presentTrigger(deps, t, null), 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/triggers/{id}",
      tags: ["triggers"],
      security,
      request: { params: idParam },
      responses: { 200: doc(TriggerOut), 404: errors[404] },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const t = await deps.store.getTrigger(c.get("scope"), id);
      if (!t) throw notFound("trigger", id);
      return c.json(await present(t), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "put",
      path: "/api/triggers/{id}",
      tags: ["triggers"],
      security,
      request: { params: idParam, ...body(requestBody) },
      responses: { 200: doc(TriggerOut), 400: errors[400], 404: errors[404] },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const scope = c.get("scope");
      const stored = await deps.store.getTrigger(scope, id);
      if (!stored) throw notFound("trigger", id);
      const b = c.req.valid("json");
      const t: Trigger = {
        ...stored,
        name: b.name,
        description: b.description ?? null,
        type: b.type,
        routeId: b.route_id,
        // The route must be the trigger owner's, also when an admin edits it.
        config: await prepareTrigger(deps, stored.owner, b, stored),
        active: b.active,
        updatedAt: Math.max(deps.clock.now(), stored.updatedAt + 1),
      };
      if (!(await deps.store.updateTrigger(scope, t))) throw notFound("trigger", id);
      // Another type's cursor and counters mean nothing to the new one.
      if (t.type !== stored.type) await deps.store.deleteTriggerState(id);
      deps.changed("trigger", id);
      return c.json(await present(t), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/api/triggers/{id}",
      tags: ["triggers"],
      security,
      request: { params: idParam },
      responses: { 200: doc(Deleted), 404: errors[404] },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      if (!(await deps.store.deleteTrigger(c.get("scope"), id))) throw notFound("trigger", id);
      deps.changed("trigger", id);
      return c.json({ deleted: true }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/triggers/{id}/run",
      tags: ["triggers"],
      summary: "Run the trigger once now (after a run in progress); answers what it emitted",
      security,
      request: { params: idParam },
      responses: {
        200: json(
          z.object({
            emitted: z.number(),
            duplicates: z.number(),
            ids: z.array(z.string()),
          }).openapi("TriggerRunResult"),
        ),
        400: errors[400],
        404: errors[404],
        409: errors[409],
        502: errors[502],
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const t = await deps.store.getTrigger(c.get("scope"), id);
      if (!t) throw notFound("trigger", id);
      if (!deps.triggers) {
        throw new ApiError(409, "not_supported", "this node runs no triggers");
      }
      try {
        const r = await deps.triggers.runNow(t);
        return c.json({ emitted: r.emitted, duplicates: r.duplicates, ids: r.ids }, 200);
      } catch (e) {
        const err = e as { status?: number; code?: string; message?: string };
        if (err.status === 400 || err.status === 409 || err.status === 502) {
          throw new ApiError(err.status, err.code ?? "run_failed", err.message ?? String(e));
        }
        throw e;
      }
    },
  );
};
