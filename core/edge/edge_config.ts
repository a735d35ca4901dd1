/**
 * An edge's configuration, from its platform's variables (Deno Deploy's environment, a
 * Worker's bindings). Invalid values throw one EdgeConfigError naming the variable and the rule.
 */
import { MIN_EDGE_SECRET_LENGTH } from "./hop.ts";
import { EDGE_ID } from "./wire.ts";

export interface EdgeConfig {
  /** Where the full node is; https, or http only for a loopback address (development). */
  fullNodeUrl: string;
  secret: string;
  edgeId: string;
  routesRefreshMs: number;
  /** Events per forwarded batch. */
  batchSize: number;
  /** Longest wait between forwarding attempts while the full node is away. */
  retryMaxMs: number;
}

export class EdgeConfigError extends Error {}

type Vars = Record<string, unknown>;

function int(vars: Vars, name: string, def: number, min: number, max: number): number {
  const raw = vars[name];
  if (raw === undefined || raw === "") return def;
  const text = String(raw);
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new EdgeConfigError(
      `${name}=${text} is invalid: must be an integer from ${min} to ${max}`,
    );
  }
  return Number(text);
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

export function loadEdgeConfig(vars: Vars): EdgeConfig {
  const url = String(vars.FULL_NODE_URL ?? "");
  if (!url) throw new EdgeConfigError("FULL_NODE_URL is required: the full node's base URL");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new EdgeConfigError(`FULL_NODE_URL=${url} is invalid: not a URL`);
  }
  if (
    parsed.protocol !== "https:" && !(parsed.protocol === "http:" && LOOPBACK.test(parsed.hostname))
  ) {
    throw new EdgeConfigError(
      `FULL_NODE_URL=${url} is invalid: must be https:// (http:// only for a loopback address)`,
    );
  }
  const secret = String(vars.EDGE_SECRET ?? "");
  if (secret.length < MIN_EDGE_SECRET_LENGTH) {
    throw new EdgeConfigError(
      `EDGE_SECRET is invalid: must be at least ${MIN_EDGE_SECRET_LENGTH} characters (got ${secret.length})`,
    );
  }
  const edgeId = String(vars.EDGE_ID || "edge");
  if (!EDGE_ID.test(edgeId)) {
    throw new EdgeConfigError(
      `EDGE_ID=${edgeId} is invalid: must be 1-64 letters, digits, '.', '_' or '-'`,
    );
  }
  return {
    fullNodeUrl: url.replace(/\/+$/, ""),
    secret,
    edgeId,
    routesRefreshMs: int(vars, "ROUTES_REFRESH_SECONDS", 30, 1, 86_400) * 1000,
    batchSize: int(vars, "EDGE_BATCH_SIZE", 100, 1, 500),
    retryMaxMs: int(vars, "EDGE_RETRY_MAX_SECONDS", 300, 1, 86_400) * 1000,
  };
}
