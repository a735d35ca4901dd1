/**
 * "Is this node the one that runs job X now?" over a Coordinator, for the node's periodic jobs
 * (retention, aggregate flush): the first call takes the lease, later calls renew it, and a
 * lost lease is taken again when it is free.
 */
import type { Coordinator, Lease } from "../ports.ts";

export function jobLease(
  coordinator: Coordinator,
  name: string,
  owner: string,
  ttlMs: number,
): () => Promise<boolean> {
  let lease: Lease | null = null;
  return async () => {
    if (lease && (await lease.renew(ttlMs))) return true;
    lease = await coordinator.tryAcquire(name, owner, ttlMs);
    return lease !== null;
  };
}
