/**
 * Route definitions are checked when saved, so a broken rule or stage is a 400 naming the
 * field, never a surprise at delivery time.
 */
import type { RouteBody } from "../model/route.ts";
import { routeDefinition, routeProblems } from "./pipeline_planner.ts";

type Definition = Omit<RouteBody, "name" | "method" | "active"> & { id: string; version: number };

/** Returns a message naming every bad field, or null when the definition is valid. */
export function validateRouteDefinition(def: Definition): string | null {
  return routeProblems(routeDefinition({ id: def.id, version: def.version, spec: def }));
}
