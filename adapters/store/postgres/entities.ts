/** Users, destinations and routes through drizzle (pg-core over postgres.js). */
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import type { Sql } from "postgres";
import * as t from "./schema.ts";
import { entityQueries as shared } from "../sql/entity_queries.ts";

export type Db = PostgresJsDatabase<typeof t>;

export function drizzleOver(sql: Sql): Db {
  return drizzle(sql, { schema: t });
}

export const entityQueries = (db: Db) => shared(db, t);
