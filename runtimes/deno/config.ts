/**
 * Configuration from the environment (names from the seed README), overridden by flags.
 * Invalid values stop the node with exit code 2 and one line naming the variable and the rule.
 * The variables themselves are listed once, in `variables.ts`.
 */
import { parseEncryptionKey } from "../../core/crypto/sealer.ts";
import { VARIABLE_NAMES } from "./variables.ts";

export interface NodeConfig {
  port: number;
  host: string;
  databaseType: "sqlite" | "libsql" | "postgres";
  databasePath: string;
  databaseUrl?: string;
  databaseAuthToken?: string;
  databaseSync: "full" | "normal";
  /** Run the embedded SQLite on the main thread instead of its worker. */
  databaseInline: boolean;
  dataDir: string;
  jwtSecret?: string;
  encryptionKey?: string;
  logLevel: "debug" | "info" | "warn" | "error";
  redisAddress?: string;
  redisPassword?: string;
  /** Deno KV for coordination (a file path, or a KV Connect URL). */
  kvPath?: string;
  /** Lease period of triggers and jobs; a dead node's triggers move after about this. */
  leaseMs: number;
  rabbitmqUrl?: string;
  allowPrivateNetworks: boolean;
  maxBodyBytes: number;
  tokenTtlSeconds: number;
  retentionDays: number;
  trustProxy: boolean;
  nodeId?: string;
  /** Upper bound of one publish call; leases are twice this. */
  publishTimeoutMs: number;
  /** Dispatch loops working at once, each on its own claimed batch. */
  dispatchConcurrency: number;
  /** A request head must arrive within this (0: no front, Deno.serve alone). */
  headerTimeoutMs: number;
  /** Longest request head (request line and headers); longer ones answer 431. */
  maxHeaderBytes: number;
  /** A connection with nothing sent either way for this long is closed. */
  idleTimeoutMs: number;
  /** Shared with the edges (at least 32 characters); unset, the edge endpoints answer 404. */
  edgeSecret?: string;
  /** How long an idle group commit waits for more events to join it. */
  groupCommitWaitMs: number;
  /** Fresh webhooks go through the fsync'd ingest journal (embedded SQLite only). */
  ingestJournal: boolean;
  /** Above this many journal bytes not yet in the store, or events waiting for a commit,
   * webhooks are answered 503 with Retry-After. */
  ingestBacklogBytes: number;
  ingestBacklogEvents: number;
}

export class ConfigError extends Error {}

type Source = Record<string, string | undefined>;

function int(src: Source, name: string, def: number, min: number, max: number): number {
  const raw = src[name];
  if (raw === undefined || raw === "") return def;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name}=${raw} is invalid: must be an integer from ${min} to ${max}`);
  }
  return Number(raw);
}

function bool(src: Source, name: string, def: boolean): boolean {
  const raw = src[name];
  if (raw === undefined || raw === "") return def;
  if (/^(true|1|yes)$/i.test(raw)) return true;
  if (/^(false|0|no)$/i.test(raw)) return false;
  throw new ConfigError(`${name}=${raw} is invalid: must be true or false`);
}

function oneOf<T extends string>(src: Source, name: string, def: T, allowed: readonly T[]): T {
  const raw = src[name];
  if (raw === undefined || raw === "") return def;
  if (!allowed.includes(raw.toLowerCase() as T)) {
    throw new ConfigError(`${name}=${raw} is invalid: must be one of ${allowed.join(", ")}`);
  }
  return raw.toLowerCase() as T;
}

/** The variables a flag may set; any other flag is the command's own (or an error). */
export const CONFIG_VARIABLES = VARIABLE_NAMES;

/** Flags like `--port 9000` or `--port=9000` map to env names (PORT). */
export function flagsToEnv(args: string[]): { env: Source; rest: string[] } {
  const env: Source = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const m = args[i].match(/^--([a-z][a-z0-9-]*)(?:=(.*))?$/);
    const name = m?.[1].replaceAll("-", "_").toUpperCase();
    if (!m || !name || !CONFIG_VARIABLES.has(name)) {
      rest.push(args[i]);
      continue;
    }
    const value = m[2] ??
      (args[i + 1] !== undefined && !args[i + 1].startsWith("--") ? args[++i] : "true");
    env[name] = value;
  }
  return { env, rest };
}

/** DATABASE_URL (postgres://...) or one built from POSTGRES_HOST/USER/PASSWORD/DB/PORT. */
function postgresUrl(env: Source): string {
  const url = env.DATABASE_URL;
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) {
      throw new ConfigError(
        `DATABASE_URL=${
          url.replace(/\/\/[^@]*@/, "//***@")
        } is invalid: must start with postgres:// when DATABASE_TYPE=postgres`,
      );
    }
    return url;
  }
  if (!env.POSTGRES_HOST) {
    throw new ConfigError(
      "DATABASE_URL (postgres://...) or POSTGRES_HOST is required when DATABASE_TYPE=postgres",
    );
  }
  const port = int(env, "POSTGRES_PORT", 5432, 1, 65535);
  const e = encodeURIComponent;
  const auth = env.POSTGRES_USER
    ? `${e(env.POSTGRES_USER)}${env.POSTGRES_PASSWORD ? `:${e(env.POSTGRES_PASSWORD)}` : ""}@`
    : "";
  const host = env.POSTGRES_HOST.includes(":") ? `[${env.POSTGRES_HOST}]` : env.POSTGRES_HOST;
  return `postgres://${auth}${host}:${port}/${e(env.POSTGRES_DB || "event_router")}`;
}

