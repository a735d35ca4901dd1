/**
 * Events per second through a five-stage pipeline on 1 KiB JSON events, beside the same events
 * with no pipeline (rules and delivery encoding only). `benchPipeline()` is what the bench task
 * calls; run this file directly for a quick look:
 *   deno run --allow-all tests/unit/pipeline/pipeline_bench.ts
 */
import {
  compileRoute,
  MemoryState,
  type PipelineDeps,
  runRoute,
  toPipelineEvent,
} from "../../../core/pipeline/mod.ts";
import type { Envelope } from "../../../core/ports.ts";

export interface PipelineBenchResult {
  events: number;
  bytes_per_event: number;
  no_pipeline_events_per_s: number;
  five_stage_events_per_s: number;
}

/** A JSON object of exactly `size` bytes once encoded. */
export function kibEvent(i: number, size = 1024): Uint8Array {
  const base = {
    id: `ord_${i}`,
    type: "order.created",
    created: 1714566600 + i,
    customer: { id: `cus_${i % 100}`, email: `user${i % 100}@example.com`, tier: "gold" },
    items: [
      { sku: "A-1", qty: 2, price: 9.5 },
      { sku: "B-2", qty: 1, price: 25 },
      { sku: "C-3", qty: 3, price: 4.25 },
    ],
    total: 56.75,
    notes: "",
  };
  const without = new TextEncoder().encode(JSON.stringify(base)).length;
  base.notes = "x".repeat(Math.max(0, size - without));
  return new TextEncoder().encode(JSON.stringify(base));
}

const rules = [{ name: "orders", when: { field: "body.type", prefix: "order." } }];

export const FIVE_STAGES = [
  {
    type: "validate",
    name: "shape",
    schema: {
      type: "object",
      required: ["id", "type", "customer", "items", "total"],
      properties: { total: { type: "number", minimum: 0 }, items: { type: "array", minItems: 1 } },
    },
  },
  {
    type: "transform",
    name: "reshape",
    operations: [
      { op: "remove", path: "notes" },
      { op: "rename", path: "created", to: "created_at" },
      { op: "date_parse", path: "created_at" },
      { op: "lower", path: "customer.email" },
      { op: "copy", from: "customer.id", to: "$key" },
      { op: "set", path: "$headers.x-source", value: "bench" },
    ],
  },
  {
    type: "enrich",
    name: "crm",
    url: "https://crm.example/customers/{{customer.id}}",
    cache_ttl_ms: 600_000,
    into: "customer.profile",
  },
  { type: "aggregate", name: "once", mode: "dedupe", key: "$event.id", window_ms: 600_000 },
  { type: "transform", name: "totals", expression: "$merge([$, {'item_count': $sum(items.qty)}])" },
];

async function measure(route: ReturnType<typeof compileRoute>, n: number, deps: PipelineDeps) {
  const bodies = Array.from({ length: 256 }, (_, i) => kibEvent(i));
  const envelope = (i: number): Envelope => ({
    id: `evt_${i}`,
    tenant: "user_bench",
    routeId: route.id,
    source: "webhook",
    receivedAt: 0,
    method: "POST",
    path: "/webhook/wh_bench",
    query: "",
    ip: "203.0.113.1",
    headers: { "content-type": "application/json" },
    body: bodies[i % bodies.length],
  });
  // Warm up: V8 needs a few thousand events before the numbers settle.
  for (let i = 0; i < 5000; i++) await runRoute(route, toPipelineEvent(envelope(i)), deps);
  const t0 = performance.now();
  let delivered = 0;
  for (let i = 0; i < n; i++) {
    const out = await runRoute(route, toPipelineEvent(envelope(1_000_000 + i)), deps);
    delivered += out.deliveries.length;
  }
  const ms = performance.now() - t0;
  if (delivered !== n) throw new Error(`expected ${n} deliveries, got ${delivered}`);
  return Math.round(n / (ms / 1000));
}

export async function benchPipeline(n = 20_000): Promise<PipelineBenchResult> {
  const fakeCrm = (() =>
    Promise.resolve(
      new Response('{"segment":"smb","since":2019}', {
        headers: { "content-type": "application/json" },
      }),
    )) as typeof fetch;
  const deps = (): PipelineDeps => ({
    fetch: fakeCrm,
    state: new MemoryState(() => 0),
    now: () => 0,
  });
  const destinations = [{ destination_id: "dest_bench" }];
  const plain = compileRoute({ id: "route_bench_plain", version: 1, rules, destinations });
  const full = compileRoute({
    id: "route_bench_full",
    version: 1,
    rules,
    pipeline: FIVE_STAGES as never,
    destinations,
  });
  return {
    events: n,
    bytes_per_event: kibEvent(0).length,
    no_pipeline_events_per_s: await measure(plain, n, deps()),
    five_stage_events_per_s: await measure(full, n, deps()),
  };
}

if (import.meta.main) console.log(JSON.stringify(await benchPipeline(), null, 2));
