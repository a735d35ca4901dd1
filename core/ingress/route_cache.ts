/**
 * Ingest looks a route up on every request, so it is cached with everything prepared that a
 * request needs: the opened and parsed signature config and the response template. Entries
 * live `ttlMs` (other nodes' edits show up within it) and are dropped at once on local edits.
 */
import { DEFAULT_WEBHOOK_PATH, type Route } from "../model/route.ts";
import { responseTemplateSchema } from "./response_template.ts";
import type { IngressRoute } from "./ingress.ts";
import type { Sealer } from "../ports.ts";
import type { Store } from "../store.ts";
import { openSecrets } from "../model/secret_fields.ts";
import { parseSignatureConfig, type SignatureConfig } from "../verify/signature_config.ts";

/** A route as ingress needs it, with the stored route beside it for planning. */
export interface PreparedRoute extends IngressRoute {
  route: Route;
}

export interface RouteCache {
  get(endpoint: string): Promise<PreparedRoute | null>;
  invalidate(endpointOrId?: string): void;
}

export function createRouteCache(
  store: Store,
  sealer: Sealer,
  opts: { ttlMs?: number; now?: () => number } = {},
): RouteCache {
  const ttl = opts.ttlMs ?? 5000;
  const now = opts.now ?? Date.now;
  const entries = new Map<string, { at: number; value: Promise<PreparedRoute | null> }>();

  async function load(endpoint: string): Promise<PreparedRoute | null> {
    const route = endpoint === DEFAULT_WEBHOOK_PATH
      ? await findDefaultRoute(store)
      : await store.getRouteByEndpoint(endpoint);
    if (!route) return null;
    let signature: SignatureConfig | null = null;
    const sc = route.spec.signature_config;
    if (sc) signature = parseSignatureConfig(await openSecrets(sc, sealer));
    const tpl = route.spec.response ? responseTemplateSchema.safeParse(route.spec.response) : null;
    return {
      id: route.id,
      owner: route.owner,
      version: route.version,
      active: route.active,
      method: route.method,
      limits: route.spec.limits,
      signature,
      response: tpl?.success ? tpl.data : null,
      route,
    };
  }

  return {
    get(endpoint) {
      const t = now();
      const hit = entries.get(endpoint);
      if (hit && t - hit.at < ttl) return hit.value;
      const value = load(endpoint);
      entries.set(endpoint, { at: t, value });
      // A failed load must not be cached: the next request tries again.
      value.catch(() => entries.delete(endpoint));
      if (entries.size > 50_000) entries.delete(entries.keys().next().value!);
      return value;
    },
    invalidate(key) {
      if (!key) return entries.clear();
      // Any route change may make another route the default, or none.
      entries.delete(DEFAULT_WEBHOOK_PATH);
      if (entries.delete(key)) return;
      for (const [k, v] of entries) {
        v.value.then((p) => {
          if (p?.id === key) entries.delete(k);
        }, () => {});
      }
    },
  };
}

/** The route marked `default: true` (at most one: the API refuses a second), or null. */
export async function findDefaultRoute(store: Store): Promise<Route | null> {
  return (await store.allRoutes()).find((r) => r.spec.default === true) ?? null;
}
