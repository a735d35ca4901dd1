/**
 * The full node's side of the edge hop, mounted only when `EDGE_SECRET` is set (otherwise
 * these paths answer 404 like any unknown one):
 *
 * - `POST /edge/v1/events`: a signed batch of events an edge accepted. Each keeps the edge's
 *   id, goes through the same durable accept as a direct webhook (inline planning, group
 *   commit) and is answered `committed` or `duplicate`; only then may the edge delete it. A
 *   re-forwarded event is a duplicate by id, a sender's retry by its dedup key.
 * - `GET /edge/v1/routes`: the sealed routes document (routes_doc.ts), 304 for a current ETag.
 *
 * Both answers are signed too, so an edge trusts a confirmation only from the node.
 */
import type { Context } from "hono";
import type { Api } from "../api/env.ts";
import type { AppDeps } from "../app_deps.ts";
import { describeZodError, errorBody } from "../api/errors.ts";
import { BodyTooLargeError, readBodyLimited } from "../ingress/read_body.ts";
import type { RouteCache } from "../ingress/route_cache.ts";
import { acceptPlanned } from "../ingress/webhook.ts";
import { hopKey } from "./hop.ts";
import { buildRoutesDoc } from "./routes_doc.ts";
import { type BatchResult, batchSchema, fromWire, MAX_BATCH_REQUEST_BYTES } from "./wire.ts";

const EMPTY = new Uint8Array();
const enc = new TextEncoder();

export function mountEdgeEndpoints(app: Api, deps: AppDeps, routes: RouteCache) {
  const secret = deps.edge?.secret;
  if (!secret) return;
  const hop = hopKey(secret);
  const accept = acceptPlanned(deps);
  const { log, metrics } = deps;

  const refuse = (c: Context, status: number, code: string, message: string) => {
    metrics.inc("edge_requests_total", { status: String(status) });
    return c.json(errorBody(code, message), status as 400);
  };
  const signed = async (c: Context, status: number, body: string, type: string) => {
    const bytes = enc.encode(body);
    const h = await hop.sign(bytes, deps.clock.now());
    return c.body(bytes, status as 200, { ...h, "content-type": type });
  };

  app.post("/edge/v1/events", async (c) => {
    let body: Uint8Array;
    try {
      body = await readBodyLimited(c.req.raw, MAX_BATCH_REQUEST_BYTES);
    } catch (e) {
      if (e instanceof BodyTooLargeError) return refuse(c, 413, "payload_too_large", e.message);
      throw e;
    }
    const v = await hop.verify(c.req.raw.headers, body, deps.clock.now());
    if (!v.ok) {
      log.warn("edge batch refused: hop signature", { reason: v.reason });
      return refuse(c, 401, "unauthorized", "hop signature verification failed");
    }
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(body));
    } catch (e) {
      return refuse(c, 400, "invalid_json", `body is not valid JSON: ${(e as Error).message}`);
    }
    const parsed = batchSchema.safeParse(json);
    if (!parsed.success) return refuse(c, 400, "invalid_body", describeZodError(parsed.error));
    const { edge_id: edgeId, events } = parsed.data;

    const items = await Promise.all(events.map(async (w) => {
      const event = fromWire(w, edgeId);
      const prepared = await routes.get(w.path);
      // the route as the node knows it now; one deleted since the edge accepted the event is
      // stored anyway under the ids the edge had (nothing acknowledged is lost)
      const route = prepared && prepared.id === w.route_id ? prepared.route : null;
      if (route) event.tenant = route.owner;
      return { route, event };
    }));
    let outcomes;
    try {
      outcomes = await accept(items, false);
    } catch (e) {
      log.error("could not commit edge batch", { edge_id: edgeId, error: String(e) });
      return refuse(c, 503, "unavailable", "the batch could not be stored; retry later");
    }
    const results: BatchResult["results"] = outcomes.map((o, i) =>
      o.kind === "duplicate"
        ? { id: items[i].event.id, status: "duplicate", duplicate_of: o.id }
        : { id: items[i].event.id, status: "committed" }
    );
    metrics.inc("edge_events_total", { edge: edgeId }, events.length);
    metrics.inc("edge_requests_total", { status: "200" });
    return signed(c, 200, JSON.stringify({ results }), "application/json");
  });

  app.get("/edge/v1/routes", async (c) => {
    const v = await hop.verify(c.req.raw.headers, EMPTY, deps.clock.now());
    if (!v.ok) {
      log.warn("edge routes refused: hop signature", { reason: v.reason });
      return refuse(c, 401, "unauthorized", "hop signature verification failed");
    }
    const now = deps.clock.now();
    const doc = await buildRoutesDoc(deps.store, deps.sealer, deps.ingest.maxBodyBytes, now);
    const etag = `"${doc.version}"`;
    metrics.inc("edge_requests_total", { status: "200" });
    if (c.req.header("if-none-match") === etag) {
      const h = await hop.sign(EMPTY, now);
      return c.body(null, 304, { ...h, ETag: etag });
    }
    c.header("ETag", etag);
    return signed(c, 200, await hop.sealer.seal(JSON.stringify(doc)), "text/plain");
  });
}
