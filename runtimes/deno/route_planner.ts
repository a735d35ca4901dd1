/** The planner a node runs: routing rules and pipelines over the store's aggregation state. */
import type { Planner } from "../../core/delivery/planner.ts";
import { createPipelinePlanner } from "../../core/delivery/pipeline_planner.ts";
import type { Role } from "../../core/model/user.ts";
import { MemoryState } from "../../core/pipeline/memory_state.ts";
import type { Sealer } from "../../core/ports.ts";
import type { Store } from "../../core/store.ts";

const ROLE_TTL_MS = 5_000;

export function createRoutePlanner(
  deps: {
    /** The fetch for outbound stages of routes owned by a user of this role. */
    fetch(role: Role): typeof fetch;
    store: Store;
    sealer: Sealer;
    isOpen(id: string): boolean;
  },
): Planner {
  // Owners' roles, briefly cached: a route's requests are guarded unless its owner is an
  // admin, and a demoted or deleted owner loses that within seconds.
  const roles = new Map<string, { at: number; role: Promise<Role> }>();
  const roleOf = (owner: string): Promise<Role> => {
    const now = Date.now();
    const hit = roles.get(owner);
    if (hit && now - hit.at < ROLE_TTL_MS) return hit.role;
    const role = deps.store.getUser(owner).then((u) => u?.role ?? "user", () => "user" as const);
    roles.set(owner, { at: now, role });
    if (roles.size > 10_000) roles.delete(roles.keys().next().value!);
    return role;
  };
  return createPipelinePlanner({
    fetchFor: async (route) => deps.fetch(await roleOf(route.owner)),
    sealer: deps.sealer,
    // Stores without their own aggregation state keep it in memory (lost on restart).
    state: deps.store.pipelineState?.() ?? new MemoryState(),
    now: () => Date.now(),
    isOpen: deps.isOpen,
  });
}
