/**
 * The Store on PostgreSQL (postgres.js pool): entities through drizzle (pg-core), the event path
 * and history in plain SQL. Several nodes may share one database: claims skip each other's
 * locked rows, settles apply only for the lease holder, and `migrate()` runs under an advisory
 * lock so nodes starting at once apply each migration exactly once.
 */
import type { Sql } from "postgres";
import type { Store } from "../../../core/store.ts";
import { PgAggregateState } from "./aggregate_state.ts";
import { openPostgres, type PostgresOptions } from "./client.ts";
import { drizzleOver, entityQueries } from "./entities.ts";
import { eventPath } from "./event_path.ts";
import { MIGRATIONS } from "./migrations.ts";
import { historyQueries } from "./queries.ts";

export type { PostgresOptions } from "./client.ts";

/** First key of the advisory lock `migrate()` holds; the second is the schema's hash. */
const MIGRATE_LOCK = 0x45_52_4d_31; // "ERM1"

/** Applies the pending migrations in one transaction, under a per-schema advisory lock. */
export async function migratePostgres(sql: Sql): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATE_LOCK}::int4, hashtext(coalesce(current_schema(), '')))`;
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY,
      name TEXT NOT NULL, applied_at BIGINT NOT NULL)`;
    const done = new Set(
      (await tx<{ id: number }[]>`SELECT id FROM schema_migrations`).map((r) => Number(r.id)),
    );
    for (const m of MIGRATIONS) {
      if (done.has(m.id)) continue;
      await tx.unsafe(m.sql).simple();
      await tx`INSERT INTO schema_migrations (id, name, applied_at)
        VALUES (${m.id}, ${m.name}, ${Date.now()})`;
    }
  });
}

export function createPostgresStore(sql: Sql): Store {
  let state: PgAggregateState | undefined;
  return {
    kind: "postgres",
    pipelineState: () => (state ??= new PgAggregateState(sql)),
    ...entityQueries(drizzleOver(sql)),
    ...eventPath(sql),
    ...historyQueries(sql),
    migrate: () => migratePostgres(sql),
    async ping() {
      await sql`SELECT 1 AS ok`;
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
    async revokeToken(jti: string, expiresAt: number) {
      await sql`INSERT INTO revoked_tokens (jti, expires_at)
        VALUES (${jti}, ${Math.round(expiresAt)}) ON CONFLICT DO NOTHING`;
    },
    async isRevoked(jti: string) {
      return (await sql`SELECT 1 FROM revoked_tokens WHERE jti = ${jti}`).length > 0;
    },
  };
}

/**
 * Opens a pool on `url` (postgres://user:pass@host:port/db) and checks it answers. Call
 * `migrate()` before use.
 */
export async function openPostgresStore(url: string, opts: PostgresOptions = {}): Promise<Store> {
  const sql = openPostgres(url, opts);
  try {
    await sql`SELECT 1 AS ok`;
  } catch (e) {
    await sql.end({ timeout: 1 }).catch(() => {});
    const where = url.replace(/\/\/[^@]*@/, "//***@");
    throw new Error(`postgres ${where} is unreachable: ${(e as Error).message}`, { cause: e });
  }
  return createPostgresStore(sql);
}
