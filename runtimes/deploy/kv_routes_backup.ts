/**
 * The Deploy edge's saved routes copy (sealed text) in Deno KV, split into parts since one KV
 * value holds at most 64 KiB. Parts go under a fresh generation before the pointer moves, so
 * a crash while saving leaves the previous copy readable.
 */
import type { RoutesBackup } from "../../core/edge/route_sync.ts";

const META = ["edge", "routes", "current"];
const PART = 60_000;

export function createKvRoutesBackup(kv: Deno.Kv): RoutesBackup {
  return {
    async load() {
      const meta = await kv.get<{ gen: string; parts: number }>(META);
      if (!meta.value) return null;
      let text = "";
      let n = 0;
      for await (const e of kv.list<string>({ prefix: ["edge", "routes", meta.value.gen] })) {
        text += e.value;
        n++;
      }
      return n === meta.value.parts ? text : null;
    },
    async save(sealed) {
      const old = (await kv.get<{ gen: string; parts: number }>(META)).value;
      const gen = crypto.randomUUID();
      const parts = Math.max(1, Math.ceil(sealed.length / PART));
      for (let i = 0; i < parts; i += 10) {
        const op = kv.atomic();
        for (let p = i; p < Math.min(parts, i + 10); p++) {
          op.set(["edge", "routes", gen, p], sealed.slice(p * PART, (p + 1) * PART));
        }
        await op.commit();
      }
      await kv.set(META, { gen, parts });
      if (old) {
        for await (const e of kv.list({ prefix: ["edge", "routes", old.gen] })) {
          await kv.delete(e.key);
        }
      }
    },
  };
}
