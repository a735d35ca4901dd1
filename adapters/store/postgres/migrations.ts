/**
 * PostgreSQL migrations shipped as data, like the SQLite ones: the same tables and columns.
 * Milliseconds are bigint, bodies bytea; headers and settings values are JSON text (parsed in
 * the store, as on SQLite); entity configs are `json`, which keeps the text exactly as written
 * (jsonb would reorder keys). Ids and keys collate as "C" so every ORDER BY matches SQLite's
 * byte order. Append only; never edit an applied one.
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
  id TEXT COLLATE "C" PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin','user')),
  must_change_password BOOLEAN NOT NULL DEFAULT false,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE revoked_tokens (jti TEXT PRIMARY KEY, expires_at BIGINT NOT NULL);
CREATE TABLE destinations (
  id TEXT COLLATE "C" PRIMARY KEY,
  owner TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  config JSON NOT NULL,
  retry JSON,
  active BOOLEAN NOT NULL DEFAULT true,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX destinations_owner ON destinations(owner, created_at);
CREATE TABLE routes (
  id TEXT COLLATE "C" PRIMARY KEY,
  owner TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  endpoint TEXT NOT NULL UNIQUE,
  method TEXT NOT NULL,
  spec JSON NOT NULL,
  active BOOLEAN NOT NULL DEFAULT true,
  version INTEGER NOT NULL DEFAULT 1,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX routes_owner ON routes(owner, created_at);
CREATE TABLE events (
  id TEXT COLLATE "C" PRIMARY KEY,
  tenant TEXT COLLATE "C" NOT NULL,
  route_id TEXT COLLATE "C",
  source TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  query TEXT NOT NULL,
  ip TEXT NOT NULL,
  headers TEXT NOT NULL,
  body BYTEA NOT NULL,
  dedup_key TEXT,
  status TEXT NOT NULL DEFAULT 'accepted',
  error TEXT,
  processed_at BIGINT,
  due_at BIGINT NOT NULL,
  lease_owner TEXT,
  lease_until BIGINT
);
CREATE UNIQUE INDEX events_dedup ON events(route_id, dedup_key) WHERE dedup_key IS NOT NULL;
CREATE INDEX events_due ON events(due_at) WHERE status = 'accepted';
CREATE INDEX events_tenant ON events(tenant, received_at);
CREATE INDEX events_route ON events(route_id, received_at);
CREATE TABLE deliveries (
  id TEXT COLLATE "C" PRIMARY KEY,
  event_id TEXT COLLATE "C" NOT NULL,
  tenant TEXT COLLATE "C" NOT NULL,
  route_id TEXT COLLATE "C",
  destination_id TEXT COLLATE "C" NOT NULL,
  fallback_destination_id TEXT COLLATE "C",
  status TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at BIGINT NOT NULL,
  lease_owner TEXT,
  lease_until BIGINT,
  body BYTEA NOT NULL,
  headers TEXT NOT NULL,
  key TEXT,
  last_error TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries(next_at) WHERE status = 'pending';
CREATE INDEX deliveries_event ON deliveries(event_id);
CREATE INDEX deliveries_dead ON deliveries(tenant, updated_at) WHERE status = 'dead';
CREATE INDEX deliveries_dest ON deliveries(destination_id, status);
CREATE TABLE attempts (
  delivery_id TEXT COLLATE "C" NOT NULL,
  n INTEGER NOT NULL,
  at BIGINT NOT NULL,
  outcome TEXT NOT NULL,
  error TEXT,
  duration_ms BIGINT,
  PRIMARY KEY (delivery_id, n)
);
CREATE TABLE settings (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE state (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL, expires_at BIGINT);
CREATE TABLE leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, until BIGINT NOT NULL);
`,
  },
  {
    id: 2,
    name: "pipeline_state",
    // items and ids are jsonb arrays of strings: each item is kept as its JSON text, so its
    // key order survives as on SQLite.
    sql: `
CREATE TABLE pipeline_values (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL,
  expires_at BIGINT);
CREATE TABLE pipeline_buckets (
  key TEXT COLLATE "C" PRIMARY KEY,
  count INTEGER NOT NULL,
  sum DOUBLE PRECISION NOT NULL,
  items JSONB NOT NULL,
  ids JSONB NOT NULL,
  first_at BIGINT NOT NULL,
  due_at BIGINT,
  expires_at BIGINT,
  meta TEXT NOT NULL,
  sealed BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX pipeline_buckets_due ON pipeline_buckets(due_at) WHERE due_at IS NOT NULL;
`,
  },
  {
    id: 3,
    name: "triggers",
    // Releasing a lease keeps its row (until = 0) so its fence only ever grows.
    sql: `
ALTER TABLE leases ADD COLUMN fence BIGINT NOT NULL DEFAULT 0;
CREATE TABLE triggers (
  id TEXT COLLATE "C" PRIMARY KEY,
  owner TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT,
  type TEXT NOT NULL,
  route_id TEXT COLLATE "C" NOT NULL REFERENCES routes(id) ON DELETE CASCADE,
  config JSON NOT NULL,
  active BOOLEAN NOT NULL DEFAULT true,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX triggers_owner ON triggers(owner, created_at);
CREATE INDEX triggers_route ON triggers(route_id);
CREATE TABLE trigger_state (
  trigger_id TEXT COLLATE "C" PRIMARY KEY REFERENCES triggers(id) ON DELETE CASCADE,
  cursor TEXT,
  fence BIGINT NOT NULL DEFAULT 0,
  status JSON NOT NULL DEFAULT '{}',
  secrets JSON NOT NULL DEFAULT '{}',
  last_run_at BIGINT,
  next_run_at BIGINT,
  last_error TEXT,
  events_emitted BIGINT NOT NULL DEFAULT 0,
  updated_at BIGINT NOT NULL
);
`,
  },
  {
    id: 4,
    name: "event attempts",
    // Pipeline attempts per event: a failing stage is retried on the delivery schedule and
    // given up after its attempt limit.
    sql: `ALTER TABLE events ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;`,
  },
  {
    id: 5,
    name: "pending deliveries by destination",
    // Claims that leave out destinations whose circuit is open seek each other destination's
    // oldest due deliveries here (event_path.ts, claimDue).
    sql:
      `CREATE INDEX deliveries_pending_dest ON deliveries(destination_id, next_at) WHERE status = 'pending';`,
  },
];
