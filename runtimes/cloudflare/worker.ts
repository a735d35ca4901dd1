/**
 * The Cloudflare Worker edge. The Worker hands each request to a Durable Object (one of
 * EDGE_SHARDS, chosen by path, so one route's webhooks meet in one object and its rate limit
 * is exact), which runs the shared edge app: routes synced from the full node, ingress and
 * verification, the event written to the object's storage before the 202. The object's alarm
 * forwards buffered events in signed batches and, after a failure, is set again with backoff.
 *
 * Bundled for workerd by `runtimes/cloudflare/build.ts`; run locally by `deno task
 * edge:cloudflare` (miniflare), deployed with wrangler (`wrangler.toml`).
 */
import { createEdgeApp } from "../../core/edge/edge_app.ts";
import { type EdgeConfig, loadEdgeConfig } from "../../core/edge/edge_config.ts";
import { createForwarder, drainBuffer, retryDelayMs } from "../../core/edge/forwarder.ts";
import { createRouteSync } from "../../core/edge/route_sync.ts";
import { createJsonLogger } from "../../core/log/json_logger.ts";
import type { Logger, LogLevel } from "../../core/ports.ts";
import { createDoBuffer, createDoRoutesBackup } from "./do_buffer.ts";
import type { DurableObjectState, Env } from "./types.ts";

/** Largest webhook body the buffer takes (a Durable Object value holds up to 2 MB). */
const DO_MAX_BODY_BYTES = 1024 * 1024;

function shardOf(path: string, shards: number): number {
  let h = 0;
  for (let i = 0; i < path.length; i++) h = (h * 31 + path.charCodeAt(i)) >>> 0;
  return h % shards;
}

export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    const shards = Math.max(1, Math.min(64, Number(env.EDGE_SHARDS) || 1));
    const path = new URL(req.url).pathname;
    const ns = env.EDGE_BUFFER;
    if (path === "/health") {
      // every shard answers (and wakes: one left with events forwards them)
      const all = await Promise.all(
        Array.from(
          { length: shards },
          (_, i) => ns.get(ns.idFromName(`buffer-${i}`)).fetch(req.clone()),
        ),
      );
      const bodies = await Promise.all(all.map((r) => r.json()));
      const status = all.every((r) => r.ok) ? 200 : 503;
      return Response.json({
        ...bodies[0],
        shards: bodies.length,
        buffered: bodies.reduce((n, b) => n + (b.buffered ?? 0), 0),
      }, { status });
    }
    return await ns.get(ns.idFromName(`buffer-${shardOf(path, shards)}`)).fetch(req);
  },
};

export class EdgeBuffer {
  #state: DurableObjectState;
  #app: ((req: Request) => Promise<Response>) | null = null;
  #drain: (() => Promise<number>) | null = null;
  #config: EdgeConfig | null = null;
  #log: Logger;
  #error: string | null = null;
  #failures = 0;
  /** An alarm is set (or running with a retry to follow): new events need not set one. */
  #alarmPending = false;

  constructor(state: DurableObjectState, env: Env) {
    this.#state = state;
    this.#log = createJsonLogger((env.LOG_LEVEL as LogLevel) || "info", (l) => console.error(l));
    try {
      this.#build(env);
    } catch (e) {
      // a wrong variable answers every request with the reason instead of failing silently
      this.#error = String((e as Error).message);
      this.#log.error("edge configuration error", { error: this.#error });
    }
    // woken with events left (a restart, a lost alarm): make sure forwarding is scheduled
    state.blockConcurrencyWhile(async () => {
      if (!this.#drain) return;
      if (await state.storage.getAlarm() !== null) this.#alarmPending = true;
      else if ((await state.storage.list({ prefix: "ev:", limit: 1 })).size) {
        await state.storage.setAlarm(Date.now());
        this.#alarmPending = true;
      }
    });
  }

  #build(env: Env) {
    const config = this.#config = loadEdgeConfig(env as unknown as Record<string, unknown>);
    const log = this.#log = this.#log.child({ edge_id: config.edgeId });
    const clock = { now: () => Date.now() };
    const storage = this.#state.storage;
    const buffer = createDoBuffer(storage);
    const routes = createRouteSync({
      config,
      fetch: (input, init) => fetch(input, init),
      backup: createDoRoutesBackup(storage),
      clock,
      log,
    });
    const forward = createForwarder({ config, fetch: (input, init) => fetch(input, init), clock });
    this.#drain = () => drainBuffer(buffer, forward, config.batchSize);
    const app = createEdgeApp({
      config,
      routes,
      accept: async (events) => {
        await buffer.put(events);
        if (!this.#alarmPending) {
          this.#alarmPending = true;
          await storage.setAlarm(Date.now());
        }
      },
      platformMaxBodyBytes: DO_MAX_BODY_BYTES,
      log,
      clock,
      health: async () => ({
        buffered: (await storage.list({ prefix: "ev:", limit: 10_000 })).size,
      }),
    });
    this.#app = (req) => app(req, { remoteAddr: req.headers.get("cf-connecting-ip") ?? "unknown" });
  }

  fetch(req: Request): Promise<Response> | Response {
    if (!this.#app) {
      return Response.json({ error: { code: "misconfigured", message: this.#error } }, {
        status: 500,
      });
    }
    return this.#app(req);
  }

  async alarm() {
    if (!this.#drain || !this.#config) return;
    // events put from here on set the next alarm themselves
    this.#alarmPending = false;
    try {
      const sent = await this.#drain();
      if (sent) this.#log.info("forwarded to the full node", { events: sent });
      this.#failures = 0;
    } catch (e) {
      this.#failures++;
      const delay = retryDelayMs(this.#failures, this.#config.retryMaxMs);
      this.#log.warn("forwarding failed; events stay buffered", {
        error: String(e),
        failures: this.#failures,
        retry_in_ms: delay,
      });
      this.#alarmPending = true;
      await this.#state.storage.setAlarm(Date.now() + delay);
    }
  }
}
