import { createClient, type InValue } from "@libsql/client";
import type { Row, SqlClient, SqlValue, Stmt } from "../sql/client.ts";

/** A libSQL/Turso server (or a local file through libSQL) behind the SqlClient surface. */
export function openLibsql(url: string, authToken?: string): SqlClient {
  const client = createClient({ url, authToken, intMode: "number" });
  const args = (p?: SqlValue[]) => (p ?? []) as InValue[];
  const plain = (rs: { rows: ArrayLike<unknown>; columns: string[] }): Row[] =>
    Array.from(rs.rows as ArrayLike<Record<string, unknown>>, (r) => {
      const o: Row = {};
      for (const c of rs.columns) {
        const v = r[c];
        o[c] = v instanceof ArrayBuffer ? new Uint8Array(v) : v;
      }
      return o;
    });
  return {
    driver: "libsql",
    async all<T>(sql: string, p?: SqlValue[]) {
      return plain(await client.execute({ sql, args: args(p) })) as T[];
    },
    async run(sql: string, p?: SqlValue[]) {
      return (await client.execute({ sql, args: args(p) })).rowsAffected;
    },
    async batch(stmts: Stmt[]) {
      const rs = await client.batch(
        stmts.map((s) => ({ sql: s.sql, args: args(s.params) })),
        "write",
      );
      return rs.map(plain);
    },
    async exec(script: string) {
      await client.executeMultiple(script);
    },
    close() {
      client.close();
      return Promise.resolve();
    },
  };
}
