/**
 * flushDue: emits the aggregates whose time has come (windows that ended, batches that waited
 * long enough, and sealed buckets whose emitter died). The processor calls it periodically,
 * from one node at a time (under its lease), stores each result's deliveries, then commits.
 * Each bucket is sealed under a lease before it is emitted: a crash before `commit` re-emits
 * the same bucket (same `bucket` key) after the lease, so nothing is lost; delivery ids derived
 * from `bucket` make the re-emission idempotent.
 */
import type { CompiledRoute } from "./compile.ts";
import { continueFrom, type Position } from "./run.ts";

import type { Working } from "./ref.ts";
import { type BucketMeta, bucketPrefix, emittedBody, SEAL_LEASE_MS } from "./stages/aggregate.ts";
import type { FlushResult, PipelineDeps, PipelineEvent, RouteOutcome } from "./types.ts";

export async function flushDue(
  route: CompiledRoute,
  deps: PipelineDeps,
  opts: { limit?: number } = {},
): Promise<FlushResult[]> {
  if (deps.dryRun) return [];
  const now = deps.now();
  const keys = await deps.state.due(bucketPrefix(route.id), now, opts.limit ?? 100);
  const results: FlushResult[] = [];
  for (const key of keys) {
    const bucket = await deps.state.seal(key, now, now + SEAL_LEASE_MS);
    if (!bucket) continue; // another flusher holds it
    const meta = bucket.meta as unknown as BucketMeta;
    const body = emittedBody(bucket, meta);
    const event: PipelineEvent = {
      id: meta.first.id,
      tenant: meta.tenant,
      routeId: meta.routeId,
      source: meta.first.source,
      receivedAt: meta.first.receivedAt,
      method: "",
      path: "",
      query: {},
      ip: "",
      headers: {},
      body,
      meta: {},
    };
    const aggregate = {
      bucket: bucket.key,
      stage: meta.stage,
      count: bucket.count,
      first_at: bucket.firstAt,
    };
    const w: Working = { body, headers: {}, meta: { aggregate }, event };
    // Resume after the aggregate stage, by name: the route may have changed since.
    let from: Position;
    if (meta.scope === "route") {
      const i = route.stages.findIndex((s) => s.name === meta.stage);
      from = { entry: null, start: i < 0 ? route.stages.length : i + 1 };
    } else {
      const entry = route.entries.findIndex((e) => e.destinationId === meta.scope);
      const i = entry < 0
        ? -1
        : route.entries[entry].stages.findIndex((s) => s.name === meta.stage);
      from = { entry, start: i < 0 ? Number.MAX_SAFE_INTEGER : i + 1 };
    }
    const targets = meta.targets.map((t) => {
      const idx = route.entries.findIndex((e) => e.destinationId === t.entryDestinationId);
      return { ...t, entryIndex: idx };
    });
    const outcome: RouteOutcome = { matched: true, rules: [], stages: [], deliveries: [] };
    await continueFrom(route, w, targets, from, deps, outcome, true);
    const inner = outcome.commit;
    delete outcome.commit;
    let done: Promise<void> | undefined;
    results.push({
      bucket: bucket.key,
      eventId: meta.first.id,
      tenant: meta.tenant,
      count: bucket.count,
      outcome,
      commit: () =>
        done ??= (inner ? inner() : Promise.resolve()).then(() => deps.state.delete(bucket.key)),
    });
  }
  return results;
}
