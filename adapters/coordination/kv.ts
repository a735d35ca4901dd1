/**
 * Leases in Deno KV (KV_PATH): a lease entry `{owner, fence, until}` written with an atomic
 * check-and-set (the versionstamps of the lease and of its fence counter must be unchanged)
 * and `expireIn`, so a crashed holder's entry goes away by itself. KV deletes expired entries
 * lazily, so `until` is checked too. A KV file coordinates the processes of one machine; a
 * KV Connect URL coordinates several.
 */
import type { Clock, Coordinator, Lease } from "../../core/ports.ts";

interface Held {
  owner: string;
  fence: number;
  until: number;
}

export function kvCoordinator(
  kv: Deno.Kv,
  clock: Clock = { now: () => Date.now() },
  opts: { close?: boolean } = {},
): Coordinator {
  const keys = (name: string) => [["leases", name], ["lease_fences", name]] as const;

  async function write(name: string, held: Held, ttlMs: number, checks: Deno.AtomicCheck[]) {
    const [key, fenceKey] = keys(name);
    let op = kv.atomic();
    for (const c of checks) op = op.check(c);
    const r = await op.set(key, held, { expireIn: Math.max(1, Math.ceil(ttlMs)) })
      .set(fenceKey, held.fence).commit();
    return r.ok;
  }

  return {
    kind: "kv",
    async ping() {
      await kv.get(["ping"]);
    },
    async tryAcquire(name, owner, ttlMs) {
      const [key, fenceKey] = keys(name);
      // A lost race (another node wrote in between) is read again: maybe the lease is free.
      for (let attempt = 0; attempt < 3; attempt++) {
        const [cur, f] = await kv.getMany<[Held, number]>([key, fenceKey]);
        const now = clock.now();
        if (cur.value && cur.value.until > now) return null;
        const fence = (f.value ?? 0) + 1;
        if (!(await write(name, { owner, fence, until: now + ttlMs }, ttlMs, [cur, f]))) continue;
        const lease: Lease = {
          name,
          owner,
          fence,
          async renew(ttl) {
            const [c, fc] = await kv.getMany<[Held, number]>([key, fenceKey]);
            const mine = c.value
              ? c.value.owner === owner && c.value.fence === fence
              // expired and gone, and nobody acquired it since: still ours
              : fc.value === fence;
            if (!mine) return false;
            return await write(name, { owner, fence, until: clock.now() + ttl }, ttl, [c, fc]);
          },
          async release() {
            const c = await kv.get<Held>(key);
            if (c.value?.owner !== owner || c.value.fence !== fence) return;
            await kv.atomic().check(c).delete(key).commit();
          },
        };
        return lease;
      }
      return null;
    },
    close() {
      if (opts.close !== false) kv.close();
      return Promise.resolve();
    },
  };
}
