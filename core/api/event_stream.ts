/**
 * GET /api/events/stream: the live tail. Server-sent events, one `event` message per new event
 * of the caller's (optionally one route's), oldest first. It polls the store, so it sees what
 * every node sharing the store accepted, not only this one.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import { ApiError } from "./errors.ts";
import { errors, security } from "./openapi_helpers.ts";
import type { Mount } from "./env.ts";
import { presentEvent } from "./events_routes.ts";
import type { StoredEvent } from "../store.ts";

/** Per node: each open tail costs a store query per interval. */
const MAX_STREAMS = 64;
const BATCH = 100;
const PREVIEW_CHARS = 2048;

const streamQuery = z.object({ route_id: z.string().max(64).optional() });

export function tailEvent(e: StoredEvent) {
  const p = presentEvent(e);
  const truncated = p.body.length > PREVIEW_CHARS;
  return { ...p, body: truncated ? p.body.slice(0, PREVIEW_CHARS) : p.body, truncated };
}

export const mountEventStream: Mount = (app, deps) => {
  let open = 0;
  const intervalMs = deps.liveTailIntervalMs ?? 1000;

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/events/stream",
      tags: ["events"],
      summary: "Live tail: new events as server-sent events (`event: event`, data = the event)",
      security,
      request: { query: streamQuery },
      responses: {
        200: {
          description: "text/event-stream; a comment every 15 s keeps proxies from closing it",
          content: { "text/event-stream": { schema: z.string() } },
        },
        404: errors[404],
      },
    }),
    async (c) => {
      const scope = c.get("scope");
      const { route_id: routeId } = c.req.valid("query");
      if (routeId && !(await deps.store.getRoute(scope, routeId))) {
        throw new ApiError(404, "not_found", `route ${routeId} not found`);
      }
      if (open >= MAX_STREAMS) {
        throw new ApiError(503, "busy", `too many live tails open on this node (${MAX_STREAMS})`, {
          "Retry-After": "10",
        });
      }
      const sessionValid = c.get("sessionValid");
      c.header("Cache-Control", "no-store");
      c.header("X-Accel-Buffering", "no");
      open++;
      return streamSSE(c, async (stream) => {
        let closed = false;
        stream.onAbort(() => void (closed = true));
        try {
          let cursor = deps.clock.now();
          let atCursor = new Set<string>();
          let lastBeat = cursor;
          let lastAuth = cursor;
          await stream.writeSSE({ event: "ready", data: JSON.stringify({ since: cursor }) });
          while (!closed && !stream.aborted) {
            const page = await deps.store.listEvents(scope, { routeId, since: cursor }, {
              limit: BATCH,
              offset: 0,
            });
            const fresh = page.items.filter((e) => !atCursor.has(e.id)).reverse();
            if (page.total > BATCH) {
              await stream.writeSSE({
                event: "skipped",
                data: JSON.stringify({ count: page.total - page.items.length }),
              });
            }
            for (const e of fresh) {
              await stream.writeSSE({
                event: "event",
                id: e.id,
                data: JSON.stringify(tailEvent(e)),
              });
            }
            if (page.items.length) {
              // Newest first: the next poll starts at the newest time and skips what it saw.
              const top = page.items[0].receivedAt;
              if (top > cursor) atCursor = new Set();
              cursor = top;
              for (const e of page.items) if (e.receivedAt === top) atCursor.add(e.id);
            }
            const now = deps.clock.now();
            if (now - lastAuth >= 15_000) {
              lastAuth = now;
              // A revoked or expired session, or a changed password, ends its tail.
              if (!(await sessionValid())) {
                await stream.writeSSE({ event: "end", data: '{"reason":"session ended"}' });
                break;
              }
            }
            if (now - lastBeat >= 15_000) {
              lastBeat = now;
              await stream.write(": keep-alive\n\n");
            }
            await stream.sleep(intervalMs);
          }
        } finally {
          open--;
        }
      }, async (err, stream) => {
        deps.log.warn("live tail failed", { error: String(err) });
        await stream.writeSSE({ event: "error", data: JSON.stringify({ message: String(err) }) })
          .catch(() => {});
      });
    },
  );
};
