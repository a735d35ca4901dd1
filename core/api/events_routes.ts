/** Events with their deliveries and attempts, replay, dead letters and stats. */
import { createRoute, z } from "@hono/zod-openapi";
import { notFound } from "./errors.ts";
import { body, doc, errors, idParam, json, security } from "./openapi_helpers.ts";
import { DeadStats, DeliveryOut, EventDetail, EventOut, pageOf } from "./response_schemas.ts";
import type { Mount } from "./env.ts";
import { mountEventStream } from "./event_stream.ts";
import { pageQuery } from "../model/page.ts";
import type { Delivery } from "../ports.ts";
import type { DeliveryWithAttempts, StoredEvent } from "../store.ts";

const dec = new TextDecoder("utf-8", { fatal: true });

/** UTF-8 bodies as text, anything else as base64, so the API never mangles bytes. */
export function presentBody(b: Uint8Array): { body: string; body_encoding: "utf8" | "base64" } {
  try {
    return { body: dec.decode(b), body_encoding: "utf8" };
  } catch {
    let s = "";
    for (const x of b) s += String.fromCharCode(x);
    return { body: btoa(s), body_encoding: "base64" };
  }
}

const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());

export function presentEvent(e: StoredEvent) {
  return {
    id: e.id,
    route_id: e.routeId,
    source: e.source,
    received_at: iso(e.receivedAt),
    method: e.method,
    path: e.path,
    query: e.query,
    source_ip: e.ip,
    headers: e.headers,
    ...presentBody(e.body),
    status: e.status,
    error: e.error,
    attempts: e.attempts ?? 0,
    processed_at: iso(e.processedAt),
  };
}

export function presentDelivery(d: Delivery | DeliveryWithAttempts) {
  return {
    id: d.id,
    event_id: d.eventId,
    route_id: d.routeId,
    destination_id: d.destinationId,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.status === "pending" ? iso(d.nextAt) : null,
    last_error: d.lastError,
    headers: d.headers,
    ...presentBody(d.body),
    created_at: iso(d.createdAt),
    updated_at: iso(d.updatedAt),
    ...("attemptLog" in d
      ? {
        attempt_log: d.attemptLog.map((a) => ({
          n: a.n,
          at: iso(a.at),
          outcome: a.outcome,
          error: a.error,
          duration_ms: a.durationMs,
        })),
      }
      : {}),
  };
}

