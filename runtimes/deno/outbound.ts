/**
 * The Deno runtime's `Outbound` (core/ports.ts): one address policy behind every way a
 * tenant's config can open a connection: the guarded fetch (guarded_fetch.ts), `resolve` for
 * clients that take a host, and a node-style `lookup` for clients that take node:net options
 * or an http(s) Agent. All three dial only addresses that were checked.
 */
import { lookup as systemLookup } from "node:dns";
import type { LookupAddress, LookupFunction, Outbound } from "../../core/ports.ts";
import {
  type AddressPolicy,
  createAddressPolicy,
  ForbiddenAddressError,
  parseIp,
} from "../../core/net/private_address.ts";
import { createGuardedFetch, type GuardedFetchOptions } from "./guarded_fetch.ts";
import { canonicalHost, checkedAddresses, resolveHost } from "./resolve.ts";

export interface ClosableOutbound extends Outbound {
  /** Closes pinned HTTP clients (a node keeps its Outbound for its lifetime). */
  close(): Promise<void>;
}

/** The Outbound for one policy (a node makes one for tenants and one for admins). */
export function createOutbound(
  policy: AddressPolicy,
  opts: GuardedFetchOptions = {},
): ClosableOutbound {
  const resolver = opts.resolve ?? resolveHost;
  const guarded = createGuardedFetch(policy, opts);

  const resolve = async (host: string, port: number, signal?: AbortSignal) => {
    const addrs = await checkedAddresses(policy, host, port, resolver, signal);
    return addrs.length ? addrs : [canonicalHost(host)];
  };

  const lookup = (port: number): LookupFunction => (hostname, options, callback) => {
    const o = typeof options === "number" ? { family: options } : options ?? {};
    const family = o.family === "IPv4" ? 4 : o.family === "IPv6" ? 6 : Number(o.family ?? 0);
    let host: string;
    try {
      host = canonicalHost(hostname);
    } catch (e) {
      return queueMicrotask(() => callback(e as Error, o.all ? [] : ""));
    }
    if (policy.hostAllowed(host, port)) {
      // Allowed by name: the system resolver, /etc/hosts included, as a plain client would.
      return systemLookup(hostname, { family, all: o.all === true } as never, callback as never);
    }
    checkedAddresses(policy, host, port, resolver).then((addrs) => {
      const list: LookupAddress[] = addrs
        .map((address) => ({ address, family: address.includes(":") ? 6 as const : 4 as const }))
        .filter((a) => family === 0 || a.family === family);
      if (list.length === 0) {
        const e = Object.assign(new Error(`no IPv${family} address for ${host}`), {
          code: "ENOTFOUND",
        });
        return callback(e, o.all ? [] : "");
      }
      if (o.all) callback(null, list);
      else callback(null, list[0].address, list[0].family);
    }, (e) => callback(e instanceof Error ? e : new Error(String(e)), o.all ? [] : ""));
  };

  const refuseLiteral = (host: string, port: number): Error | null => {
    let h: string;
    try {
      h = canonicalHost(host);
    } catch (e) {
      return e as Error;
    }
    if (!parseIp(h) || policy.hostAllowed(h, port)) return null;
    const reason = policy.check(h, [h], port);
    return reason ? new ForbiddenAddressError(h, reason) : null;
  };

  return {
    fetch: guarded,
    resolve,
    lookup,
    refuseLiteral,
    async checkHost(host, port) {
      await checkedAddresses(policy, host, port, resolver);
    },
    close: () => guarded.close(),
  };
}

/** An Outbound that allows everything (admin-owned configs; tests against loopback servers). */
export function openOutbound(opts: GuardedFetchOptions = {}): ClosableOutbound {
  return createOutbound(createAddressPolicy({ allowPrivate: true }), opts);
}
