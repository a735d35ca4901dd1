/** SqlClient that forwards every call to the SQLite worker thread (see sqlite_worker.ts). */
import type { Row, SqlClient, SqlValue, Stmt } from "../sql/client.ts";
import type { NodeSqliteOptions } from "./node_sqlite_client.ts";

export class SqliteError extends Error {
  constructor(message: string, readonly code?: string, readonly errcode?: number) {
    super(message);
    this.name = "SqliteError";
  }
}

export async function openWorkerSqlite(opts: NodeSqliteOptions): Promise<SqlClient> {
  const worker = new Worker(new URL("./sqlite_worker.ts", import.meta.url), { type: "module" });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  let next = 1;
  let closed = false;
  worker.onmessage = (ev) => {
    const m = ev.data as {
      id: number;
      ok: boolean;
      result?: unknown;
      error?: { message: string; code?: string; errcode?: number };
    };
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else p.reject(new SqliteError(m.error!.message, m.error!.code, m.error!.errcode));
  };
  worker.onerror = (e) => {
    e.preventDefault();
    const err = new SqliteError(`sqlite worker failed: ${e.message}`);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  const call = <T>(msg: Record<string, unknown>): Promise<T> => {
    if (closed) return Promise.reject(new SqliteError("the database is closed"));
    const id = next++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ id, ...msg });
    });
  };
  await call({ op: "open", opts });
  return {
    driver: "node-sqlite",
    all: <T>(sql: string, params?: SqlValue[]) => call<T[]>({ op: "all", sql, params }),
    run: (sql: string, params?: SqlValue[]) => call<number>({ op: "run", sql, params }),
    batch: (stmts: Stmt[]) => call<Row[][]>({ op: "batch", stmts }),
    exec: (sql: string) => call<void>({ op: "exec", sql }),
    async close() {
      if (closed) return;
      await call({ op: "close" });
      closed = true;
      worker.terminate();
    },
  };
}
