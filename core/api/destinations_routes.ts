/** GET|POST /api/destinations, GET|PUT|DELETE /api/destinations/{id}; secrets sealed, masked. */
import { createRoute } from "@hono/zod-openapi";
import { notFound } from "./errors.ts";
import { body, doc, errors, idParam, security } from "./openapi_helpers.ts";
import { Deleted, DestinationOut, pageOf, TypeList } from "./response_schemas.ts";
import type { Mount } from "./env.ts";
import type { ConfigDeps } from "../app_deps.ts";
import { type Destination, type DestinationBody, destinationBody } from "../model/destination.ts";
import { pageQuery } from "../model/page.ts";
import type { Role } from "../model/user.ts";
import { newId } from "../model/ids.ts";
import { maskSecrets } from "../model/secret_fields.ts";
import { checkedConfig } from "./typed_config.ts";
import { registerConfigSchemas, typeList } from "./config_schemas.ts";

/** The destination as answers show it: secrets masked (an update may echo the masks back). */
export function presentDestination(d: Destination) {
  return {
    id: d.id,
    name: d.name,
    type: d.type,
    config: maskSecrets(d.config),
    retry: d.retry ?? null,
    active: d.active,
    owner: d.owner,
    created_at: new Date(d.createdAt).toISOString(),
    updated_at: new Date(d.updatedAt).toISOString(),
  };
}

/** Validates the config with the type's own schema and the address guard, seals its secrets. */
export function sealedConfig(
  deps: ConfigDeps,
  role: Role,
  b: DestinationBody,
  stored?: Destination,
) {
  return checkedConfig(deps, deps.publishers, deps.tenantPublishers, {
    kind: "destination",
    type: b.type,
    config: b.config,
    stored: stored?.config,
    tenant: role !== "admin",
  });
}

export const mountDestinations: Mount = (app, deps) => {
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
      responses: { 200: doc(TypeList) },
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
      responses: { 200: doc(pageOf(DestinationOut, "DestinationPage")) },
    }),
    async (c) => {
      const page = await deps.store.listDestinations(c.get("scope"), c.req.valid("query"));
      return c.json({
        ...page,
        items: page.items.map((d) => presentDestination(d)),
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
      responses: { 201: doc(DestinationOut), 400: errors[400] },
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
      return c.json(presentDestination(d), 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/destinations/{id}",
      tags: ["destinations"],
      security,
      request: { params: idParam },
      responses: { 200: doc(DestinationOut), 404: errors[404] },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const d = await deps.store.getDestination(c.get("scope"), id);
      if (!d) throw notFound("destination", id);
      return c.json(presentDestination(d), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "put",
      path: "/api/destinations/{id}",
      tags: ["destinations"],
      security,
      request: { params: idParam, ...body(requestBody) },
      responses: { 200: doc(DestinationOut), 400: errors[400], 404: errors[404] },
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
      return c.json(presentDestination(d), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/api/destinations/{id}",
      tags: ["destinations"],
      security,
      request: { params: idParam },
      responses: { 200: doc(Deleted), 404: errors[404] },
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
