/** Admin-only user management: GET|POST /api/users, DELETE /api/users/{id}. */
import { createRoute } from "@hono/zod-openapi";
import { ApiError, notFound } from "./errors.ts";
import { body, doc, errors, idParam, security } from "./openapi_helpers.ts";
import { Deleted, pageOf, UserOut } from "./response_schemas.ts";
import type { Mount } from "./env.ts";
import { createUserBody, publicUser } from "../model/user.ts";
import { pageQuery } from "../model/page.ts";
import { newId } from "../model/ids.ts";
import { hashPassword } from "../auth/password.ts";

export const mountUsers: Mount = (app, deps) => {
  app.use("/api/users", async (c, next) => {
    if (c.get("scope").role !== "admin") throw new ApiError(403, "forbidden", "admins only");
    await next();
  });
  app.use("/api/users/*", async (c, next) => {
    if (c.get("scope").role !== "admin") throw new ApiError(403, "forbidden", "admins only");
    await next();
  });

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/users",
      tags: ["users"],
      security,
      request: { query: pageQuery },
      responses: { 200: doc(pageOf(UserOut, "UserPage")), 403: errors[403] },
    }),
    async (c) => {
      const page = await deps.store.listUsers(c.req.valid("query"));
      return c.json({ ...page, items: page.items.map(publicUser) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/users",
      tags: ["users"],
      security,
      request: body(createUserBody),
      responses: { 201: doc(UserOut), 400: errors[400], 403: errors[403], 409: errors[409] },
    }),
    async (c) => {
      const b = c.req.valid("json");
      if (await deps.store.getUserByName(b.username)) {
        throw new ApiError(409, "conflict", `username ${b.username} is taken`);
      }
      const now = deps.clock.now();
      const u = {
        id: newId("user"),
        username: b.username,
        passwordHash: await hashPassword(b.password),
        role: b.role,
        mustChangePassword: false,
        createdAt: now,
        updatedAt: now,
      };
      await deps.store.createUser(u);
      return c.json(publicUser(u), 201);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/api/users/{id}",
      tags: ["users"],
      security,
      request: { params: idParam },
      responses: { 200: doc(Deleted), 404: errors[404] },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      if (id === c.get("scope").userId) {
        throw new ApiError(400, "invalid_request", "id: an admin cannot delete itself");
      }
      if (!(await deps.store.deleteUser(id))) throw notFound("user", id);
      return c.json({ deleted: true }, 200);
    },
  );
};
