/**
 * The SQLite-dialect Store over any SqlClient: the embedded `node:sqlite` file by default, or a
 * libSQL/Turso server through `@libsql/client`. Entities go through drizzle; the event path is
 * plain SQL tuned for group commit.
 */
import type { SqlClient } from "../sql/client.ts";
import type { Store } from "../../../core/store.ts";
import { MIGRATIONS } from "./migrations.ts";
import { SqlAggregateState } from "./aggregate_state.ts";
import { drizzleOver, entityQueries } from "./entities.ts";
import { eventPath } from "./event_path.ts";
import { historyQueries } from "./queries.ts";
import { openNodeSqlite } from "./node_sqlite_client.ts";
import { openLibsql } from "./libsql_client.ts";
import { openWorkerSqlite, type WorkerSqliteClient } from "./worker_sqlite_client.ts";
import { encodeEnvelopes } from "../../../core/ingress/envelope_codec.ts";

export function createSqlStore(client: SqlClient | WorkerSqliteClient): Store {
  let state: SqlAggregateState | undefined;
  const path = eventPath(client);
  if ("acceptEncoded" in client) {
    // On the worker thread the batch travels as one buffer and the event path runs there.
    path.accept = (events, opts) =>
      client.acceptEncoded(opts?.encoded ?? encodeEnvelopes(events), opts?.lease);
  }
  return {
    pipelineState: () => (state ??= new SqlAggregateState(client)),
    kind: client.driver,
    ...entityQueries(drizzleOver(client)),
    ...path,
    ...historyQueries(client),
    async migrate() {
      await client.exec(
        `CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL,
         applied_at INTEGER NOT NULL)`,
      );
      const done = new Set(
        (await client.all<{ id: number }>(`SELECT id FROM schema_migrations`)).map((r) =>
          Number(r.id)
        ),
      );
      for (const m of MIGRATIONS) {
        if (done.has(m.id)) continue;
        // One migration is one transaction: its statements plus its bookkeeping row.
        const stmts = m.sql.split(/;\s*\n/).map((s) => s.trim()).filter(Boolean)
          .map((sql) => ({ sql }));
        stmts.push({
          sql: `INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)`,
          params: [m.id, m.name, Date.now()],
        } as never);
        await client.batch(stmts);
      }
    },
    async ping() {
      await client.all(`SELECT 1 AS ok`);
    },
    close: () => client.close(),
    async revokeToken(jti: string, expiresAt: number) {
      await client.run(`INSERT OR IGNORE INTO revoked_tokens (jti, expires_at) VALUES (?, ?)`, [
        jti,
        expiresAt,
      ]);
    },
    async isRevoked(jti: string) {
      return (await client.all(`SELECT 1 FROM revoked_tokens WHERE jti = ?`, [jti])).length > 0;
    },
  };
}

export interface StoreConfig {
  /** A local file path (embedded) or a libsql:// / http(s):// server URL. */
  path?: string;
  url?: string;
  authToken?: string;
  synchronous?: "full" | "normal";
}

/**
 * Opens the configured store: a server URL wins over the local file. A local file runs on the
 * SQLite worker thread unless `inline` is set (tests and tools that want no extra thread).
 */
export async function openStoreAsync(
  cfg: StoreConfig & { inline?: boolean; worker?: Worker },
): Promise<Store> {
  if (cfg.url || cfg.inline || !cfg.path || cfg.path === ":memory:") return openStore(cfg);
  return createSqlStore(
    await openWorkerSqlite({ path: cfg.path, synchronous: cfg.synchronous }, cfg.worker),
  );
}

/** Opens the configured store on the calling thread: a server URL wins over the local file. */
export function openStore(cfg: StoreConfig): Store {
  if (cfg.url) return createSqlStore(openLibsql(cfg.url, cfg.authToken));
  return createSqlStore(
    openNodeSqlite({ path: cfg.path ?? ":memory:", synchronous: cfg.synchronous }),
  );
}
