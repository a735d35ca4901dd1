/** GET|POST /api/routes, GET|PUT|DELETE /api/routes/{id}, POST /api/routes/{id}/test. */
import { createRoute, z } from "@hono/zod-openapi";
import { ApiError, describeZodError, notFound } from "./errors.ts";
import { responseTemplateSchema } from "../ingress/response_template.ts";
import { body, doc, errors, idParam, security } from "./openapi_helpers.ts";
import { Deleted, pageOf, RouteOut, RouteTestResult } from "./response_schemas.ts";
import type { Mount } from "./env.ts";
import type { AppDeps, ConfigDeps } from "../app_deps.ts";
import { type Route, type RouteBody, routeBody } from "../model/route.ts";
import type { Scope } from "../model/user.ts";
import { pageQuery } from "../model/page.ts";
import { newEndpointToken, newId } from "../model/ids.ts";
import { maskSecrets, routeSecretRoots, sealSecrets } from "../model/secret_fields.ts";
import { parseSignatureConfig } from "../verify/signature_config.ts";
import { checkLiteralAddresses } from "./address_check.ts";
import { validateRouteDefinition } from "../delivery/route_plan.ts";
import { dryRunRoute } from "../delivery/dry_run.ts";
import { findDefaultRoute } from "../ingress/route_cache.ts";

/** The route as answers show it: secrets masked (an update may echo the masks back). */
export function presentRoute(r: Route) {
  return {
    id: r.id,
    name: r.name,
    endpoint: r.endpoint,
    method: r.method,
    ...maskSecrets(r.spec, routeSecretRoots),
    active: r.active,
    owner: r.owner,
    version: r.version,
    created_at: new Date(r.createdAt).toISOString(),
    updated_at: new Date(r.updatedAt).toISOString(),
  };
}

/**
 * Checks everything a route refers to, seals its secrets and returns the stored spec.
 * `knownDestinations` are ids about to be created with it (config as code), taken as present.
 */
export async function prepareSpec(
  deps: ConfigDeps,
  scope: Scope,
  b: RouteBody,
  stored?: Route,
  knownDestinations?: ReadonlySet<string>,
) {
  const { name: _n, method: _m, active: _a, ...incoming } = b;
  let secrets;
  try {
    secrets = await sealSecrets(incoming, stored?.spec, deps.sealer, routeSecretRoots);
  } catch (e) {
    throw new ApiError(400, "invalid_body", (e as Error).message);
  }
  const spec = secrets.plain;
  if (spec.signature_config) {
    try {
      parseSignatureConfig(spec.signature_config);
    } catch (e) {
      throw new ApiError(400, "invalid_body", (e as Error).message.replace(/^invalid [^:]+: /, ""));
    }
  }
  for (const [i, d] of spec.destinations.entries()) {
    for (const key of ["destination_id", "fallback_destination_id"] as const) {
      const id = (d as Record<string, unknown>)[key];
      if (
        typeof id === "string" && !knownDestinations?.has(id) &&
        !(await deps.store.getDestination(scope, id))
      ) {
        throw new ApiError(400, "invalid_body", `destinations.${i}.${key}: ${id} not found`);
      }
    }
  }
  if (spec.response) {
    const r = responseTemplateSchema.safeParse(spec.response);
    if (!r.success) throw new ApiError(400, "invalid_body", describeZodError(r.error, "response"));
  }
  const sealed = secrets.sealed;
  if (spec.queue && spec.destinations.length === 0) {
    spec.destinations = [{ destination_id: await defaultRabbitmq(deps, scope, spec) }];
    sealed.destinations = spec.destinations;
  }
  const problem = validateRouteDefinition({ ...spec, id: stored?.id ?? "new", version: 0 });
  if (problem) throw new ApiError(400, "invalid_body", problem);
  if (scope.role !== "admin") {
    // The stages that make requests: their URLs must not name a forbidden address.
    for (const root of routeSecretRoots(spec)) {
      if (root[0] === "signature_config") continue;
      const stage = valueAt(spec, root) as { url?: unknown; auth?: unknown };
      checkLiteralAddresses(deps, { url: stage.url, auth: stage.auth }, root);
    }
  }
  return sealed;
}

function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>((n, k) => (n as Record<string | number, unknown>)?.[k], root);
}

/**
 * The seed README's shorthand: a route with `queue` (and optionally `exchange`, `routing_key`)
 * and no destinations publishes to the node's default RabbitMQ (RABBITMQ_URL). It becomes a
 * real rabbitmq destination of the owner, reused by routes with the same target, so it shows
 * up, can be inspected and has its own retries and dead letters.
 */
async function defaultRabbitmq(
  deps: ConfigDeps,
  scope: Scope,
  spec: { queue?: string; exchange?: string; routing_key?: string },
): Promise<string> {
  const config: Record<string, unknown> = { queue: spec.queue, declare: {} };
  if (spec.exchange) config.exchange = spec.exchange;
  if (spec.routing_key) config.routing_key = spec.routing_key;
  const name = `default rabbitmq: ${spec.exchange ?? ""}/${spec.routing_key ?? spec.queue}`;
  for (let offset = 0;; offset += 500) {
    const page = await deps.store.listDestinations({ userId: scope.userId, role: "user" }, {
      limit: 500,
      offset,
    });
    const hit = page.items.find((d) =>
      d.type === "rabbitmq" && d.name === name &&
      JSON.stringify(d.config) === JSON.stringify(config)
    );
    if (hit) return hit.id;
    if (page.items.length < 500) break;
  }
  const factory = deps.publishers.rabbitmq;
  if (!factory) {
    throw new ApiError(400, "invalid_body", "queue: this node has no rabbitmq destination type");
  }
  try {
    factory.parseConfig(deps.configDefaults?.("rabbitmq", config) ?? config);
  } catch (e) {
    const why = e instanceof z.ZodError ? e.issues[0]?.message : (e as Error).message;
    throw new ApiError(
      400,
      "invalid_body",
      `queue: the default RabbitMQ cannot take it (is RABBITMQ_URL set?): ${why}`,
    );
  }
  const now = deps.clock.now();
  const id = newId("dest");
  await deps.store.createDestination({
    id,
    owner: scope.userId,
    name,
    type: "rabbitmq",
    config,
    active: true,
    createdAt: now,
    updatedAt: now,
  });
  return id;
}

