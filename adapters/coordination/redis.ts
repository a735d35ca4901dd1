/**
 * Leases in Redis (REDIS_ADDRESS): the lease is a key set only if absent, with a PX expiry
 * (SET NX PX, done in a script together with the fence counter), holding `owner|fence`. The
 * fence is a counter beside it that grows on every acquisition. Renewal and release act only
 * while the key still holds this holder's value, so an expired holder cannot touch a lease
 * another node took. Expiry is Redis's own clock.
 */
import type { Redis } from "ioredis";
import type { Coordinator, Lease } from "../../core/ports.ts";

const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. fence, 'NX', 'PX', ARGV[2])
return fence`;

// A lease that expired but was not taken since (the fence is still ours) is taken back.
const RENEW = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if v == false and redis.call('GET', KEYS[2]) == ARGV[3] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export function redisCoordinator(
  redis: Redis,
  opts: { prefix?: string; close?: boolean } = {},
): Coordinator {
  const prefix = opts.prefix ?? "event-router:lease:";
  const keys = (name: string) => [`${prefix}${name}`, `${prefix}${name}:fence`];
  return {
    kind: "redis",
    async ping() {
      await redis.ping();
    },
    async tryAcquire(name, owner, ttlMs) {
      const fence = await redis.eval(ACQUIRE, 2, ...keys(name), owner, Math.ceil(ttlMs));
      if (fence === null) return null;
      const token = `${owner}|${fence}`;
      const lease: Lease = {
        name,
        owner,
        fence: Number(fence),
        async renew(ttl) {
          const r = await redis.eval(RENEW, 2, ...keys(name), token, Math.ceil(ttl), String(fence));
          return Number(r) === 1;
        },
        async release() {
          await redis.eval(RELEASE, 2, ...keys(name), token);
        },
      };
      return lease;
    },
    async close() {
      if (opts.close !== false) await redis.quit().catch(() => redis.disconnect());
    },
  };
}
