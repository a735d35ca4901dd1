/**
 * The webhook ingress every runtime runs: route lookup -> method (405) -> body size limit
 * (413) -> rate limits (429) -> signature (401) -> durable accept -> 202 with the event id,
 * 200 for a duplicate, or the route's response template. Nothing is acknowledged before the
 * accept resolved. What differs between runtimes is passed in: where routes come from
 * (`lookup`) and what "durable accept" means (`accept`: a store commit on the full node, the
 * platform's buffer at an edge). Web APIs only: `Request` in, `Response` out.
 */
import type { Clock, Envelope, Logger, Metrics } from "../ports.ts";
import type { SignatureConfig } from "../verify/signature_config.ts";
import { verifyRequest } from "../verify/mod.ts";
import { newId } from "../model/ids.ts";
import { BodyTooLargeError, readBodyLimited } from "./read_body.ts";
import { clientIp } from "./client_ip.ts";
import { createRateLimiter, type RateLimiter } from "./rate_limit.ts";
import { renderResponse, type ResponseTemplate } from "./response_template.ts";

/** What ingress needs of a route: the full node's cache and an edge's synced copy both give it. */
export interface IngressRoute {
  id: string;
  owner: string;
  version: number;
  active: boolean;
  method: string;
  limits?: { max_body_bytes?: number; rate_per_second?: number; burst?: number };
  signature: SignatureConfig | null;
  response: ResponseTemplate | null;
}

export type AcceptOutcome =
  | { kind: "accepted" }
  | { kind: "duplicate"; id: string }
  /** Refused by the route's own validation: the sender learns why, nothing is stored. */
  | { kind: "rejected"; reason: string };

export interface IngressLimits {
  maxBodyBytes: number;
  globalRatePerSecond: number; // 0 = unlimited
  globalBurst: number;
}

export interface IngressOptions<R extends IngressRoute> {
  /** The route at this path, or null. Throwing answers 503 (routes unknown for now). */
  lookup(path: string): Promise<R | null> | R | null;
  /** Resolves only once the event is durable. Throwing answers 503 with Retry-After. */
  accept(route: R, event: Envelope): Promise<AcceptOutcome>;
  /** Read on every request, so a settings change applies without a restart. */
  limits(): IngressLimits;
  /**
   * Bodies accepted lately for routes with `dedupe: "body"` (the store's shared state on the
   * full node): a body seen within the replay window is a duplicate even across the window's
   * buckets. Without it, duplicates are still caught within one bucket of the window by the
   * event's dedup key.
   */
  recent?: RecentBodies;
  /** The largest body the runtime's buffer can hold, whatever the route allows. */
  platformMaxBodyBytes?: number;
  /**
   * Above what the node can sustain (its durable accept's backlog is full): the seconds a
   * sender should wait, answered as 503 with Retry-After before the body is read, instead of
   * queueing without bound. Null when there is room. Read on every request.
   */
  overloaded?(): number | null;
  metrics: Metrics;
  log: Logger;
  clock: Clock;
}

export interface RecentBodies {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown, expiresAt: number): Promise<void>;
}

/** The runtime's view of the connection: socket address and whether to trust a proxy. */
export interface ConnInfo {
  remoteAddr?: string;
  trustProxy?: boolean;
  /** A header the runtime's own front added to the request (not the sender's, never stored). */
  hiddenHeader?: string;
}

/** Headers never stored with an event: credentials of the sender's own session. */
const DROP_HEADERS = new Set(["authorization", "cookie", "proxy-authorization"]);

