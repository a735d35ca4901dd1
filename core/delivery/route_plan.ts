/**
 * Route definitions are checked when saved, so a broken rule or stage is a 400 naming the
 * field, never a surprise at delivery time.
 */
import type { RouteBody } from "../model/route.ts";

type Definition = Omit<RouteBody, "name" | "method" | "active"> & { id: string; version: number };

/** Returns a message naming the bad field, or null when the definition is valid. */
export function validateRouteDefinition(def: Definition): string | null {
  const seen = new Set<string>();
  for (const [i, d] of def.destinations.entries()) {
    if (seen.has(d.destination_id)) {
      return `destinations.${i}.destination_id: ${d.destination_id} is listed twice`;
    }
    seen.add(d.destination_id);
  }
  return null;
}
