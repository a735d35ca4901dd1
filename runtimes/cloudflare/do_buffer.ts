/**
 * The Worker edge's durable buffer in Durable Object storage: one key per event, its receive
 * time first so forwarding goes oldest first. `put` resolves after the storage write is
 * durable (the object's output gate), which is when the Worker may answer 202.
 */
import type { Envelope } from "../../core/ports.ts";
import type { EdgeBuffer } from "../../core/edge/forwarder.ts";
import type { RoutesBackup } from "../../core/edge/route_sync.ts";
import type { DurableObjectStorage } from "./types.ts";

/** Storage calls take at most 128 keys. */
const MAX_KEYS = 128;
const ROUTE_PART = 100_000;

/** A view is stored with its whole underlying buffer: keep only the body's own bytes. */
const own = (b: Uint8Array) =>
  b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : b.slice();

const key = (e: Pick<Envelope, "id" | "receivedAt">) =>
  `ev:${String(e.receivedAt).padStart(15, "0")}:${e.id}`;

export function createDoBuffer(storage: DurableObjectStorage): EdgeBuffer {
  return {
    async put(events) {
      for (let i = 0; i < events.length; i += MAX_KEYS) {
        await storage.put(
          Object.fromEntries(
            events.slice(i, i + MAX_KEYS).map((e) => [key(e), { ...e, body: own(e.body) }]),
          ),
        );
      }
    },
    async list(limit) {
      return [...(await storage.list<Envelope>({ prefix: "ev:", limit })).values()];
    },
    async delete(events) {
      for (let i = 0; i < events.length; i += MAX_KEYS) {
        await storage.delete(events.slice(i, i + MAX_KEYS).map(key));
      }
    },
  };
}

/** The sealed routes copy, in parts below the storage's value limit. */
export function createDoRoutesBackup(storage: DurableObjectStorage): RoutesBackup {
  return {
    async load() {
      const parts = await storage.list<string>({ prefix: "routes:" });
      const n = await storage.get<number>("routes");
      if (!n || parts.size !== n) return null;
      return [...parts.values()].join("");
    },
    async save(sealed) {
      const n = Math.max(1, Math.ceil(sealed.length / ROUTE_PART));
      const entries: Record<string, string | number> = { routes: n };
      for (let i = 0; i < n; i++) {
        entries[`routes:${String(i).padStart(6, "0")}`] = sealed.slice(
          i * ROUTE_PART,
          (i + 1) * ROUTE_PART,
        );
      }
      const old = await storage.list<string>({ prefix: "routes:" });
      const stale = [...old.keys()].filter((k) => !(k in entries));
      await storage.put(entries);
      if (stale.length) await storage.delete(stale);
    },
  };
}
