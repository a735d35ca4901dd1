/** The coordinator conformance suite on every implementation: store leases (SQLite file and
 * PostgreSQL), Redis (REDIS_URL) and Deno KV (a temp file). */
import { Redis } from "ioredis";
import postgres from "postgres";
import { openStore } from "../../adapters/store/sqlite/store.ts";
import { openPostgresStore } from "../../adapters/store/postgres/store.ts";
import { storeCoordinator } from "../../adapters/coordination/store.ts";
import { redisCoordinator } from "../../adapters/coordination/redis.ts";
import { kvCoordinator } from "../../adapters/coordination/kv.ts";
import { mustPeer, needs } from "../helpers/peers.ts";
import { coordinatorSuite } from "./coordinator_suite.ts";

const dir = await Deno.makeTempDir({ prefix: "coordinator-" });
let n = 0;

coordinatorSuite("store (sqlite)", async () => {
  const store = openStore({ path: `${dir}/${++n}.db` });
  await store.migrate();
  return { coordinator: storeCoordinator(store), close: () => store.close() };
});

const pg = needs("POSTGRES_URL");
coordinatorSuite("store (postgres)", async () => {
  const schema = `er_coord_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = postgres(mustPeer("POSTGRES_URL"), { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE SCHEMA "${schema}"`);
  const store = await openPostgresStore(mustPeer("POSTGRES_URL"), { schema, max: 16 });
  await store.migrate();
  return {
    coordinator: storeCoordinator(store),
    async close() {
      await store.close();
      await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end({ timeout: 5 });
    },
  };
}, pg);

const redis = needs("REDIS_URL");
coordinatorSuite("redis", () => {
  const client = new Redis(mustPeer("REDIS_URL"), { lazyConnect: false, maxRetriesPerRequest: 2 });
  const coordinator = redisCoordinator(client, { prefix: `test:${crypto.randomUUID()}:` });
  return Promise.resolve({ coordinator, close: () => coordinator.close!() });
}, redis);

coordinatorSuite("kv", async () => {
  const kv = await Deno.openKv(`${dir}/kv-${++n}.sqlite`);
  const coordinator = kvCoordinator(kv);
  return { coordinator, close: () => coordinator.close!() };
});

globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(dir, { recursive: true });
  } catch { /* already gone */ }
});