export function loadConfig(env: Source): NodeConfig {
  const type = oneOf(
    env,
    "DATABASE_TYPE",
    /^postgres(ql)?:/.test(env.DATABASE_URL ?? "")
      ? "postgres"
      : env.DATABASE_URL
      ? "libsql"
      : "sqlite",
    [
      "sqlite",
      "libsql",
      "turso",
      "postgres",
    ] as const,
  );
  // The embedded database lives in the data folder unless placed elsewhere on purpose.
  const databasePath = env.DATABASE_PATH ||
    (env.DATA_DIR
      ? `${env.DATA_DIR.replace(/\/+$/, "")}/event-router.db`
      : "./data/event-router.db");
  const jwt = env.JWT_SECRET;
  if (jwt !== undefined && jwt !== "" && jwt.length < 32) {
    throw new ConfigError(
      `JWT_SECRET is invalid: must be at least 32 characters (got ${jwt.length})`,
    );
  }
  const edgeSecret = env.EDGE_SECRET;
  if (edgeSecret !== undefined && edgeSecret !== "" && edgeSecret.length < 32) {
    throw new ConfigError(
      `EDGE_SECRET is invalid: must be at least 32 characters (got ${edgeSecret.length})`,
    );
  }
  const encryptionKey = env.ENCRYPTION_KEY || undefined;
  if (encryptionKey) {
    // Checked here, before anything is written: a bad key must not leave a data folder behind.
    try {
      parseEncryptionKey(encryptionKey);
    } catch (e) {
      throw new ConfigError(`ENCRYPTION_KEY is invalid: ${(e as Error).message}`);
    }
  }
  const databaseUrl = type === "postgres" ? postgresUrl(env) : env.DATABASE_URL || undefined;
  if ((type === "libsql" || type === "turso") && !databaseUrl) {
    throw new ConfigError(`DATABASE_URL is required when DATABASE_TYPE=${type}`);
  }
  if (type !== "postgres" && databaseUrl && !/^(libsql|https?|wss?|file):/.test(databaseUrl)) {
    throw new ConfigError(
      `DATABASE_URL=${
        databaseUrl.replace(/\/\/[^@]*@/, "//***@")
      } is invalid: must start with libsql:, http(s):, ws(s): or file:`,
    );
  }
  const dataDir = env.DATA_DIR ||
    (databasePath.includes("/") ? databasePath.replace(/\/[^/]*$/, "") || "." : ".");
  return {
    port: int(env, "PORT", 8080, 0, 65535),
    host: env.HOST || "0.0.0.0",
    databaseType: type === "sqlite" || type === "postgres" ? type : "libsql",
    databasePath,
    databaseUrl,
    databaseAuthToken: env.DATABASE_AUTH_TOKEN || undefined,
    databaseSync: oneOf(env, "DATABASE_SYNC", "full", ["full", "normal"] as const),
    databaseInline: bool(env, "DATABASE_INLINE", false),
    dataDir,
    jwtSecret: jwt || undefined,
    encryptionKey,
    logLevel: oneOf(env, "LOG_LEVEL", "info", ["debug", "info", "warn", "error"] as const),
    redisAddress: env.REDIS_ADDRESS || undefined,
    redisPassword: env.REDIS_PASSWORD || undefined,
    kvPath: env.KV_PATH || undefined,
    leaseMs: int(env, "LEASE_MS", 15_000, 500, 600_000),
    rabbitmqUrl: env.RABBITMQ_URL || undefined,
    allowPrivateNetworks: bool(env, "ALLOW_PRIVATE_NETWORKS", false),
    maxBodyBytes: int(env, "MAX_BODY_BYTES", 1024 * 1024, 1, 64 * 1024 * 1024),
    tokenTtlSeconds: int(env, "TOKEN_TTL_SECONDS", 24 * 3600, 60, 30 * 86400),
    retentionDays: int(env, "RETENTION_DAYS", 7, 1, 3650),
    trustProxy: bool(env, "TRUST_PROXY", false),
    nodeId: env.NODE_ID || undefined,
    publishTimeoutMs: int(env, "PUBLISH_TIMEOUT_MS", 30_000, 100, 600_000),
    headerTimeoutMs: int(env, "HEADER_TIMEOUT_MS", 10_000, 0, 600_000),
    maxHeaderBytes: int(env, "MAX_HEADER_BYTES", 32 * 1024, 1024, 1024 * 1024),
    idleTimeoutMs: int(env, "IDLE_TIMEOUT_MS", 60_000, 1_000, 3_600_000),
    dispatchConcurrency: int(env, "DISPATCH_CONCURRENCY", 4, 1, 64),
    edgeSecret: edgeSecret || undefined,
    groupCommitWaitMs: int(env, "GROUP_COMMIT_WAIT_MS", 0, 0, 1000),
    ingestJournal: bool(env, "INGEST_JOURNAL", true),
    ingestBacklogBytes: int(env, "INGEST_BACKLOG_BYTES", 32 * 1024 * 1024, 65536, 2 ** 40),
    ingestBacklogEvents: int(env, "INGEST_BACKLOG_EVENTS", 20_000, 100, 10_000_000),
  };
}
