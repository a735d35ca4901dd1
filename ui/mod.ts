/**
 * The admin pages and /docs, mounted on the core app by the runtime (AppDeps.ui): core/ never
 * imports ui/. `createUi` takes the files it cannot import as code (the API reference's
 * bundle, read by the runtime) and prepares every asset once.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Api } from "../core/api/env.ts";
import { errorBody } from "../core/api/errors.ts";
import { isSafeMethod, sameOrigin } from "../core/api/session_cookie.ts";
import { BUILT } from "./assets/built.ts";
import { ASSET_PREFIX, assetResponse, type AssetSource, prepareAssets } from "./server/assets.ts";
import { pageHeaders } from "./server/csp.ts";
import { page, type PageKit } from "./server/page.tsx";
import { mountSession } from "./server/session.tsx";
import { dashboard } from "./pages/dashboard.tsx";
import { routeEdit, routeNew, routesList } from "./pages/routes.tsx";
import { destinationEdit, destinationNew, destinationsList } from "./pages/destinations.tsx";
import { eventPage, eventsList } from "./pages/events.tsx";
import { triggerEdit, triggerNew, triggersList } from "./pages/triggers.tsx";
import { deadLetters } from "./pages/dead_letters.tsx";
import { liveTail, settings, users } from "./pages/admin.tsx";
import { docsHtml } from "./pages/docs.tsx";

export interface UiOptions {
  /** Files from outside the build, e.g. swagger-ui-bundle.js and swagger-ui.css. */
  extraAssets?: AssetSource[];
}

export interface Ui {
  mount(app: Api): void;
}

export async function createUi(opts: UiOptions = {}): Promise<Ui> {
  const assets = await prepareAssets([
    ...Object.entries(BUILT).map(([name, body]) => ({ name, body })),
    ...(opts.extraAssets ?? []),
  ]);
  const docs = docsHtml(assets);
  return {
    mount(app) {
      const kit: PageKit = { app, assets };
      app.get("/", (c) => c.redirect("/ui/", 302));
      app.get("/ui", (c) => c.redirect("/ui/", 302));

      app.get(`${ASSET_PREFIX}*`, (c) => {
        const a = assets.byPath(c.req.path);
        if (!a) return c.json(errorBody("not_found", `no asset ${c.req.path}`), 404);
        return assetResponse(a, c.req.header("accept-encoding"));
      });

      app.use("/ui/*", pageHeaders());
      app.use("/docs", pageHeaders());
      app.get("/docs", (c) => c.html(docs));

      // Form posts: small bodies only, and only from this origin (see session_cookie.ts).
      const limit = bodyLimit({
        maxSize: 16 * 1024,
        onError: (c) => c.text("The form is too large.", 413),
      });
      app.use("/ui/*", async (c, next) => {
        if (isSafeMethod(c.req.method)) return await next();
        if (!sameOrigin(c.req.raw)) {
          return c.text("This form must be sent from the node's own pages.", 403);
        }
        return await limit(c, next);
      });
      const ui = new Hono();
      mountSession(ui, kit);
      ui.get("/routes", page(kit, "Routes", routesList));
      ui.get("/routes/new", page(kit, "Routes", routeNew));
      ui.get("/routes/:id", page(kit, "Routes", routeEdit));
      ui.get("/destinations", page(kit, "Destinations", destinationsList));
      ui.get("/destinations/new", page(kit, "Destinations", destinationNew));
      ui.get("/destinations/:id", page(kit, "Destinations", destinationEdit));
      ui.get("/triggers", page(kit, "Triggers", triggersList));
      ui.get("/triggers/new", page(kit, "Triggers", triggerNew));
      ui.get("/triggers/:id", page(kit, "Triggers", triggerEdit));
      ui.get("/events", page(kit, "Events", eventsList));
      ui.get("/events/:id", page(kit, "Events", eventPage));
      ui.get("/dead-letters", page(kit, "Dead letters", deadLetters));
      ui.get("/live", page(kit, "Live tail", liveTail));
      ui.get("/users", page(kit, "Users", users, { admin: true }));
      ui.get("/settings", page(kit, "Settings", settings, { admin: true }));
      app.route("/ui", ui);
      // Hono's sub-app "/" would be "/ui" without the slash.
      app.get("/ui/", page(kit, "Dashboard", dashboard));
    },
  };
}
