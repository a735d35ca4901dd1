/**
 * Ingest looks a route up on every request, so it is cached with everything prepared that a
 * request needs: the opened and parsed signature config and the response template. Entries
 * live `ttlMs` (other nodes' edits show up within it) and are dropped at once on local edits.
 */
import type { Route } from "../model/route.ts";
import { type ResponseTemplate, responseTemplateSchema } from "./response_template.ts";
import type { Sealer } from "../ports.ts";
import type { Store } from "../store.ts";
import { openPaths } from "../crypto/seal_fields.ts";
import {
  parseSignatureConfig,
  type SignatureConfig,
  signatureSecretPaths,
} from "../verify/signature_config.ts";

export interface PreparedRoute {
  route: Route;
  signature: SignatureConfig | null;
  /** The route's response template, parsed once (validated when the route was saved). */
  response: ResponseTemplate | null;
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
    const route = await store.getRouteByEndpoint(endpoint);
    if (!route) return null;
    let signature: SignatureConfig | null = null;
    const sc = route.spec.signature_config;
    if (sc) signature = parseSignatureConfig(await openPaths(sc, signatureSecretPaths(sc), sealer));
    const tpl = route.spec.response ? responseTemplateSchema.safeParse(route.spec.response) : null;
    return { route, signature, response: tpl?.success ? tpl.data : null };
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
      if (entries.delete(key)) return;
      for (const [k, v] of entries) {
        v.value.then((p) => {
          if (p?.route.id === key) entries.delete(k);
        }, () => {});
      }
    },
  };
}