/**
 * `default: true` makes a route the node's `POST /webhook`: an admin's decision, and one
 * route at most, so a second one is refused naming the first rather than silently taking over.
 */
export async function checkDefault(deps: AppDeps, scope: Scope, b: RouteBody, id?: string) {
  if (b.default !== true) return;
  if (scope.role !== "admin") {
    throw new ApiError(403, "forbidden", "default: only admins may set the default route");
  }
  const current = await findDefaultRoute(deps.store);
  if (current && current.id !== id) {
    throw new ApiError(
      409,
      "conflict",
      `default: route ${current.name} (${current.id}) is the default route; set its default to false first`,
    );
  }
}

export const mountRoutes: Mount = (app, deps) => {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/routes",
      tags: ["routes"],
      security,
      request: { query: pageQuery },
      responses: { 200: doc(pageOf(RouteOut, "RoutePage")) },
    }),
    async (c) => {
      const page = await deps.store.listRoutes(c.get("scope"), c.req.valid("query"));
      return c.json({
        ...page,
        items: page.items.map((r) => presentRoute(r)),
      }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/routes",
      tags: ["routes"],
      security,
      request: body(routeBody),
      responses: { 201: doc(RouteOut), 400: errors[400], 403: errors[403], 409: errors[409] },
    }),
    async (c) => {
      const b = c.req.valid("json");
      const scope = c.get("scope");
      await checkDefault(deps, scope, b);
      const now = deps.clock.now();
      const r: Route = {
        id: newId("route"),
        owner: scope.userId,
        name: b.name,
        endpoint: `/webhook/${newEndpointToken()}`,
        method: b.method,
        spec: await prepareSpec(deps, scope, b),
        active: b.active,
        version: 1,
        createdAt: now,
        updatedAt: now,
      };
      await deps.store.createRoute(r);
      deps.changed("route", r.id);
      return c.json(presentRoute(r), 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/routes/{id}",
      tags: ["routes"],
      security,
      request: { params: idParam },
      responses: { 200: doc(RouteOut), 404: errors[404] },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const r = await deps.store.getRoute(c.get("scope"), id);
      if (!r) throw notFound("route", id);
      return c.json(presentRoute(r), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "put",
      path: "/api/routes/{id}",
      tags: ["routes"],
      security,
      request: { params: idParam, ...body(routeBody) },
      responses: {
        200: doc(RouteOut),
        400: errors[400],
        403: errors[403],
        404: errors[404],
        409: errors[409],
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const scope = c.get("scope");
      const stored = await deps.store.getRoute(scope, id);
      if (!stored) throw notFound("route", id);
      const b = c.req.valid("json");
      await checkDefault(deps, scope, b, id);
      const r: Route = {
        ...stored,
        name: b.name,
        method: b.method,
        spec: await prepareSpec(deps, scope, b, stored),
        active: b.active,
        version: stored.version + 1,
        updatedAt: deps.clock.now(),
      };
      if (!(await deps.store.updateRoute(scope, r))) throw notFound("route", id);
      deps.changed("route", id);
      return c.json(presentRoute(r), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/api/routes/{id}",
      tags: ["routes"],
      security,
      request: { params: idParam },
      responses: { 200: doc(Deleted), 404: errors[404] },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const r = await deps.store.getRoute(c.get("scope"), id);
      if (!r || !(await deps.store.deleteRoute(c.get("scope"), id))) throw notFound("route", id);
      deps.changed("route", r.endpoint);
      return c.json({ deleted: true }, 200);
    },
  );

  const TestBody = z.object({
    body: z.unknown().optional(),
    headers: z.record(z.string(), z.string()).optional(),
    query: z.string().optional(),
    method: z.string().optional(),
    event_id: z.string().optional(),
  }).openapi("RouteTestRequest");

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/routes/{id}/test",
      tags: ["routes"],
      summary: "Dry run: matched rules, each stage's output, chosen destinations; delivers nothing",
      security,
      request: { params: idParam, ...body(TestBody) },
      responses: { 200: doc(RouteTestResult), 400: errors[400], 404: errors[404] },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const scope = c.get("scope");
      const r = await deps.store.getRoute(scope, id);
      if (!r) throw notFound("route", id);
      const t = c.req.valid("json");
      let sample;
      if (t.event_id) {
        const e = await deps.store.getEvent(scope, t.event_id);
        if (!e) throw notFound("event", t.event_id);
        sample = e;
      } else {
        if (t.body === undefined) {
          throw new ApiError(400, "invalid_body", "body: give a sample body or an event_id");
        }
        sample = t;
      }
      return c.json((await dryRunRoute(deps, r, sample)) as Record<string, never>, 200);
    },
  );
};
