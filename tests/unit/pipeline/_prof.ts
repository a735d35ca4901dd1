import {
  compileRoute,
  MemoryState,
  runRoute,
  toPipelineEvent,
} from "../../../core/pipeline/mod.ts";
import { FIVE_STAGES, kibEvent } from "./pipeline_bench.ts";
const fakeCrm = (() =>
  Promise.resolve(
    new Response('{"segment":"smb"}', { headers: { "content-type": "application/json" } }),
  )) as typeof fetch;
const deps = { fetch: fakeCrm, state: new MemoryState(() => 0), now: () => 0 };
for (const k of [0, 1, 2, 3, 4]) {
  const r = compileRoute({
    id: "p" + k,
    version: 1,
    pipeline: [FIVE_STAGES[k]] as never,
    destinations: [{ destination_id: "d" }],
  });
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
  for (let i = 0; i < 300; i++) await runRoute(r, toPipelineEvent(env(i)), deps);
  const t = performance.now();
  const N = 5000;
  for (let i = 0; i < N; i++) await runRoute(r, toPipelineEvent(env(10000 + i)), deps);
  console.log(
    (FIVE_STAGES[k] as { name: string }).name,
    Math.round(N / ((performance.now() - t) / 1000)),
    "ev/s",
  );
}
