import {
  compileRoute,
  MemoryState,
  runRoute,
  toPipelineEvent,
} from "../../../core/pipeline/mod.ts";
import { kibEvent } from "./pipeline_bench.ts";
const deps = { fetch, state: new MemoryState(() => 0), now: () => 0 };
const body = kibEvent(1);
const env = (i: number) => ({
  id: `evt_${i}`,
  tenant: "t",
  routeId: "p",
  source: "webhook",
  receivedAt: 0,
  method: "POST",
  path: "/",
  query: "",
  ip: "1.1.1.1",
  headers: { "content-type": "application/json" },
  body,
});
const stages: Record<string, unknown> = {
  set: { type: "transform", operations: [{ op: "set", path: "a", value: 1 }] },
  jsonata_merge: { type: "transform", expression: "$merge([$, {'item_count': $sum(items.qty)}])" },
  jsonata_sum: {
    type: "transform",
    operations: [{ op: "jsonata", expression: "$sum(items.qty)", to: "item_count" }],
  },
  jsonata_obj: { type: "transform", expression: "{'id': id, 'n': $sum(items.qty)}" },
};
for (let round = 0; round < 2; round++) {
  for (const [k, st] of Object.entries(stages)) {
    const r = compileRoute({
      id: "p" + k,
      version: 1,
      pipeline: [st] as never,
      destinations: [{ destination_id: "d" }],
    });
    for (let i = 0; i < 3000; i++) await runRoute(r, toPipelineEvent(env(i)), deps);
    const t = performance.now();
    const N = 10000;
    for (let i = 0; i < N; i++) await runRoute(r, toPipelineEvent(env(i)), deps);
    console.log(round, k, Math.round(N / ((performance.now() - t) / 1000)), "ev/s");
  }
}
