/**
 * Runs the embedded SQLite connection on its own thread. `node:sqlite` is synchronous, so on
 * the main thread every commit (and its fsync) would stall request handling; here the main
 * thread keeps parsing requests while a commit is written.
 *
 * The main thread sends ticks: every call made while the previous tick ran, in order. A tick
 * of several operations is one transaction (one fsync), each operation in its own savepoint
 * (node_sqlite_client.ts `together`), so ingest, claims and settles made at the same time share
 * a commit instead of queueing for three. `accept` arrives as the batch's encoded bytes
 * (core/ingress/envelope_codec.ts, transferred, not cloned) and runs the event path here.
 */
/// <reference lib="deno.worker" />
import {
  type NodeSqliteClient,
  type NodeSqliteOptions,
  openNodeSqlite,
  type OpResult,
} from "./node_sqlite_client.ts";
import { eventPath } from "./event_path.ts";
import { decodeEnvelopes } from "../../../core/ingress/envelope_codec.ts";
import type { AcceptOptions } from "../../../core/store.ts";

let db: NodeSqliteClient | null = null;
let path: ReturnType<typeof eventPath> | null = null;

export type Op =
  | { op: "all" | "run"; sql: string; params?: never[] }
  | { op: "batch"; stmts: never[] }
  | { op: "exec"; sql: string }
  | { op: "accept"; bytes: Uint8Array; lease?: AcceptOptions["lease"] };

type Message =
  | { id: number; op: "open"; opts: NodeSqliteOptions }
  | { id: number; op: "close" }
  | { id: number; op: "tick"; ops: Op[] };

function run(o: Op): Promise<unknown> {
  switch (o.op) {
    case "all":
      return db!.all(o.sql, o.params);
    case "run":
      return db!.run(o.sql, o.params);
    case "batch":
      return db!.batch(o.stmts);
    case "exec":
      return db!.exec(o.sql);
    case "accept":
      return path!.accept(decodeEnvelopes(o.bytes), { lease: o.lease });
  }
}

const errorOf = (e: unknown) => {
  const err = e as Error & { code?: string; errcode?: number };
  return { message: err?.message ?? String(e), code: err?.code, errcode: err?.errcode };
};

self.onmessage = async (ev: MessageEvent<Message>) => {
  const m = ev.data;
  try {
    switch (m.op) {
      case "open":
        db = openNodeSqlite(m.opts);
        path = eventPath(db);
        self.postMessage({ id: m.id, ok: true });
        return;
      case "close":
        await db?.close();
        db = path = null;
        self.postMessage({ id: m.id, ok: true });
        return;
      case "tick": {
        let results: OpResult[];
        if (m.ops.length === 1) {
          // Alone, an operation runs as it is (a read needs no write lock).
          try {
            results = [{ ok: true, value: await run(m.ops[0]) }];
          } catch (e) {
            results = [{ ok: false, error: e }];
          }
        } else {
          results = await db!.together(m.ops.map((o) => () => run(o)));
        }
        self.postMessage({
          id: m.id,
          ok: true,
          results: results.map((r) => r.ok ? r : { ok: false, error: errorOf(r.error) }),
        });
        return;
      }
    }
  } catch (e) {
    self.postMessage({ id: m.id, ok: false, error: errorOf(e) });
  }
};
