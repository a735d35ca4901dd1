/** Users, destinations and routes through drizzle, over any SqlClient (sqlite-proxy driver). */
import { drizzle, type SqliteRemoteDatabase } from "drizzle-orm/sqlite-proxy";
import type { SqlClient, SqlValue } from "../sql/client.ts";
import * as t from "./schema.ts";
import { entityQueries as shared } from "../sql/entity_queries.ts";

export type Db = SqliteRemoteDatabase<typeof t>;

export function drizzleOver(client: SqlClient): Db {
  return drizzle(async (sql, params, method) => {
    if (method === "run") {
      await client.run(sql, params as SqlValue[]);
      return { rows: [] };
    }
    const rows = (await client.all(sql, params as SqlValue[])).map((r) => Object.values(r));
    return { rows: method === "get" ? rows[0] as unknown[] : rows };
  }, { schema: t });
}

export const entityQueries = (db: Db) => shared(db, t);
