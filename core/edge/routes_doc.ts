/**
 * The routes an edge serves, as the full node publishes them at `GET /edge/v1/routes`: every
 * active route with what ingress needs (method, limits, opened signature config, response
 * template) and the node's default body limit. `version` is a hash of that content, used as
 * the ETag, so an edge whose copy is current gets a 304. The document travels sealed (it
 * holds signature secrets; see hop.ts) and the edge keeps it sealed at rest.
 */
import { z } from "zod";
import type { Sealer } from "../ports.ts";
import type { Store } from "../store.ts";
import { openSecrets } from "../model/secret_fields.ts";
import { encodeHex } from "../crypto/encoding.ts";

const limitsSchema = z.strictObject({
  max_body_bytes: z.number().int().min(1).optional(),
  rate_per_second: z.number().positive().optional(),
  burst: z.number().int().min(1).optional(),
});

export const edgeRouteSchema = z.strictObject({
  id: z.string().min(1).max(64),
  owner: z.string().min(1).max(64),
  version: z.number().int(),
  endpoint: z.string().startsWith("/webhook/").max(512),
  method: z.string().min(1).max(16),
  limits: limitsSchema.optional(),
  signature_config: z.record(z.string(), z.unknown()).nullable(),
  response: z.record(z.string(), z.unknown()).nullable(),
});
export type EdgeRoute = z.infer<typeof edgeRouteSchema>;

export const routesDocSchema = z.strictObject({
  version: z.string().regex(/^[0-9a-f]{64}$/),
  issued_at: z.number().int(),
  max_body_bytes: z.number().int().min(1),
  routes: z.array(edgeRouteSchema).max(100_000),
});
export type RoutesDoc = z.infer<typeof routesDocSchema>;

/** The current document, built from the store with secrets opened by the node's sealer. */
export async function buildRoutesDoc(
  store: Store,
  sealer: Sealer,
  maxBodyBytes: number,
  now: number,
): Promise<RoutesDoc> {
  const all = (await store.allRoutes()).filter((r) => r.active);
  all.sort((a, b) => (a.id < b.id ? -1 : 1));
  const routes: EdgeRoute[] = [];
  for (const r of all) {
    const sc = r.spec.signature_config;
    routes.push({
      id: r.id,
      owner: r.owner,
      version: r.version,
      endpoint: r.endpoint,
      method: r.method,
      ...(r.spec.limits ? { limits: r.spec.limits } : {}),
      signature_config: sc ? await openSecrets(sc, sealer) : null,
      response: r.spec.response ?? null,
    });
  }
  const content = JSON.stringify({ max_body_bytes: maxBodyBytes, routes });
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(content));
  return {
    version: encodeHex(new Uint8Array(digest)),
    issued_at: now,
    max_body_bytes: maxBodyBytes,
    routes,
  };
}
