/** The planner a node runs: routing rules and pipelines over the store's aggregation state. */
import type { Planner } from "../../core/delivery/planner.ts";
import { createPipelinePlanner } from "../../core/delivery/pipeline_planner.ts";
import { MemoryState } from "../../core/pipeline/memory_state.ts";
import type { Store } from "../../core/store.ts";

export function createRoutePlanner(
  deps: { fetch: typeof fetch; store: Store; isOpen(id: string): boolean },
): Planner {
  return createPipelinePlanner({
    fetch: deps.fetch,
    // Stores without their own aggregation state keep it in memory (lost on restart).
    state: deps.store.pipelineState?.() ?? new MemoryState(),
    now: () => Date.now(),
    isOpen: deps.isOpen,
  });
}
