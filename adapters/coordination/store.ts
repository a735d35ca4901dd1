/**
 * Leases in the store's `leases` table (the default coordinator): works for every node sharing
 * one database (SQLite file, libSQL server, PostgreSQL). Expiry is judged by the caller's clock,
 * so the nodes' clocks should agree to well within a lease period.
 */
import type { Clock, Coordinator, Lease } from "../../core/ports.ts";
import type { Store } from "../../core/store.ts";

export function storeCoordinator(
  store: Store,
  clock: Clock = { now: () => Date.now() },
): Coordinator {
  return {
    kind: "store",
    ping: () => store.ping(),
    async tryAcquire(name, owner, ttlMs) {
      const fence = await store.acquireLease(name, owner, ttlMs, clock.now());
      if (fence === null) return null;
      const lease: Lease = {
        name,
        owner,
        fence,
        renew: (ttl) => store.renewLease(name, owner, fence, ttl, clock.now()),
        release: () => store.releaseLease(name, owner, fence),
      };
      return lease;
    },
  };
}
