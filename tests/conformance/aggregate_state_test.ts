import { aggregateStateSuite } from "./aggregate_state_suite.ts";
import { MemoryState } from "../../core/pipeline/memory_state.ts";
import { SqlAggregateState } from "../../adapters/store/sqlite/aggregate_state.ts";
import { openNodeSqlite } from "../../adapters/store/sqlite/node_sqlite_client.ts";
import { createSqlStore } from "../../adapters/store/sqlite/store.ts";

aggregateStateSuite(
  "aggregate state memory",
  (now) => Promise.resolve({ state: new MemoryState(now), close: () => Promise.resolve() }),
);

aggregateStateSuite("aggregate state sqlite", async (now) => {
  const client = openNodeSqlite({ path: ":memory:" });
  await createSqlStore(client).migrate();
  return { state: new SqlAggregateState(client, now), close: () => client.close() };
});
