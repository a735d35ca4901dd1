/** GET /api/stats (counts and each destination's record) and GET /api/stats/timeseries. */
import { createRoute, z } from "@hono/zod-openapi";
import { ApiError } from "./errors.ts";
import { doc, errors, json, security } from "./openapi_helpers.ts";
import { StatsOut } from "./response_schemas.ts";
import type { Mount } from "./env.ts";

const iso = (ms: number | null) => (ms == null ? null : new Date(ms).toISOString());

const seriesQuery = z.object({
  minutes: z.coerce.number().int().min(1).max(7 * 1440).default(60)
    .openapi({ description: "how far back, in minutes (default 60)" }),
  bucket_seconds: z.coerce.number().int().min(10).max(86400).default(60)
    .openapi({ description: "width of one point, in seconds (default 60)" }),
});

/** At most this many points in one answer, so a query cannot ask for a million buckets. */
const MAX_POINTS = 1440;

const Series = z.object({
  since: z.string(),
  until: z.string(),
  bucket_seconds: z.number(),
  points: z.array(z.object({
    t: z.string(),
    received: z.number(),
    delivered: z.number(),
    dead: z.number(),
  })),
}).openapi("StatsTimeseries");

export const mountStats: Mount = (app, deps) => {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/stats",
      tags: ["system"],
      summary: "Counts (all time, last hour, last 24 h), per route and per destination",
      security,
      responses: { 200: doc(StatsOut) },
    }),
    async (c) => {
      const s = await deps.store.stats(c.get("scope"), deps.clock.now());
      return c.json({
        ...s,
        per_destination: s.per_destination.map((d) => ({
          ...d,
          last_delivered_at: iso(d.last_delivered_at),
          last_error_at: iso(d.last_error_at),
          // Only the runtime knows its breakers; "closed" means deliveries flow.
          circuit: deps.circuitState?.(d.destination_id) ?? null,
        })),
      }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/stats/timeseries",
      tags: ["system"],
      summary: "Events received, delivered and dead per time bucket (the dashboard's chart)",
      security,
      request: { query: seriesQuery },
      responses: { 200: json(Series), 400: errors[400] },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const bucketMs = q.bucket_seconds * 1000;
      const count = Math.ceil(q.minutes * 60_000 / bucketMs);
      if (count > MAX_POINTS) {
        throw new ApiError(
          400,
          "invalid_request",
          `bucket_seconds: ${q.minutes} minutes in buckets of ${q.bucket_seconds} s make ${count} points; at most ${MAX_POINTS}`,
        );
      }
      // Buckets end at the next bucket boundary, so a point does not change its meaning
      // between two refreshes.
      const until = Math.ceil((deps.clock.now() + 1) / bucketMs) * bucketMs;
      const since = until - count * bucketMs;
      const got = await deps.store.timeseries(c.get("scope"), since, until, bucketMs);
      const byStart = new Map(got.map((b) => [b.start, b]));
      const points = Array.from({ length: count }, (_, i) => {
        const start = since + i * bucketMs;
        const b = byStart.get(start);
        return {
          t: new Date(start).toISOString(),
          received: b?.received ?? 0,
          delivered: b?.delivered ?? 0,
          dead: b?.dead ?? 0,
        };
      });
      return c.json({
        since: new Date(since).toISOString(),
        until: new Date(until).toISOString(),
        bucket_seconds: q.bucket_seconds,
        points,
      }, 200);
    },
  );
};
