/**
 * http(s) Agents whose every connection goes through the address guard: for clients that take
 * an Agent (the AWS SDK's NodeHttpHandler, gaxios, got...). Each new connection gets the
 * Outbound's `lookup` for its own port, so redirects or endpoint changes inside the library
 * are checked too, on the address actually dialled.
 */
import http from "node:http";
import https from "node:https";
import type net from "node:net";
import type { Outbound } from "../../core/ports.ts";
import { refusedSocket } from "./socket.ts";

type Connect = (options: Record<string, unknown>, cb?: unknown) => unknown;

/** Wraps the agent's own createConnection so each connection gets the lookup for its port. */
function guard<A extends http.Agent>(
  agent: A,
  outbound: Pick<Outbound, "lookup" | "refuseLiteral">,
  fallbackPort: number,
): A {
  const a = agent as unknown as { createConnection: Connect };
  const original = a.createConnection.bind(agent);
  a.createConnection = (options, cb) => {
    const port = Number(options.port || options.defaultPort || fallbackPort);
    const host = String(options.host ?? options.hostname ?? "localhost");
    // node:net dials an IP literal without asking `lookup`: decide those here.
    const refused = outbound.refuseLiteral(host.replace(/^\[|\]$/g, ""), port);
    if (refused) return refusedSocket(refused);
    const lookup = outbound.lookup(port) as unknown as net.LookupFunction;
    return original({ ...options, lookup }, cb);
  };
  return agent;
}

export interface GuardedAgents {
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
  destroy(): void;
}

/** A guarded http and https Agent pair (keep-alive on, like the SDKs' defaults). */
export function guardedAgents(
  outbound: Pick<Outbound, "lookup" | "refuseLiteral">,
  opts: http.AgentOptions = {},
): GuardedAgents {
  const httpAgent = guard(new http.Agent({ keepAlive: true, ...opts }), outbound, 80);
  const httpsAgent = guard(new https.Agent({ keepAlive: true, ...opts }), outbound, 443);
  return {
    httpAgent,
    httpsAgent,
    destroy() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
