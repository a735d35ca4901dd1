/**
 * The postgres.js pool behind the PostgreSQL store: bounded, quiet about notices, and typed so
 * rows read back as the SQLite store returns them: bigint milliseconds and counts as JS
 * numbers, bytea as a plain Uint8Array (not a Buffer).
 */
import postgres, { type Sql } from "postgres";
import { Buffer } from "node:buffer";

export interface PostgresOptions {
  /** Most connections the pool opens (default 10). */
  max?: number;
  /** Schema to work in (sets search_path on every connection); default: the server's. */
  schema?: string;
  /** Seconds an idle connection is kept (default 30). */
  idleTimeout?: number;
  /** Seconds to wait for a connection (default 10). */
  connectTimeout?: number;
}

/** int8 and numeric (what count() and sum() return) as JS numbers. */
const int8 = {
  to: 20,
  from: [20, 1700],
  serialize: (x: number | bigint | string) => String(x),
  parse: (x: string) => Number(x),
};

/** bytea as a fresh Uint8Array, so strict equality with what was written holds. */
const bytea = {
  to: 17,
  from: [17],
  serialize: (x: Uint8Array) =>
    "\\x" + Buffer.from(x.buffer, x.byteOffset, x.byteLength)
      .toString("hex"),
  parse: (x: string) => new Uint8Array(Buffer.from(x.slice(2), "hex")),
};

export function openPostgres(url: string, opts: PostgresOptions = {}): Sql {
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new Error(
      `postgres url ${url.replace(/\/\/[^@]*@/, "//***@")} is invalid: must start with postgres://`,
    );
  }
  const max = opts.max ?? 10;
  if (!Number.isInteger(max) || max < 1 || max > 1000) {
    throw new Error(`postgres pool size ${max} is invalid: must be an integer from 1 to 1000`);
  }
  return postgres(url, {
    max,
    idle_timeout: opts.idleTimeout ?? 30,
    connect_timeout: opts.connectTimeout ?? 10,
    onnotice: () => {},
    types: { int8, bytea } as never,
    connection: {
      application_name: "event-router",
      ...(opts.schema ? { search_path: opts.schema } : {}),
    },
  }) as unknown as Sql;
}
