/** GET|POST /api/destinations, GET|PUT|DELETE /api/destinations/{id}; secrets sealed, masked. */
import { createRoute, z } from "@hono/zod-openapi";
import { ApiError, describeConfigError, notFound } from "./errors.ts";
import { Any, body, errors, idParam, json, security } from "./openapi_helpers.ts";
import type { Mount } from "./env.ts";
import type { AppDeps } from "../app_deps.ts";
import type { Sealer } from "../ports.ts";
import { type Destination, type DestinationBody, destinationBody } from "../model/destination.ts";
import { pageQuery } from "../model/page.ts";
import type { Role } from "../model/user.ts";
import { newId } from "../model/ids.ts";
import { findSecretPaths } from "../model/secret_fields.ts";
import { keepMaskedPaths, maskPaths, openPaths, sealPaths } from "../crypto/seal_fields.ts";
import { registerConfigSchemas, typeList } from "./config_schemas.ts";

/** Paths of every sealed string: a sealed URL no longer looks like a URL with a password. */
function sealedPaths(
  v: unknown,
  sealer: Sealer,
  path: (string | number)[] = [],
): (string | number)[][] {
  if (typeof v === "string") return sealer.isSealed(v) ? [path] : [];
  if (!v || typeof v !== "object") return [];
  return Object.entries(v).flatMap(([k, x]) =>
    sealedPaths(x, sealer, [...path, Array.isArray(v) ? Number(k) : k])
  );
}

const openConfig = (config: Record<string, unknown>, sealer: Sealer) =>
  openPaths(config, sealedPaths(config, sealer), sealer);

/** Masks the opened secrets, so the mask is the one an update may echo back (keepMaskedPaths). */
export async function presentDestination(d: Destination, sealer: Sealer) {
  const open = await openConfig(d.config, sealer);
  return {
    id: d.id,
    name: d.name,
    type: d.type,
    config: maskPaths(open, findSecretPaths(open)),
    retry: d.retry ?? null,
    active: d.active,
    owner: d.owner,
    created_at: new Date(d.createdAt).toISOString(),
    updated_at: new Date(d.updatedAt).toISOString(),
  };
}

/** Validates the config with the type's own schema, then seals its secrets. */
async function sealedConfig(
  deps: AppDeps,
  role: Role,
  b: DestinationBody,
  stored?: Destination,
) {
  let config = b.config;
  if (stored) {
    const open = await openConfig(stored.config, deps.sealer);
    try {
      // the stored secret paths too: a masked URL no longer looks like one with a password
      config = keepMaskedPaths(config, open, [
        ...findSecretPaths(config),
        ...findSecretPaths(open),
      ]);
    } catch (e) {
      throw new ApiError(400, "invalid_body", `config.${(e as Error).message}`);
    }
  }
  const factory = (role !== "admin" ? deps.tenantPublishers?.[b.type] : undefined) ??
    deps.publishers[b.type];
  if (!factory) {
    throw new ApiError(400, "invalid_body", `type: ${b.type} is not available on this node`);
  }
  try {
    factory.parseConfig(deps.configDefaults?.(b.type, config) ?? config);
  } catch (e) {
    throw new ApiError(400, "invalid_body", describeConfigError(e));
  }
  return await sealPaths(config, findSecretPaths(config), deps.sealer);
}

export const mountDestinations: Mount = (app, deps) => {
  const Dest = Any.openapi("Destination");
  const requestBody = destinationBody.openapi("DestinationRequest", {
    oneOf: registerConfigSchemas(app, "DestinationConfig", deps.publishers),
  } as never);

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/destinations/types",
      tags: ["destinations"],
      summary: "Destination types this node delivers to, each with its config's JSON Schema",
      security,
      responses: { 200: json(Any) },
    }),
    (c) => c.json(typeList(deps.publishers), 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/destinations",
      tags: ["destinations"],
      security,
      request: { query: pageQuery },
      responses: { 200: json(Any) },
    }),
    async (c) => {
      const page = await deps.store.listDestinations(c.get("scope"), c.req.valid("query"));
      return c.json({
        ...page,
        items: await Promise.all(page.items.map((d) => presentDestination(d, deps.sealer))),
      }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/destinations",
      tags: ["destinations"],
      security,
      request: body(requestBody),
      responses: { 201: json(Dest), 400: errors[400] },
    }),
    async (c) => {
      const b = c.req.valid("json");
      const now = deps.clock.now();
      const d: Destination = {
        id: newId("dest"),
        owner: c.get("scope").userId,
        name: b.name,
        type: b.type,
        config: await sealedConfig(deps, c.get("scope").role, b),
        retry: b.retry,
        active: b.active,
        createdAt: now,
        updatedAt: now,
      };
      await deps.store.createDestination(d);
      return c.json(await presentDestination(d, deps.sealer), 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/destinations/{id}",
      tags: ["destinations"],
      security,
      request: { params: idParam },
      responses: { 200: json(Dest), 404: errors[404] },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const d = await deps.store.getDestination(c.get("scope"), id);
      if (!d) throw notFound("destination", id);
      return c.json(await presentDestination(d, deps.sealer), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "put",
      path: "/api/destinations/{id}",
      tags: ["destinations"],
      security,
      request: { params: idParam, ...body(requestBody) },
      responses: { 200: json(Dest), 400: errors[400], 404: errors[404] },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const scope = c.get("scope");
      const stored = await deps.store.getDestination(scope, id);
      if (!stored) throw notFound("destination", id);
      const b = c.req.valid("json");
      const d: Destination = {
        ...stored,
        name: b.name,
        type: b.type,
        config: await sealedConfig(deps, scope.role, b, stored),
        retry: b.retry,
        active: b.active,
        updatedAt: Math.max(deps.clock.now(), stored.updatedAt + 1),
      };
      if (!(await deps.store.updateDestination(scope, d))) throw notFound("destination", id);
      deps.changed("destination", id);
      return c.json(await presentDestination(d, deps.sealer), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/api/destinations/{id}",
      tags: ["destinations"],
      security,
      request: { params: idParam },
      responses: { 200: json(z.object({ deleted: z.boolean() })), 404: errors[404] },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      if (!(await deps.store.deleteDestination(c.get("scope"), id))) {
        throw notFound("destination", id);
      }
      deps.changed("destination", id);
      return c.json({ deleted: true }, 200);
    },
  );
};
