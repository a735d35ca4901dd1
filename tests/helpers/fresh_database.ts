/** A fresh database on the shared PostgreSQL (POSTGRES_URL) for one test. */
import postgres from "postgres";
import { mustPeer } from "./peers.ts";

/** Creates the database; `drop` removes it, connections and all. */
export async function freshDatabase(
  prefix = "er_e2e",
): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const base = mustPeer("POSTGRES_URL");
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  return {
    name,
    url: `${base.replace(/\/[^/]*$/, "")}/${name}`,
    async drop() {
      try {
        await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.end({ timeout: 5 });
      }
    },
  };
}
