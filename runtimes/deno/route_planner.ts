/** The planner a node runs: routing rules and pipelines over the store's aggregation state. */
import type { Planner } from "../../core/delivery/planner.ts";
import { fanOutPlanner } from "../../core/delivery/planner.ts";
import type { Store } from "../../core/store.ts";

export function createRoutePlanner(
  _deps: { fetch: typeof fetch; store: Store; isOpen(id: string): boolean },
): Planner {
  return fanOutPlanner;
}
