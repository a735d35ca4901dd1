/**
 * Re-seals every stored secret: under a new key (`keys rotate`), or under the same key to seal
 * secrets still stored in clear because they were saved before the secret rule knew them (a
 * node does this at start). Destinations, routes (signature config and enrich stages) and
 * every other entity with a config go through the same rule (secret_fields.ts).
 */
import type { Sealer } from "../ports.ts";
import type { Store } from "../store.ts";
import { resealSecrets, routeSecretRoots } from "./secret_fields.ts";

export interface ResealCount {
  destinations: number;
  routes: number;
  triggers: number;
}

/** Rewrites the rows whose sealing changes; with `from === to`, only rows with clear secrets. */
export async function resealStore(store: Store, from: Sealer, to: Sealer): Promise<ResealCount> {
  const count = { destinations: 0, routes: 0, triggers: 0 };
  for (const d of await store.allDestinations()) {
    const r = await resealSecrets(d.config, from, to);
    if (!r.changed) continue;
    await store.updateDestination({ userId: d.owner, role: "admin" }, { ...d, config: r.value });
    count.destinations++;
  }
  for (const route of await store.allRoutes()) {
    const r = await resealSecrets(route.spec, from, to, routeSecretRoots);
    if (!r.changed) continue;
    await store.updateRoute({ userId: route.owner, role: "admin" }, { ...route, spec: r.value });
    count.routes++;
  }
  for (const t of await store.allTriggers()) {
    const r = await resealSecrets(t.config, from, to);
    if (!r.changed) continue;
    await store.updateTrigger({ userId: t.owner, role: "admin" }, { ...t, config: r.value });
    count.triggers++;
  }
  return count;
}
