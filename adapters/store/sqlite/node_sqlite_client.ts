import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { Row, SqlClient, SqlValue, Stmt } from "../sql/client.ts";

export interface NodeSqliteOptions {
  path: string;
  /** "full" fsyncs every commit (safe against power loss); "normal" only at checkpoints. */
  synchronous?: "full" | "normal";
  busyTimeoutMs?: number;
}

/**
 * `node:sqlite` is synchronous: each call runs to completion on the JS thread, so no two
 * statements interleave and a batch is atomic without a lock. Prepared statements are cached
 * by SQL text because the hot path repeats the same few statements.
 */
export function openNodeSqlite(opts: NodeSqliteOptions): SqlClient {
  const db = new DatabaseSync(opts.path);
  db.exec(`PRAGMA journal_mode = WAL`);
  db.exec(`PRAGMA synchronous = ${opts.synchronous === "normal" ? "NORMAL" : "FULL"}`);
  db.exec(`PRAGMA busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
  db.exec(`PRAGMA foreign_keys = ON`);
  const cache = new Map<string, StatementSync>();
  const prepare = (sql: string) => {
    let st = cache.get(sql);
    if (!st) {
      st = db.prepare(sql);
      cache.set(sql, st);
    }
    return st;
  };
  const params = (p?: SqlValue[]) => (p ?? []) as never[];
  let closed = false;
  return {
    driver: "node-sqlite",
    all<T>(sql: string, p?: SqlValue[]) {
      try {
        return Promise.resolve(prepare(sql).all(...params(p)) as T[]);
      } catch (e) {
        return Promise.reject(e);
      }
    },
    run(sql: string, p?: SqlValue[]) {
      try {
        return Promise.resolve(Number(prepare(sql).run(...params(p)).changes));
      } catch (e) {
        return Promise.reject(e);
      }
    },
    batch(stmts: Stmt[]) {
      try {
        db.exec("BEGIN IMMEDIATE");
        try {
          const out: Row[][] = [];
          for (const s of stmts) {
            const st = prepare(s.sql);
            // `all` runs any statement and also returns RETURNING rows.
            out.push(st.all(...params(s.params)) as Row[]);
          }
          db.exec("COMMIT");
          return Promise.resolve(out);
        } catch (e) {
          db.exec("ROLLBACK");
          throw e;
        }
      } catch (e) {
        return Promise.reject(e);
      }
    },
    exec(script: string) {
      try {
        db.exec(script);
        return Promise.resolve();
      } catch (e) {
        return Promise.reject(e);
      }
    },
    close() {
      if (!closed) {
        closed = true;
        cache.clear();
        db.close();
      }
      return Promise.resolve();
    },
  };
}
