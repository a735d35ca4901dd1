/**
 * Migrations shipped as data (not files read at run time), so they apply the same way from a
 * checkout and from inside a `deno compile` binary. Append only; never edit an applied one.
 */
export interface Migration {
  id: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    id: 1,
    name: "initial",
    sql: `
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin','user')),
  must_change_password INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE revoked_tokens (jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE TABLE destinations (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  config TEXT NOT NULL,
  retry TEXT,
  active INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX destinations_owner ON destinations(owner, created_at);
CREATE TABLE routes (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  endpoint TEXT NOT NULL UNIQUE,
  method TEXT NOT NULL,
  spec TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX routes_owner ON routes(owner, created_at);
CREATE TABLE events (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  route_id TEXT,
  source TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  query TEXT NOT NULL,
  ip TEXT NOT NULL,
  headers TEXT NOT NULL,
  body BLOB NOT NULL,
  dedup_key TEXT,
  status TEXT NOT NULL DEFAULT 'accepted',
  error TEXT,
  processed_at INTEGER,
  due_at INTEGER NOT NULL,
  lease_owner TEXT,
  lease_until INTEGER
);
CREATE UNIQUE INDEX events_dedup ON events(route_id, dedup_key) WHERE dedup_key IS NOT NULL;
CREATE INDEX events_due ON events(due_at) WHERE status = 'accepted';
CREATE INDEX events_tenant ON events(tenant, received_at);
CREATE INDEX events_route ON events(route_id, received_at);
CREATE TABLE deliveries (
  id TEXT PRIMARY KEY,
  event_id TEXT NOT NULL,
  tenant TEXT NOT NULL,
  route_id TEXT,
  destination_id TEXT NOT NULL,
  fallback_destination_id TEXT,
  status TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  lease_owner TEXT,
  lease_until INTEGER,
  body BLOB NOT NULL,
  headers TEXT NOT NULL,
  key TEXT,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX deliveries_due ON deliveries(next_at) WHERE status = 'pending';
CREATE INDEX deliveries_event ON deliveries(event_id);
CREATE INDEX deliveries_dead ON deliveries(tenant, updated_at) WHERE status = 'dead';
CREATE INDEX deliveries_dest ON deliveries(destination_id, status);
CREATE TABLE attempts (
  delivery_id TEXT NOT NULL,
  n INTEGER NOT NULL,
  at INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  error TEXT,
  duration_ms INTEGER,
  PRIMARY KEY (delivery_id, n)
);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER);
CREATE TABLE leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, until INTEGER NOT NULL);
`,
  },
  {
    id: 2,
    name: "pipeline_state",
    sql: `
CREATE TABLE pipeline_values (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER);
CREATE TABLE pipeline_buckets (
  key TEXT PRIMARY KEY,
  count INTEGER NOT NULL,
  sum REAL NOT NULL,
  items TEXT NOT NULL,
  ids TEXT NOT NULL,
  first_at INTEGER NOT NULL,
  due_at INTEGER,
  expires_at INTEGER,
  meta TEXT NOT NULL,
  sealed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX pipeline_buckets_due ON pipeline_buckets(due_at) WHERE due_at IS NOT NULL;
`,
  },
  {
    id: 3,
    name: "triggers",
    // Releasing a lease keeps its row (until = 0) so its fence only ever grows.
    sql: `
ALTER TABLE leases ADD COLUMN fence INTEGER NOT NULL DEFAULT 0;
CREATE TABLE triggers (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT,
  type TEXT NOT NULL,
  route_id TEXT NOT NULL REFERENCES routes(id) ON DELETE CASCADE,
  config TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX triggers_owner ON triggers(owner, created_at);
CREATE INDEX triggers_route ON triggers(route_id);
CREATE TABLE trigger_state (
  trigger_id TEXT PRIMARY KEY REFERENCES triggers(id) ON DELETE CASCADE,
  cursor TEXT,
  fence INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT '{}',
  secrets TEXT NOT NULL DEFAULT '{}',
  last_run_at INTEGER,
  next_run_at INTEGER,
  last_error TEXT,
  events_emitted INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL
);
`,
  },
  {
    id: 4,
    name: "event attempts",
    // Pipeline attempts per event: a failing stage is retried on the delivery schedule and
    // given up after its attempt limit.
    sql: `ALTER TABLE events ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;`,
  },
  {
    id: 5,
    name: "pending deliveries by destination",
    // A claim that leaves out destinations whose circuit is open seeks each other
    // destination's oldest due deliveries here instead of scanning past the excluded backlog.
    sql:
      `CREATE INDEX deliveries_pending_dest ON deliveries(destination_id, next_at) WHERE status = 'pending';`,
  },
];
