/**
 * SqlClient that forwards every call to the SQLite worker thread (see sqlite_worker.ts).
 * Calls made while a tick is on the worker wait and leave together as the next tick: one
 * message, one transaction, one fsync for all of them (the group commit of the whole store,
 * not only of ingest). Each call still settles with its own result or error.
 */
import type { Row, SqlClient, SqlValue, Stmt } from "../sql/client.ts";
import type { NodeSqliteOptions } from "./node_sqlite_client.ts";
import type { Op } from "./sqlite_worker.ts";
import type { AcceptOptions, AcceptResult } from "../../../core/store.ts";

export class SqliteError extends Error {
  constructor(message: string, readonly code?: string, readonly errcode?: number) {
    super(message);
    this.name = "SqliteError";
  }
}

/** The worker's client also takes a batch of events as encoded bytes, decoded over there. */
export interface WorkerSqliteClient extends SqlClient {
  acceptEncoded(bytes: Uint8Array, lease?: AcceptOptions["lease"]): Promise<AcceptResult>;
  /** Ticks sent and operations they carried (operations / ticks is the mean merge). */
  stats(): { ticks: number; ops: number };
}

interface Pending {
  op: Op;
  transfer?: ArrayBuffer;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

type ErrorShape = { message: string; code?: string; errcode?: number };
const toError = (e: ErrorShape) => new SqliteError(e.message, e.code, e.errcode);

/** Operations in one tick at most: a bound on how long the first of them waits. */
const MAX_TICK_OPS = 256;

/** A new SQLite worker thread (to share between stores opened one after the other, in tests:
 * `deno test` type-checks a worker's modules each time one starts, seconds each). */
export function startSqliteWorker(): Worker {
  return new Worker(new URL("./sqlite_worker.ts", import.meta.url), { type: "module" });
}

/** Opens `opts.path` on a worker thread: a new one, or `shared` (left running by close). */
export async function openWorkerSqlite(
  opts: NodeSqliteOptions,
  shared?: Worker,
): Promise<WorkerSqliteClient> {
  const worker = shared ?? startSqliteWorker();
  const replies = new Map<number, (m: Reply) => void>();
  type Reply = {
    id: number;
    ok: boolean;
    results?: ({ ok: true; value: unknown } | { ok: false; error: ErrorShape })[];
    error?: ErrorShape;
  };
  let next = 1;
  let closed = false;
  let queue: Pending[] = [];
  let inFlight = false;
  let scheduled = false;
  let ticks = 0, opsSent = 0;

  worker.onmessage = (ev) => {
    const m = ev.data as Reply;
    const done = replies.get(m.id);
    replies.delete(m.id);
    done?.(m);
  };
  worker.onerror = (e) => {
    e.preventDefault();
    const err = new SqliteError(`sqlite worker failed: ${e.message}`);
    closed = true;
    for (const done of replies.values()) done({ id: 0, ok: false, error: err });
    replies.clear();
    for (const p of queue) p.reject(err);
    queue = [];
  };

  const send = (msg: Record<string, unknown>, transfer: ArrayBuffer[] = []) =>
    new Promise<Reply>((resolve) => {
      const id = next++;
      replies.set(id, resolve);
      worker.postMessage({ id, ...msg }, transfer);
    });

  function flush() {
    scheduled = false;
    if (inFlight || queue.length === 0) return;
    // An exec (a script: migrations, pragmas) travels alone: it may not run in a transaction.
    let n = queue[0].op.op === "exec" ? 1 : 0;
    while (!n || (n < queue.length && n < MAX_TICK_OPS && queue[n].op.op !== "exec")) n++;
    if (n > queue.length) n = queue.length;
    const tick = queue.slice(0, n);
    queue = queue.slice(n);
    inFlight = true;
    ticks++;
    opsSent += tick.length;
    const transfer = tick.flatMap((p) => p.transfer ? [p.transfer] : []);
    send({ op: "tick", ops: tick.map((p) => p.op) }, transfer).then((m) => {
      inFlight = false;
      tick.forEach((p, i) => {
        const r = m.results?.[i];
        if (!m.ok || !r) p.reject(toError(m.error ?? { message: "no result from the worker" }));
        else if (r.ok) p.resolve(r.value);
        else p.reject(toError(r.error));
      });
      flush();
    });
  }

  const call = <T>(op: Op, transfer?: ArrayBuffer): Promise<T> => {
    if (closed) return Promise.reject(new SqliteError("the database is closed"));
    return new Promise<T>((resolve, reject) => {
      queue.push({ op, transfer, resolve: resolve as (v: unknown) => void, reject });
      if (!inFlight && !scheduled) {
        // Calls made in the same run of the event loop leave together.
        scheduled = true;
        queueMicrotask(flush);
      }
    });
  };

  const opened = await send({ op: "open", opts });
  if (!opened.ok) throw toError(opened.error!);
  return {
    driver: "node-sqlite",
    all: <T>(sql: string, params?: SqlValue[]) =>
      call<T[]>({ op: "all", sql, params: params as never[] }),
    run: (sql: string, params?: SqlValue[]) =>
      call<number>({ op: "run", sql, params: params as never[] }),
    batch: (stmts: Stmt[]) => call<Row[][]>({ op: "batch", stmts: stmts as never[] }),
    exec: (sql: string) => call<void>({ op: "exec", sql }),
    acceptEncoded(bytes, lease) {
      // A copy moves to the worker (cheap: one memcpy); the caller's bytes and the events'
      // bodies that may point into them stay usable.
      const own = bytes.slice();
      return call<AcceptResult>({ op: "accept", bytes: own, lease }, own.buffer);
    },
    stats: () => ({ ticks, ops: opsSent }),
    async close() {
      if (closed) return;
      // Whatever was called before close still runs.
      while (queue.length || inFlight) await new Promise((r) => setTimeout(r, 1));
      closed = true;
      await send({ op: "close" });
      if (!shared) worker.terminate();
    },
  };
}
