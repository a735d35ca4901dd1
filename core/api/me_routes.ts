/** GET /api/me: who the token belongs to (the admin pages' header and navigation). */
import { createRoute } from "@hono/zod-openapi";
import { ApiError } from "./errors.ts";
import { doc, errors, security } from "./openapi_helpers.ts";
import { UserOut } from "./response_schemas.ts";
import type { Mount } from "./env.ts";
import { publicUser } from "../model/user.ts";

export const mountMe: Mount = (app, deps) => {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/me",
      tags: ["auth"],
      summary: "The signed-in user (also before the first password change)",
      security,
      responses: { 200: doc(UserOut), 401: errors[401] },
    }),
    async (c) => {
      const u = await deps.store.getUser(c.get("scope").userId);
      if (!u) throw new ApiError(401, "unauthorized", "the token's user no longer exists");
      return c.json(publicUser(u), 200);
    },
  );
};