export function createIngress<R extends IngressRoute>(opts: IngressOptions<R>) {
  const { metrics, log } = opts;
  const limiters = createLimiters();

  const fail = (status: number, code: string, message: string, h?: Record<string, string>) => {
    metrics.inc("webhook_requests_total", { status: String(status) });
    return jsonResponse({ error: { code, message } }, status, h);
  };

  return async (req: Request, conn?: ConnInfo): Promise<Response> => {
    const { pathname, search } = splitUrl(req.url);
    let route: R | null;
    try {
      route = await opts.lookup(pathname);
    } catch (e) {
      log.error("webhook routes unavailable", { error: String(e) });
      return fail(503, "unavailable", "routes are not known yet; retry later", {
        "Retry-After": "5",
      });
    }
    if (!route || !route.active) return fail(404, "not_found", "no active webhook at this address");
    const method = req.method;
    if (route.method !== "ANY" && route.method !== method) {
      return fail(405, "method_not_allowed", `this webhook accepts ${route.method}`, {
        Allow: route.method,
      });
    }
    const busy = opts.overloaded?.();
    if (busy) {
      metrics.inc("webhook_overload_total");
      return fail(503, "overloaded", "the node is over capacity; retry later", {
        "Retry-After": String(busy),
      });
    }
    const limits = opts.limits();
    let maxBody = route.limits?.max_body_bytes ?? limits.maxBodyBytes;
    if (opts.platformMaxBodyBytes) maxBody = Math.min(maxBody, opts.platformMaxBodyBytes);
    let body: Uint8Array;
    try {
      body = await readBodyLimited(req, maxBody);
    } catch (e) {
      if (e instanceof BodyTooLargeError) return fail(413, "payload_too_large", e.message);
      throw e;
    }

    const g = limiters.global(limits)?.take("global");
    if (g && !g.ok) {
      return fail(429, "rate_limited", "the node is over its ingest rate", {
        "Retry-After": String(g.retryAfterSeconds),
      });
    }
    const r = limiters.route(route)?.take(route.id);
    if (r && !r.ok) {
      return fail(429, "rate_limited", "this webhook is over its rate limit", {
        "Retry-After": String(r.retryAfterSeconds),
      });
    }

    const now = opts.clock.now();
    let dedupKey: string | null = null;
    let recentKey: string | null = null;
    let windowMs = 0;
    if (route.signature) {
      const v = await verifyRequest(route.signature, {
        method,
        url: req.url,
        headers: req.headers,
        rawBody: body,
        now,
      });
      if (!v.ok) {
        metrics.inc("webhook_verification_failures_total", { route: route.id, reason: v.reason });
        log.warn("webhook verification failed", { route_id: route.id, reason: v.reason });
        return fail(401, "unauthorized", "signature verification failed");
      }
      dedupKey = v.dedupId ?? null;
      if (v.dedupBody) {
        // The same signed body within the replay window is a duplicate, whatever id it came
        // with. The key's bucket makes that atomic with the commit inside one window; the
        // recent-bodies record (written after the commit) carries it across buckets.
        windowMs = route.signature.replay_window * 1000;
        recentKey = `dedupe:${route.id}:${v.dedupBody}`;
        const seen = await opts.recent?.get(recentKey).catch(() => undefined) as
          | { id: string; at: number }
          | undefined;
        if (seen && now - seen.at < windowMs) {
          metrics.inc("webhook_requests_total", { status: "200" });
          return jsonResponse({ id: seen.id, duplicate: true }, 200);
        }
        dedupKey = `body:${v.dedupBody}:${Math.floor(now / windowMs)}`;
      }
    }

    const headers: Record<string, string> = {};
    const hidden = conn?.hiddenHeader;
    req.headers.forEach((v, k) => {
      if (!DROP_HEADERS.has(k) && k !== hidden) headers[k] = v;
    });
    const event: Envelope = {
      id: newId("evt"),
      tenant: route.owner,
      routeId: route.id,
      source: "webhook",
      receivedAt: now,
      method,
      path: pathname,
      query: search.slice(1),
      ip: clientIp(req, conn),
      headers,
      body,
      dedupKey,
    };
    let outcome: AcceptOutcome;
    try {
      outcome = await opts.accept(route, event);
    } catch (e) {
      log.error("could not commit webhook", { route_id: route.id, error: String(e) });
      return fail(503, "unavailable", "the event could not be stored; retry later", {
        "Retry-After": "5",
      });
    }
    if (outcome.kind === "rejected") return fail(422, "rejected", outcome.reason);
    if (outcome.kind === "duplicate") {
      metrics.inc("webhook_requests_total", { status: "200" });
      return jsonResponse({ id: outcome.id, duplicate: true }, 200);
    }
    metrics.inc("webhook_requests_total", { status: "202" });
    if (recentKey) {
      await opts.recent?.set(recentKey, { id: event.id, at: now }, now + windowMs).catch((e) =>
        log.warn("could not remember a body for dedupe", { route_id: route.id, error: String(e) })
      );
    }
    if (route.response) {
      const t = renderResponse(route.response, {
        bodyJson: parseJson(body, headers["content-type"]),
        headers,
        query: Object.fromEntries(new URLSearchParams(search)),
        eventId: event.id,
      });
      return new Response(t.body, { status: t.status, headers: t.headers });
    }
    return jsonResponse({ id: event.id }, 202);
  };
}

/** The node-wide bucket (rebuilt when its settings change) and one bucket per route version. */
function createLimiters() {
  let globalKey = "";
  let global: RateLimiter | null = null;
  const perRoute = new Map<string, { key: string; limiter: RateLimiter }>();
  return {
    global(l: IngressLimits) {
      const key = `${l.globalRatePerSecond}/${l.globalBurst}`;
      if (key !== globalKey) {
        globalKey = key;
        global = l.globalRatePerSecond > 0
          ? createRateLimiter({ rate: l.globalRatePerSecond, burst: Math.max(1, l.globalBurst) })
          : null;
      }
      return global;
    },
    route(route: IngressRoute) {
      const rate = route.limits?.rate_per_second;
      if (!rate) return null;
      const key = `${route.version}`;
      let rl = perRoute.get(route.id);
      if (!rl || rl.key !== key) {
        const burst = route.limits?.burst ?? Math.max(1, Math.ceil(rate));
        rl = { key, limiter: createRateLimiter({ rate, burst }) };
        perRoute.set(route.id, rl);
        if (perRoute.size > 50_000) perRoute.delete(perRoute.keys().next().value!);
      }
      return rl.limiter;
    },
  };
}

/**
 * Path and query of an absolute request URL as `new URL` would give them, for the URLs a
 * server receives (scheme://authority/path?query); others go through URL. Parsing a whole URL
 * per webhook cost more than the rest of the routing.
 */
export function splitUrl(u: string): { pathname: string; search: string } {
  const authority = u.indexOf("//");
  const slash = authority < 0 ? -1 : u.indexOf("/", authority + 2);
  // Only plain characters take the short way: URL re-encodes others and resolves dot segments.
  if (slash < 0 || /[^A-Za-z0-9\-._~!$&()*+,;=:@/?]|\/\.\.?(\/|\?|$)/.test(u.slice(slash))) {
    const url = new URL(u);
    return { pathname: url.pathname, search: url.search };
  }
  const q = u.indexOf("?", slash);
  return q < 0
    ? { pathname: u.slice(slash), search: "" }
    : { pathname: u.slice(slash, q), search: q === u.length - 1 ? "" : u.slice(q) };
}

function jsonResponse(body: unknown, status: number, headers?: Record<string, string>) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

function parseJson(body: Uint8Array, contentType = ""): unknown {
  if (!contentType.includes("json") && !(body[0] === 0x7b || body[0] === 0x5b)) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(body));
  } catch {
    return undefined;
  }
}
