/**
 * createApp(deps) -> Hono: the one thing runtimes import. Web APIs only; everything that
 * touches the outside world arrives in `deps`.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { secureHeaders } from "hono/secure-headers";
import { HTTPException } from "hono/http-exception";
import type { AppDeps } from "./app_deps.ts";
import type { AppEnv } from "./api/env.ts";
import { ApiError, describeZodError, errorBody, sendError } from "./api/errors.ts";
import { mountAuth, requireAuth } from "./api/auth_routes.ts";
import { adminBodyLimit } from "./api/body_limit.ts";
import { mountUsers } from "./api/users_routes.ts";
import { mountDestinations } from "./api/destinations_routes.ts";
import { mountRoutes } from "./api/routes_routes.ts";
import { mountEvents } from "./api/events_routes.ts";
import { mountStats } from "./api/stats_routes.ts";
import { mountMe } from "./api/me_routes.ts";
import { mountTriggers } from "./api/triggers_routes.ts";
import { mountSettings } from "./api/system_routes.ts";
import { mountHealth } from "./api/health_routes.ts";
import { mountConfig } from "./api/config_routes.ts";
import { describeRouteParts } from "./api/route_docs.ts";
import { allowedMethods, documentCommonAnswers } from "./api/common_answers.ts";
import { createRouteCache, type RouteCache } from "./ingress/route_cache.ts";
import { webhookHandler } from "./ingress/webhook.ts";
import type { ConnInfo } from "./ingress/ingress.ts";
import { mountEdgeEndpoints } from "./edge/node_endpoints.ts";
import { DEFAULT_WEBHOOK_PATH } from "./model/route.ts";

export interface CreatedApp {
  app: OpenAPIHono<AppEnv>;
  routes: RouteCache;
  /** The webhook endpoint without Hono in front (the runtime's short way for /webhook/*):
   * the same answers as the app's, X-Request-Id included. */
  webhook(req: Request, conn?: ConnInfo): Promise<Response>;
}

/** The sender's X-Request-Id when it is a sane token, else a new one. */
function requestId(incoming: string | null | undefined): string {
  return incoming && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : crypto.randomUUID();
}