/** A time as ISO 8601 (with or without an offset; without one it is UTC) or epoch ms. */
export const timeParam = z.string().max(40).transform((v, ctx) => {
  const ms = /^\d{1,15}$/.test(v)
    ? Number(v)
    : Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`);
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: "custom", message: `must be an ISO 8601 time or epoch ms, got ${v}` });
    return z.NEVER;
  }
  return ms;
});

const eventQuery = pageQuery.extend({
  route_id: z.string().max(64).optional(),
  status: z.enum(["accepted", "processed", "failed", "dropped", "held"]).optional(),
  since: timeParam.optional().openapi({ description: "received at or after (ISO 8601 or ms)" }),
  until: timeParam.optional().openapi({ description: "received before (ISO 8601 or ms)" }),
});
const deadQuery = pageQuery.extend({
  route_id: z.string().max(64).optional(),
  destination_id: z.string().max(64).optional(),
  error: z.string().max(2000).optional(),
  error_is: z.string().max(2000).optional(),
});
const DeadFilterBody = z.strictObject({
  /** Every dead letter in scope: required when no other filter is given. */
  all: z.boolean().optional().openapi({
    description: "true to act on every dead letter in scope (required without a filter)",
  }),
  ids: z.array(z.string().max(64)).min(1).max(1000).optional(),
  route_id: z.string().max(64).optional(),
  destination_id: z.string().max(64).optional(),
  error: z.string().max(2000).optional().openapi({ description: "a substring of the error" }),
  error_is: z.string().max(2000).optional().openapi({
    description: 'the whole error text, as in /api/dlq/stats by_error ("" for none)',
  }),
}).superRefine((f, ctx) => {
  // A bulk action without a filter reaches every dead letter in scope (for an admin: of every
  // tenant): that must be asked for, not the result of a forgotten field.
  const filtered = f.ids !== undefined || f.route_id !== undefined ||
    f.destination_id !== undefined || f.error !== undefined || f.error_is !== undefined;
  if (!filtered && f.all !== true) {
    ctx.addIssue({
      code: "custom",
      path: ["all"],
      message: 'give a filter (ids, route_id, destination_id, error, error_is) or "all": true',
    });
  }
}).openapi("DeadLetterFilter");

const deadFilter = (f: z.infer<typeof DeadFilterBody>) => ({
  ids: f.ids,
  routeId: f.route_id,
  destinationId: f.destination_id,
  error: f.error,
  errorIs: f.error_is,
});

export const mountEvents: Mount = (app, deps) => {
  // Before /api/events/{id}, which would take "stream" for an id.
  mountEventStream(app, deps);

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/events",
      tags: ["events"],
      security,
      request: { query: eventQuery },
      responses: { 200: doc(pageOf(EventOut, "EventPage")) },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const page = await deps.store.listEvents(c.get("scope"), {
        routeId: q.route_id,
        status: q.status,
        since: q.since,
        until: q.until,
      }, q);
      return c.json({ ...page, items: page.items.map(presentEvent) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/events/{id}",
      tags: ["events"],
      security,
      request: { params: idParam },
      responses: { 200: doc(EventDetail), 404: errors[404] },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const e = await deps.store.getEvent(c.get("scope"), id);
      if (!e) throw notFound("event", id);
      const ds = await deps.store.eventDeliveries(e.id);
      return c.json({ ...presentEvent(e), deliveries: ds.map(presentDelivery) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/events/{id}/replay",
      tags: ["events"],
      summary: "Run the event through its route again (new deliveries)",
      security,
      request: { params: idParam },
      responses: {
        202: json(z.object({ id: z.string(), replayed: z.boolean() })),
        404: errors[404],
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      if (!(await deps.store.replayEvent(c.get("scope"), id, deps.clock.now()))) {
        throw notFound("event", id);
      }
      deps.wake();
      return c.json({ id, replayed: true }, 202);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/dlq/messages",
      tags: ["dead letters"],
      security,
      request: { query: deadQuery },
      responses: { 200: doc(pageOf(DeliveryOut, "DeliveryPage")) },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const page = await deps.store.listDead(c.get("scope"), deadFilter(q), q);
      return c.json({ ...page, items: page.items.map(presentDelivery) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/dlq/stats",
      tags: ["dead letters"],
      security,
      responses: { 200: doc(DeadStats) },
    }),
    async (c) => c.json(await deps.store.deadStats(c.get("scope")), 200),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/dlq/retry/{id}",
      tags: ["dead letters"],
      security,
      request: { params: idParam },
      responses: { 202: json(z.object({ retried: z.number() })), 404: errors[404] },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const n = await deps.store.retryDead(c.get("scope"), { ids: [id] }, deps.clock.now());
      if (n === 0) throw notFound("dead letter", id);
      deps.wake();
      return c.json({ retried: n }, 202);
    },
  );

  const bulk = (action: "retry" | "discard") =>
    createRoute({
      method: "post",
      path: `/api/dlq/${action}`,
      tags: ["dead letters"],
      summary: `${action === "retry" ? "Retry" : "Discard"} every dead letter matching the filter`,
      security,
      request: body(DeadFilterBody),
      responses: {
        200: json(z.object({ [action === "retry" ? "retried" : "discarded"]: z.number() })),
      },
    });

  app.openapi(bulk("retry"), async (c) => {
    const f = c.req.valid("json");
    const n = await deps.store.retryDead(c.get("scope"), deadFilter(f), deps.clock.now());
    deps.wake();
    return c.json({ retried: n }, 200);
  });

  app.openapi(bulk("discard"), async (c) => {
    const f = c.req.valid("json");
    const n = await deps.store.discardDead(c.get("scope"), deadFilter(f), deps.clock.now());
    return c.json({ discarded: n }, 200);
  });
};
