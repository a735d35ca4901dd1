/**
 * What the address-guard tests need: a loopback listener that counts every connection it is
 * offered (a refused destination must leave it at zero), and Outbounds over a real policy with
 * an injected resolver, so a made-up name can resolve to 127.0.0.1 without DNS.
 */
import type { Logger, PublisherContext } from "../../core/ports.ts";
import { type AddressPolicyOptions, createAddressPolicy } from "../../core/net/private_address.ts";
import { type ClosableOutbound, createOutbound } from "../../runtimes/deno/outbound.ts";

export interface Canary {
  host: string;
  port: number;
  /** Connections accepted so far. */
  connections(): number;
  /** Resolves once a connection arrived, or rejects after `ms`. */
  reached(ms: number): Promise<void>;
  close(): void;
}

/** A TCP listener on 127.0.0.1 that accepts, counts, reads and never answers. */
export function canary(hostname = "127.0.0.1"): Canary {
  const listener = Deno.listen({ hostname, port: 0 });
  const conns: Deno.Conn[] = [];
  let count = 0;
  const waiters: (() => void)[] = [];
  (async () => {
    for await (const c of listener) {
      count++;
      conns.push(c);
      waiters.splice(0).forEach((w) => w());
      c.readable.pipeTo(new WritableStream()).catch(() => {});
    }
  })().catch(() => {});
  return {
    host: hostname,
    port: (listener.addr as Deno.NetAddr).port,
    connections: () => count,
    reached(ms) {
      if (count > 0) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no connection within ${ms} ms`)), ms);
        waiters.push(() => (clearTimeout(t), resolve()));
      });
    },
    close() {
      try {
        listener.close();
      } catch { /* closed */ }
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
  };
}

/** The made-up name the injected resolver answers with 127.0.0.1 (no DNS involved). */
export const REBOUND_NAME = "canary.guard.test";

const silent: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silent,
};

/**
 * A PublisherContext over a real policy (strict unless `policy` says otherwise) whose
 * resolver answers REBOUND_NAME with 127.0.0.1 and refuses to resolve anything else.
 */
export function guardedContext(
  policy: AddressPolicyOptions = {},
): PublisherContext & Pick<ClosableOutbound, "close"> {
  const outbound = createOutbound(createAddressPolicy(policy), {
    resolve: (host) =>
      host === REBOUND_NAME
        ? Promise.resolve(["127.0.0.1"])
        : Promise.reject(new Error(`cannot resolve host ${host}: not in the test table`)),
  });
  return { ...outbound, log: silent };
}