export function createApp(deps: AppDeps): CreatedApp {
  const routes = createRouteCache(deps.store, deps.sealer);
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        const where = result.target === "json" ? "" : result.target;
        return c.json(errorBody("invalid_body", describeZodError(result.error, where)), 400);
      }
    },
  });
  const changed = deps.changed;
  deps = {
    ...deps,
    ingestBase: deps.ingestBase ?? { ...deps.ingest },
    changed(kind, id) {
      if (kind === "route") routes.invalidate(id);
      changed(kind, id);
    },
  };

  app.use("*", async (c, next) => {
    const id = requestId(c.req.header("x-request-id"));
    c.set("requestId", id);
    c.header("X-Request-Id", id);
    const start = performance.now();
    await next();
    // Webhook traffic is counted by metrics, not logged line by line: at 20k/s logs would
    // cost more than the work.
    if (!c.req.path.startsWith("/webhook/")) {
      deps.log.info("request", {
        request_id: id,
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round((performance.now() - start) * 10) / 10,
      });
    }
  });

  app.onError((err, c) => {
    if (err instanceof ApiError) return sendError(c, err);
    if (err instanceof SyntaxError && c.req.header("content-type")?.includes("json")) {
      return c.json(errorBody("invalid_json", `body is not valid JSON: ${err.message}`), 400);
    }
    // Hono's own 4xx, e.g. the validator's "Malformed JSON in request body"
    if (err instanceof HTTPException && err.status >= 400 && err.status < 500) {
      const code = /json/i.test(err.message) ? "invalid_json" : "bad_request";
      return c.json(errorBody(code, err.message), err.status);
    }
    deps.log.error("unhandled error", {
      request_id: c.get("requestId"),
      path: c.req.path,
      error: String(err),
      stack: (err as Error).stack,
    });
    return c.json(errorBody("internal", "internal error"), 500);
  });
  // The document is made once, on first use: the routes are all mounted by then.
  let openapi: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  const openapiDocument = () =>
    openapi ??= documentCommonAnswers(describeRouteParts(
      app.getOpenAPI31Document({
        openapi: "3.1.0",
        info: {
          title: "Event Router API",
          version: deps.version,
          description: "Receive, route, reshape and deliver events at least once.",
        },
      }),
      ["RouteRequest", "Route"],
    ));
  app.notFound((c) => {
    // A documented path asked with another method: 405 naming the ones it takes.
    const allowed = allowedMethods(openapiDocument(), c.req.path);
    if (allowed.length > 0) {
      c.header("Allow", allowed.join(", "));
      return c.json(
        errorBody(
          "method_not_allowed",
          `${c.req.method} ${c.req.path}: method not allowed (allowed: ${allowed.join(", ")})`,
        ),
        405,
      );
    }
    return c.json(errorBody("not_found", `no such endpoint ${c.req.method} ${c.req.path}`), 404);
  });

  // Browser-facing hardening on the admin surface (not on webhooks: senders are machines, and
  // the hot path pays for every header).
  for (
    const path of ["/api/*", "/login", "/logout", "/change-password", "/openapi.json"]
  ) {
    app.use(path, secureHeaders());
  }
  // Body limits on everything a person or admin client sends (webhooks have their own).
  const limit = adminBodyLimit();
  for (const path of ["/api/*", "/login", "/logout", "/change-password", "/ui/*"]) {
    app.use(path, limit);
  }
  mountHealth(app, deps);
  const webhook = webhookHandler(deps, routes);
  app.all("/webhook/:token", async (c) => {
    const res = await webhook(c.req.raw, c.env as ConnInfo);
    // the ingress answers with its own Response, which Hono's c.header() does not reach
    res.headers.set("X-Request-Id", c.get("requestId"));
    return res;
  });
  // The seed's default endpoint: the route an admin marked `default: true`.
  app.all(DEFAULT_WEBHOOK_PATH, async (c) => {
    const route = await routes.get(DEFAULT_WEBHOOK_PATH).catch(() => undefined);
    if (route === null || route?.active === false) {
      return c.json(
        errorBody(
          "no_default_route",
          route === null
            ? 'POST /webhook has no default route: an admin marks one route with "default": true (PUT /api/routes/{id})'
            : `POST /webhook: the default route ${route.route.name} (${route.id}) is not active`,
        ),
        404,
      );
    }
    const res = await webhook(c.req.raw, c.env as ConnInfo);
    res.headers.set("X-Request-Id", c.get("requestId"));
    return res;
  });
  mountEdgeEndpoints(app, deps, routes);
  const direct = async (req: Request, conn?: ConnInfo) => {
    const id = requestId(req.headers.get("x-request-id"));
    let res: Response;
    try {
      res = await webhook(req, conn);
    } catch (err) {
      deps.log.error("unhandled error", {
        request_id: id,
        path: "/webhook/*",
        error: String(err),
        stack: (err as Error).stack,
      });
      res = Response.json(errorBody("internal", "internal error"), { status: 500 });
    }
    res.headers.set("X-Request-Id", id);
    return res;
  };
  mountAuth(app, deps);
  app.use("/api/*", requireAuth(deps));
  mountMe(app, deps);
  mountUsers(app, deps);
  mountDestinations(app, deps);
  mountRoutes(app, deps);
  mountTriggers(app, deps);
  mountEvents(app, deps);
  mountStats(app, deps);
  mountSettings(app, deps);
  mountConfig(app, deps);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
  });
  app.get("/openapi.json", (c) => c.json(openapiDocument() as unknown as Record<string, unknown>));
  // The pages and the API reference (/docs) come from ui/, with their own assets and headers.
  deps.ui?.mount(app);
  return { app, routes, webhook: direct };
}
