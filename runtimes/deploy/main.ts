/**
 * The Deno Deploy edge: webhooks accepted close to the sender into a Deno KV buffer, forwarded
 * to the full node in signed batches. No file system: everything durable is in Deno KV.
 *
 * Forwarding is woken by the queue message each accepted event commits with it, and once at
 * start (events left by an isolate that died). A failed attempt schedules the next one as a
 * delayed queue message (`enqueue` with `delay`, doubling up to EDGE_RETRY_MAX_SECONDS), so
 * the retry survives the isolate too; until it is due, new events do not trigger attempts.
 *
 * Locally: `deno task edge:deploy` (Deploy's permissions: net, env and the KV file).
 */
import { loadEdgeConfig } from "../../core/edge/edge_config.ts";
import { createEdgeApp } from "../../core/edge/edge_app.ts";
import { createForwarder, drainBuffer, retryDelayMs } from "../../core/edge/forwarder.ts";
import { createRouteSync } from "../../core/edge/route_sync.ts";
import { createJsonLogger } from "../../core/log/json_logger.ts";
import type { LogLevel } from "../../core/ports.ts";
import { createKvBuffer, DRAIN, type DrainMessage, KV_MAX_BODY_BYTES } from "./kv_buffer.ts";
import { createKvRoutesBackup } from "./kv_routes_backup.ts";

const env = Deno.env.toObject();
const config = loadEdgeConfig(env);
const log = createJsonLogger((env.LOG_LEVEL as LogLevel) || "info", (l) => console.error(l), {
  edge_id: config.edgeId,
});
const clock = { now: () => Date.now() };
// On Deploy the KV store is the project's own; elsewhere a file (KV_PATH).
const onDeploy = env.DENO_DEPLOYMENT_ID !== undefined;
const kv = await Deno.openKv(onDeploy ? undefined : env.KV_PATH || "./data/edge/kv.sqlite3");
const buffer = createKvBuffer(kv);
const routes = createRouteSync({
  config,
  fetch,
  backup: createKvRoutesBackup(kv),
  clock,
  log,
});
const forward = createForwarder({ config, fetch, clock });

let failures = 0;
let nextAttemptAt = 0;
let running: Promise<void> | null = null;
let again = false;

/** One forwarding pass at a time per isolate; a wake-up during a pass runs another after it. */
function drain(): Promise<void> {
  if (running) {
    again = true;
    return running;
  }
  if (failures > 0 && clock.now() < nextAttemptAt) return Promise.resolve();
  running = (async () => {
    do {
      again = false;
      try {
        const sent = await drainBuffer(buffer, forward, config.batchSize);
        if (sent) log.info("forwarded to the full node", { events: sent });
        failures = 0;
      } catch (e) {
        failures++;
        const delay = retryDelayMs(failures, config.retryMaxMs);
        nextAttemptAt = clock.now() + delay;
        log.warn("forwarding failed; events stay buffered", {
          error: String(e),
          failures,
          retry_in_ms: delay,
        });
        await kv.enqueue(DRAIN, { delay });
        return;
      }
    } while (again);
  })().finally(() => (running = null));
  return running;
}

kv.listenQueue(async (msg: DrainMessage) => {
  if (msg?.kind !== DRAIN.kind) return;
  // a scheduled retry is due even if this isolate's own timer says otherwise
  if (failures > 0 && clock.now() >= nextAttemptAt - 50) nextAttemptAt = 0;
  await drain();
});

const app = createEdgeApp({
  config,
  routes,
  accept: (events) => buffer.put(events),
  platformMaxBodyBytes: KV_MAX_BODY_BYTES,
  log,
  clock,
});

const port = Number(env.PORT || 8000);
Deno.serve({
  port,
  hostname: env.HOST || "0.0.0.0",
  onListen: ({ hostname, port }) => log.info("edge listening", { hostname, port }),
}, (req, info) => app(req, { remoteAddr: (info.remoteAddr as Deno.NetAddr).hostname }));

void routes.refresh();
void drain();
