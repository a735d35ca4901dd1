/**
 * One live Publisher per destination, created from its stored config (secrets opened) and
 * replaced when the destination changes. Connections are reused across batches.
 */
import type { Publisher, PublisherContext, PublisherFactory, Sealer } from "../ports.ts";
import type { Store } from "../store.ts";
import type { Destination } from "../model/destination.ts";
import type { Role } from "../model/user.ts";
import { openSecrets } from "../model/secret_fields.ts";

/** A destination whose stored config cannot make a publisher: retrying will not help. */
export class PublisherConfigError extends Error {
  override name = "PublisherConfigError";
}

export interface PoolEntry {
  destination: Destination;
  publisher: Publisher;
  connected: boolean;
}

export interface PublisherPool {
  get(destinationId: string): Promise<PoolEntry | null>;
  invalidate(destinationId?: string): void;
  closeAll(): Promise<void>;
  healthy(): Promise<boolean>;
}

export function createPublisherPool(deps: {
  store: Store;
  sealer: Sealer;
  factories: Record<string, PublisherFactory>;
  /** Overrides for destinations whose owner is not an admin. */
  tenantFactories?: Record<string, PublisherFactory>;
  /** The outbound context for a destination owned by a user of this role. */
  context(role: Role): PublisherContext;
  /** Fills runtime defaults into a config (e.g. RABBITMQ_URL for a rabbitmq without url). */
  defaults?(type: string, config: Record<string, unknown>): Record<string, unknown>;
  ttlMs?: number;
}): PublisherPool {
  const ttl = deps.ttlMs ?? 5000;
  const entries = new Map<string, { at: number; entry: Promise<PoolEntry | null> }>();

  async function build(id: string, previous?: PoolEntry | null): Promise<PoolEntry | null> {
    const d = await deps.store.getDestination(null, id);
    if (!d) {
      await previous?.publisher.close().catch(() => {});
      return null;
    }
    if (previous && previous.destination.updatedAt === d.updatedAt) return previous;
    await previous?.publisher.close().catch(() => {});
    const factory = deps.factories[d.type];
    if (!factory) {
      throw new Error(`destination ${id}: type ${d.type} is not available on this node`);
    }
    let config = await openSecrets(d.config, deps.sealer);
    if (deps.defaults) config = deps.defaults(d.type, config);
    const owner = await deps.store.getUser(d.owner);
    const publisher = factory.create(factory.parseConfig(config), {
      ...deps.context(owner?.role ?? "user"),
      owner: d.owner,
    });
    return { destination: d, publisher, connected: false };
  }

  return {
    async get(id) {
      const now = Date.now();
      const hit = entries.get(id);
      if (hit && now - hit.at < ttl) return hit.entry;
      const previous = hit ? await hit.entry.catch(() => null) : undefined;
      const entry = build(id, previous);
      entries.set(id, { at: now, entry });
      entry.catch(() => entries.delete(id));
      return entry;
    },
    invalidate(id) {
      for (const [k, v] of entries) {
        if (!id || k === id) v.at = 0;
      }
    },
    async closeAll() {
      const all = [...entries.values()];
      entries.clear();
      await Promise.all(all.map(async (v) => {
        const e = await v.entry.catch(() => null);
        await e?.publisher.close().catch(() => {});
      }));
    },
    async healthy() {
      for (const v of entries.values()) {
        const e = await v.entry.catch(() => null);
        if (e?.publisher.healthy && e.publisher.healthy() === false) return false;
      }
      return true;
    },
  };
}
