/**
 * Runs the embedded SQLite connection on its own thread. `node:sqlite` is synchronous, so on
 * the main thread every commit (and its fsync) would stall request handling; here the main
 * thread keeps parsing requests while a commit is written, and the group committer gathers
 * everything that arrives meanwhile into the next one.
 */
/// <reference lib="deno.worker" />
import { type NodeSqliteOptions, openNodeSqlite } from "./node_sqlite_client.ts";
import type { SqlClient } from "../sql/client.ts";

let db: SqlClient | null = null;

type Call =
  | { id: number; op: "open"; opts: NodeSqliteOptions }
  | { id: number; op: "all" | "run"; sql: string; params?: never[] }
  | { id: number; op: "batch"; stmts: never[] }
  | { id: number; op: "exec"; sql: string }
  | { id: number; op: "close" };

self.onmessage = async (ev: MessageEvent<Call>) => {
  const m = ev.data;
  try {
    let result: unknown;
    switch (m.op) {
      case "open":
        db = openNodeSqlite(m.opts);
        break;
      case "all":
        result = await db!.all(m.sql, m.params);
        break;
      case "run":
        result = await db!.run(m.sql, m.params);
        break;
      case "batch":
        result = await db!.batch(m.stmts);
        break;
      case "exec":
        await db!.exec(m.sql);
        break;
      case "close":
        await db?.close();
        db = null;
        break;
    }
    self.postMessage({ id: m.id, ok: true, result });
  } catch (e) {
    const err = e as Error & { code?: string; errcode?: number };
    self.postMessage({
      id: m.id,
      ok: false,
      error: { message: err?.message ?? String(e), code: err?.code, errcode: err?.errcode },
    });
  }
};
