/**
 * The small SQL surface the store needs. Two drivers implement it: Deno's built-in
 * `node:sqlite` (the embedded default, fastest for group commit) and `@libsql/client`
 * (libSQL/Turso servers). Interactive transactions are deliberately absent: every atomic
 * change is one `batch`, which works the same on a local file, a remote server or PostgreSQL.
 */
export type SqlValue = string | number | bigint | null | Uint8Array;
export type Row = Record<string, unknown>;

export interface Stmt {
  sql: string;
  params?: SqlValue[];
}

export interface SqlClient {
  readonly driver: "node-sqlite" | "libsql";
  all<T = Row>(sql: string, params?: SqlValue[]): Promise<T[]>;
  /** Runs one statement; resolves to the number of changed rows. */
  run(sql: string, params?: SqlValue[]): Promise<number>;
  /** Runs the statements in one write transaction; resolves to each statement's rows. */
  batch(stmts: Stmt[]): Promise<Row[][]>;
  /** Executes a script of several statements (migrations). */
  exec(script: string): Promise<void>;
  close(): Promise<void>;
}
