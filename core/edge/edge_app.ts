/**
 * What an edge serves, on any platform: `/webhook/*` through the shared ingress over the
 * synced routes, accepted into the platform's durable buffer before the 202; `GET /health`;
 * 404 for anything else, in the full node's words. The platform brings the buffer and how
 * forwarding is scheduled (a KV queue, a Durable Object alarm).
 */
import type { Clock, Envelope, Logger, Metrics } from "../ports.ts";
import { type ConnInfo, createIngress } from "../ingress/ingress.ts";
import { createGroupCommitter } from "../ingress/group_commit.ts";
import type { EdgeConfig } from "./edge_config.ts";
import type { EdgeRoutes } from "./route_sync.ts";

export interface EdgeAppOptions {
  config: EdgeConfig;
  routes: EdgeRoutes;
  /** Resolves once the events are in the platform's durable buffer. Concurrent requests
   * share one call (group commit, as on the full node): one KV or storage write for many. */
  accept(events: Envelope[]): Promise<void>;
  /** The largest body the buffer holds (KV and Durable Object values are bounded). */
  platformMaxBodyBytes: number;
  log: Logger;
  clock: Clock;
  metrics?: Metrics;
  /** Extra fields for /health (e.g. events waiting in the buffer). */
  health?(): Promise<Record<string, unknown>>;
}

export function createEdgeApp(opts: EdgeAppOptions) {
  const committer = createGroupCommitter(async (events) => {
    await opts.accept(events);
    return { duplicates: new Map() };
  }, { maxBatch: 200 });
  const ingress = createIngress({
    lookup: (path) => opts.routes.lookup(path),
    accept: async (_route, event) => {
      await committer.accept([event]);
      return { kind: "accepted" };
    },
    limits: () => opts.routes.limits(),
    platformMaxBodyBytes: opts.platformMaxBodyBytes,
    metrics: opts.metrics ?? countingMetrics(),
    log: opts.log,
    clock: opts.clock,
  });
  return async (req: Request, conn?: ConnInfo): Promise<Response> => {
    const path = new URL(req.url).pathname;
    if (path.startsWith("/webhook/")) return await ingress(req, conn);
    if (path === "/health" && req.method === "GET") {
      return Response.json({
        status: "ok",
        edge_id: opts.config.edgeId,
        routes: opts.routes.status(),
        ...(await opts.health?.()),
      });
    }
    return Response.json({
      error: { code: "not_found", message: `no such endpoint ${req.method} ${path}` },
    }, { status: 404 });
  };
}

/** Counters kept in memory: an edge has no Prometheus endpoint of its own. */
export function countingMetrics(): Metrics {
  const counts = new Map<string, number>();
  return {
    inc(name, labels, value = 1) {
      const k = `${name}${labels ? JSON.stringify(labels) : ""}`;
      counts.set(k, (counts.get(k) ?? 0) + value);
      if (counts.size > 10_000) counts.clear();
    },
    observe() {},
    render: () => Promise.resolve([...counts].map(([k, v]) => `${k} ${v}`).join("\n")),
  };
}
