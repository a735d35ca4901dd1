/**
 * Every environment variable the full node reads, in one list: `loadConfig` takes only these,
 * each is also a flag (`PORT` is `--port`), `serve --help` prints them, and a test holds the
 * README's configuration table to exactly this list (names, defaults and meanings).
 */
export interface Variable {
  name: string;
  /** As shown in the README and in --help ("" when unset means off or not used). */
  default: string;
  /** One line, Markdown (backticks are dropped in --help). */
  meaning: string;
}

export const VARIABLES: readonly Variable[] = [
  { name: "PORT", default: "`8080`", meaning: "HTTP port" },
  { name: "HOST", default: "`0.0.0.0`", meaning: "Listen address" },
  {
    name: "DATABASE_TYPE",
    default: "`sqlite`",
    meaning:
      "`sqlite` (embedded file), `libsql` (a libSQL/Turso server) or `postgres` (PostgreSQL)",
  },
  {
    name: "DATABASE_PATH",
    default: "`./data/event-router.db`",
    meaning: "The embedded database file; its folder is the data folder",
  },
  {
    name: "DATABASE_URL",
    default: "",
    meaning:
      "libSQL/Turso server URL (`libsql://…`, `http(s)://…`) or PostgreSQL URL (`postgres://…`)",
  },
  { name: "DATABASE_AUTH_TOKEN", default: "", meaning: "Token for `DATABASE_URL`" },
  {
    name: "DATABASE_SYNC",
    default: "`full`",
    meaning: "`full` fsyncs every commit; `normal` survives a process crash but not a power loss",
  },
  {
    name: "DATABASE_INLINE",
    default: "`false`",
    meaning:
      "Embedded file only: run SQLite on the main thread instead of its own worker (debugging)",
  },
  {
    name: "DATA_DIR",
    default: "folder of `DATABASE_PATH`",
    meaning: "Where keys, tenants' files and the embedded database live",
  },
  {
    name: "POSTGRES_HOST",
    default: "",
    meaning: "With `DATABASE_TYPE=postgres` and no `DATABASE_URL`: the PostgreSQL host",
  },
  { name: "POSTGRES_PORT", default: "`5432`", meaning: "PostgreSQL port" },
  { name: "POSTGRES_USER", default: "", meaning: "PostgreSQL user" },
  { name: "POSTGRES_PASSWORD", default: "", meaning: "PostgreSQL password" },
  {
    name: "POSTGRES_DB",
    default: "`event_router`",
    meaning: "PostgreSQL database (created beforehand; the node creates its tables)",
  },
  {
    name: "JWT_SECRET",
    default: "generated",
    meaning: "At least 32 characters; if unset, generated into `<data>/jwt_secret` (0600)",
  },
  {
    name: "ENCRYPTION_KEY",
    default: "generated",
    meaning:
      "64 hex chars or base64 of 32 bytes; if unset, generated into `<data>/encryption_key` (0600)",
  },
  {
    name: "LOG_LEVEL",
    default: "`info`",
    meaning: "`debug`, `info`, `warn`, `error` (JSON lines on stderr)",
  },
  {
    name: "RABBITMQ_URL",
    default: "",
    meaning:
      "Default broker for routes using the `queue` shorthand and rabbitmq destinations without `url`",
  },
  {
    name: "REDIS_ADDRESS",
    default: "",
    meaning:
      "Redis for coordination (`host:port` or `redis://…`): leases there instead of in the store",
  },
  { name: "REDIS_PASSWORD", default: "", meaning: "Password for `REDIS_ADDRESS`" },
  {
    name: "KV_PATH",
    default: "",
    meaning: "Deno KV for coordination (a file, or a KV Connect URL) when `REDIS_ADDRESS` is unset",
  },
  {
    name: "LEASE_MS",
    default: "`15000`",
    meaning: "Lease of a trigger or job; a dead node's triggers move to another within about this",
  },
  {
    name: "ALLOW_PRIVATE_NETWORKS",
    default: "`false`",
    meaning: "Let non-admin destinations reach private/loopback addresses (development)",
  },
  {
    name: "MAX_BODY_BYTES",
    default: "`1048576`",
    meaning: "Default webhook body limit (a route may set its own)",
  },
  { name: "TOKEN_TTL_SECONDS", default: "`86400`", meaning: "Session lifetime" },
  {
    name: "RETENTION_DAYS",
    default: "`7`",
    meaning: "Delivered events older than this are removed; dead letters stay",
  },
  {
    name: "TRUST_PROXY",
    default: "`false`",
    meaning: "Take the client address from `X-Forwarded-For`",
  },
  {
    name: "PUBLISH_TIMEOUT_MS",
    default: "`30000`",
    meaning: "Longest publish call; a dead node's leases expire after twice this",
  },
  { name: "NODE_ID", default: "random", meaning: "This node's name in leases and logs" },
  {
    name: "DISPATCH_CONCURRENCY",
    default: "`4`",
    meaning: "Dispatch loops working at once, each on its own claimed batch",
  },
  {
    name: "GROUP_COMMIT_WAIT_MS",
    default: "`0`",
    meaning:
      "When idle, how long a commit waits for more webhooks to join it (0: it starts at once)",
  },
  {
    name: "EDGE_SECRET",
    default: "",
    meaning: "At least 32 characters, shared with the edges; unset, `/edge/v1/*` answers 404",
  },
  {
    name: "HEADER_TIMEOUT_MS",
    default: "`10000`",
    meaning:
      "A request head must arrive within this, else 408 (slow senders); `0` turns the guard off",
  },
  {
    name: "MAX_HEADER_BYTES",
    default: "`32768`",
    meaning: "Longest request head; longer ones answer 431",
  },
  {
    name: "IDLE_TIMEOUT_MS",
    default: "`60000`",
    meaning: "A connection with nothing sent either way for this long is closed",
  },
  {
    name: "INGEST_JOURNAL",
    default: "`true`",
    meaning: "Webhooks commit to an fsync'd journal beside the embedded database before the 202",
  },
  {
    name: "INGEST_BACKLOG_BYTES",
    default: "`33554432`",
    meaning:
      "Journal bytes not yet in the database above which webhooks get 503 with `Retry-After`",
  },
  {
    name: "INGEST_BACKLOG_EVENTS",
    default: "`20000`",
    meaning: "Events waiting for a commit above which webhooks get 503 with `Retry-After`",
  },
];

export const VARIABLE_NAMES: ReadonlySet<string> = new Set(VARIABLES.map((v) => v.name));

/** `PORT` -> `--port`. */
export const flagOf = (name: string) => `--${name.toLowerCase().replaceAll("_", "-")}`;

/** The variables as `serve --help` lists them: `NAME=default` and the meaning. */
export function variablesHelp(): string {
  const plain = (s: string) => s.replaceAll("`", "");
  const head = (v: Variable) => v.default ? `${v.name}=${plain(v.default)}` : v.name;
  const width = Math.max(...VARIABLES.map((v) => head(v).length)) + 2;
  return VARIABLES.map((v) => `  ${head(v).padEnd(width)}${plain(v.meaning)}`).join("\n");
}
