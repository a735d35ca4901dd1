/**
 * `ANY /webhook/wh_...`: route lookup -> method -> body size limit (413) -> rate limits (429)
 * -> signature (401) -> durable accept (group commit) -> 202 with the event id, 200 for a
 * duplicate, or the route's response template. Nothing is acknowledged before it is committed.
 */
import type { Context } from "hono";
import type { AppDeps } from "../app_deps.ts";
import type { Envelope } from "../ports.ts";
import type { Route } from "../model/route.ts";
import { newId } from "../model/ids.ts";
import { errorBody } from "../api/errors.ts";
import { verifyRequest } from "../verify/mod.ts";
import { BodyTooLargeError, readBodyLimited } from "./read_body.ts";
import type { RouteCache } from "./route_cache.ts";
import { clientIp } from "./client_ip.ts";
import { createRateLimiter } from "./rate_limit.ts";
import { renderResponse } from "./response_template.ts";

/** Headers never stored with an event: credentials of the sender's own session. */
const DROP_HEADERS = new Set(["authorization", "cookie", "proxy-authorization"]);

export function webhookHandler(deps: AppDeps, routes: RouteCache) {
  // The node-wide limit follows the settings: rebuilt when POST /api/settings changes it.
  let globalKey = "";
  let global: ReturnType<typeof createRateLimiter> | null = null;
  const globalLimiter = () => {
    const { globalRatePerSecond: rate, globalBurst: burst } = deps.ingest;
    const key = `${rate}/${burst}`;
    if (key !== globalKey) {
      globalKey = key;
      global = rate > 0 ? createRateLimiter({ rate, burst: Math.max(1, burst) }) : null;
    }
    return global;
  };
  const perRoute = new Map<
    string,
    { key: string; limiter: ReturnType<typeof createRateLimiter> }
  >();
  const { metrics, log } = deps;

  const fail = (
    c: Context,
    status: number,
    code: string,
    message: string,
    h?: Record<string, string>,
  ) => {
    metrics.inc("webhook_requests_total", { status: String(status) });
    if (h) { for (const [k, v] of Object.entries(h)) c.header(k, v); }
    return c.json(errorBody(code, message), status as 400);
  };

  return async (c: Context) => {
    const url = new URL(c.req.url);
    const prepared = await routes.get(url.pathname);
    if (!prepared || !prepared.route.active) {
      return fail(c, 404, "not_found", "no active webhook at this address");
    }
    const { route, signature } = prepared;
    const method = c.req.method;
    if (route.method !== "ANY" && route.method !== method) {
      return fail(c, 405, "method_not_allowed", `this webhook accepts ${route.method}`, {
        Allow: route.method,
      });
    }
    const limits = route.spec.limits;
    let body: Uint8Array;
    try {
      body = await readBodyLimited(c.req.raw, limits?.max_body_bytes ?? deps.ingest.maxBodyBytes);
    } catch (e) {
      if (e instanceof BodyTooLargeError) {
        return fail(c, 413, "payload_too_large", e.message);
      }
      throw e;
    }

    const limiter = globalLimiter();
    if (limiter) {
      const g = limiter.take("global");
      if (!g.ok) {
        return fail(c, 429, "rate_limited", "the node is over its ingest rate", {
          "Retry-After": String(g.retryAfterSeconds),
        });
      }
    }
    if (limits?.rate_per_second) {
      const key = `${route.id}:${route.version}`;
      let rl = perRoute.get(route.id);
      if (!rl || rl.key !== key) {
        rl = {
          key,
          limiter: createRateLimiter({
            rate: limits.rate_per_second,
            burst: limits.burst ?? Math.max(1, Math.ceil(limits.rate_per_second)),
          }),
        };
        perRoute.set(route.id, rl);
      }
      const r = rl.limiter.take(route.id);
      if (!r.ok) {
        return fail(c, 429, "rate_limited", "this webhook is over its rate limit", {
          "Retry-After": String(r.retryAfterSeconds),
        });
      }
    }

    const now = deps.clock.now();
    let dedupKey: string | null = null;
    if (signature) {
      const v = await verifyRequest(signature, {
        method,
        url: c.req.url,
        headers: c.req.raw.headers,
        rawBody: body,
        now,
      });
      if (!v.ok) {
        metrics.inc("webhook_verification_failures_total", { route: route.id, reason: v.reason });
        log.warn("webhook verification failed", { route_id: route.id, reason: v.reason });
        return fail(c, 401, "unauthorized", "signature verification failed");
      }
      dedupKey = v.dedupId ?? null;
    }

    const headers: Record<string, string> = {};
    c.req.raw.headers.forEach((v, k) => {
      if (!DROP_HEADERS.has(k)) headers[k] = v;
    });
    const event: Envelope = {
      id: newId("evt"),
      tenant: route.owner,
      routeId: route.id,
      source: "webhook",
      receivedAt: now,
      method,
      path: url.pathname,
      query: url.search.slice(1),
      ip: clientIp(c.req.raw, c.env),
      headers,
      body,
      dedupKey,
    };
    if (deps.planner.inline?.(route)) {
      const rejected = await planInline(deps, route, event);
      if (rejected) {
        // Refused by the route's own validation: the sender learns why, nothing is stored.
        return fail(c, 422, "rejected", rejected);
      }
    }
    let duplicateOf: string | undefined;
    try {
      duplicateOf = (await deps.accept([event])).duplicates.get(event.id);
    } catch (e) {
      log.error("could not commit webhook", { route_id: route.id, error: String(e) });
      return fail(c, 503, "unavailable", "the event could not be stored; retry later", {
        "Retry-After": "5",
      });
    }
    if (duplicateOf) {
      metrics.inc("webhook_requests_total", { status: "200" });
      return c.json({ id: duplicateOf, duplicate: true }, 200);
    }
    metrics.inc("webhook_requests_total", { status: "202" });
    if (prepared.response) {
      const r = renderResponse(prepared.response, {
        bodyJson: parseJson(body, headers["content-type"]),
        headers,
        query: Object.fromEntries(url.searchParams),
        eventId: event.id,
      });
      return c.body(r.body, r.status as 200, r.headers);
    }
    return c.json({ id: event.id }, 202);
  };
}

/** Plans a route without async stages before the commit; anything unusual is left to the
 * processor, which runs the same planner with its retry and dead-letter handling. Resolves to
 * the reason when the route's validation rejects the event. */
async function planInline(
  deps: AppDeps,
  route: Route,
  event: Envelope,
): Promise<string | undefined> {
  let plan;
  try {
    plan = await deps.planner.plan(route, event);
  } catch {
    return;
  }
  if (plan.kind === "reject") return plan.reason;
  if (plan.kind === "deliver") {
    event.planned = {
      status: "processed",
      deliveries: plan.deliveries.map((d) => ({
        id: newId("dlv"),
        eventId: event.id,
        tenant: event.tenant,
        routeId: event.routeId,
        destinationId: d.destinationId,
        fallbackDestinationId: d.fallbackDestinationId ?? null,
        body: d.body,
        headers: d.headers,
        key: d.key ?? null,
        nextAt: event.receivedAt,
      })),
    };
  } else if (plan.kind === "drop") {
    event.planned = { status: "dropped", error: plan.reason, deliveries: [] };
  }
}

function parseJson(body: Uint8Array, contentType = ""): unknown {
  if (!contentType.includes("json") && !(body[0] === 0x7b || body[0] === 0x5b)) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(body));
  } catch {
    return undefined;
  }
}
