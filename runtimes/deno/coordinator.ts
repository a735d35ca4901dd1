/**
 * Which coordinator a node uses: Redis when REDIS_ADDRESS is set, else Deno KV when KV_PATH is
 * set, else leases in the store (works for every node sharing the database).
 */
import type { Coordinator, Logger } from "../../core/ports.ts";
import type { Store } from "../../core/store.ts";
import { storeCoordinator } from "../../adapters/coordination/store.ts";
import type { NodeConfig } from "./config.ts";

/** `host:port`, `redis://...` or `rediss://...` as an ioredis URL. */
export function redisUrl(address: string, password?: string): string {
  const url = /^rediss?:\/\//.test(address) ? new URL(address) : new URL(`redis://${address}`);
  if (password && !url.password) url.password = password;
  return url.toString();
}

export async function openCoordinator(
  cfg: NodeConfig,
  store: Store,
  log: Logger,
): Promise<Coordinator> {
  if (cfg.redisAddress) {
    const { Redis } = await import("ioredis");
    const { redisCoordinator } = await import("../../adapters/coordination/redis.ts");
    const client = new Redis(redisUrl(cfg.redisAddress, cfg.redisPassword), {
      maxRetriesPerRequest: 2,
      enableOfflineQueue: true,
    });
    client.on("error", (e) => log.warn("redis coordination error", { error: String(e) }));
    return redisCoordinator(client);
  }
  if (cfg.kvPath) {
    const { kvCoordinator } = await import("../../adapters/coordination/kv.ts");
    return kvCoordinator(await Deno.openKv(cfg.kvPath));
  }
  return storeCoordinator(store);
}
