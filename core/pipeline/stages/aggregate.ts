/**
 * aggregate: state across events, kept in the AggregateState (so a restart loses nothing).
 * - dedupe: the first event per key within `window_ms` goes on, later ones are dropped;
 * - count / sum / collect: tumbling windows of `window_ms` aligned to the epoch, grouped by
 *   `key`, by the event's received time; `emit: "window_end"` holds events and `flushDue`
 *   emits one summary per window, `emit: "each"` writes the running totals into the event;
 * - batch: events are collected and emitted as one array body when `max_count` are in, or
 *   `max_wait_ms` after the first (by `flushDue`).
 * Held buckets remember their destinations, so a summary goes where its events were going.
 * In a dry run nothing is written: the stage reads the state and reports what would happen.
 */
import { renderValue } from "../template.ts";
import { compileRef, type Ref, type Working } from "../ref.ts";
import type { AggregateStage } from "../schema.ts";
import type { Bucket } from "../aggregate_state.ts";
import type { CompiledStage, StageContext, StageResult } from "./stage.ts";

/** How long an emitter owns a sealed bucket before another may re-emit it. */
export const SEAL_LEASE_MS = 60_000;

/** What a held bucket carries so `flushDue` can emit it without the original events. */
export interface BucketMeta {
  v: 1;
  routeId: string;
  tenant: string;
  scope: string;
  stage: string;
  mode: "count" | "sum" | "collect" | "batch";
  group: string;
  windowStart?: number;
  windowEnd?: number;
  targets: HeldTarget[];
  /** The first event's identity, for the emitted event's `$event` and delivery ids. */
  first: { id: string; source: string; receivedAt: number };
}

/** A chosen destination as stored with a held bucket. */
export interface HeldTarget {
  destinationId: string;
  fallbackDestinationId?: string;
  entryIndex: number;
  /** The entry's own destination id: finds the entry again if the route's list changed. */
  entryDestinationId: string;
  reason: string;
}

export function bucketPrefix(routeId: string): string {
  return `agg:${routeId}:`;
}

/** The body an aggregate emits. */
export function emittedBody(b: Pick<Bucket, "count" | "sum" | "items">, meta: BucketMeta): unknown {
  if (meta.mode === "batch") return b.items;
  const out: Record<string, unknown> = {
    key: meta.group,
    window_start: new Date(meta.windowStart!).toISOString(),
    window_end: new Date(meta.windowEnd!).toISOString(),
    count: b.count,
  };
  if (meta.mode === "sum") out.sum = b.sum;
  if (meta.mode === "collect") out.items = b.items;
  return out;
}

function numberOf(v: unknown, field: string): number {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  if (!Number.isFinite(n)) {
    throw new Error(`sum field "${field}" is ${JSON.stringify(v)}, not a number`);
  }
  return n;
}

export function compileAggregate(
  cfg: AggregateStage,
  name: string,
  index: number,
): CompiledStage {
  const keyRef: Ref | null = cfg.key ? compileRef(cfg.key) : null;
  const fieldRef: Ref = compileRef(cfg.field ?? "$");
  const into = compileRef(cfg.into);

  const group = (w: Working): string => {
    if (!keyRef) return "";
    const v = keyRef.get(w);
    if (v === undefined || v === null) throw new Error(`aggregate key "${cfg.key}" is missing`);
    return renderValue(v);
  };

  const entryFor = (w: Working) => {
    const entry: { id: string; value?: number; item?: unknown } = { id: w.event.id };
    if (cfg.mode === "sum") entry.value = numberOf(fieldRef.get(w), cfg.field!);
    if (cfg.mode === "collect" || cfg.mode === "batch") entry.item = fieldRef.get(w) ?? null;
    return entry;
  };

  const meta = (w: Working, ctx: StageContext, g: string, ws?: number): BucketMeta => ({
    v: 1,
    routeId: ctx.routeId,
    tenant: w.event.tenant,
    scope: ctx.scope,
    stage: name,
    mode: cfg.mode as BucketMeta["mode"],
    group: g,
    windowStart: ws,
    windowEnd: ws === undefined ? undefined : ws + cfg.window_ms!,
    targets: ctx.targets.map((t) => ({ ...t, entryDestinationId: ctx.entryIds[t.entryIndex] })),
    first: { id: w.event.id, source: w.event.source, receivedAt: w.event.receivedAt },
  });

  // Destinations are part of a held bucket's key: events routed differently never share one.
  const targetsKey = (ctx: StageContext) =>
    ctx.targets.map((t) => t.destinationId).sort().join(",");

  const dedupe = async (w: Working, ctx: StageContext): Promise<StageResult> => {
    const g = group(w);
    const key = `dedupe:${ctx.routeId}:${ctx.scope}:${name}:${g}`;
    const { state, now, dryRun } = ctx.deps;
    if (dryRun) {
      const seen = await state.get(key);
      return seen !== undefined && seen !== w.event.id
        ? { kind: "drop", reason: `duplicate key ${JSON.stringify(g)} (first: ${seen})` }
        : { kind: "continue", note: "first of its key (dry run: not recorded)" };
    }
    if (await state.setIfAbsent(key, w.event.id, now() + cfg.window_ms!)) {
      return { kind: "continue" };
    }
    const first = await state.get(key);
    if (first === w.event.id) return { kind: "continue", note: "same event again" };
    return { kind: "drop", reason: `duplicate key ${JSON.stringify(g)} (first: ${first})` };
  };

  const windowed = async (w: Working, ctx: StageContext): Promise<StageResult> => {
    const g = group(w);
    const size = cfg.window_ms!;
    const ws = Math.floor(w.event.receivedAt / size) * size;
    const { state, now, dryRun } = ctx.deps;
    const entry = entryFor(w);
    if (cfg.mode === "collect" && cfg.emit === "each") delete entry.item; // totals only
    if (cfg.emit === "each") {
      const key = `run:${ctx.routeId}:${ctx.scope}:${name}:${ws}:${g}`;
      let totals: { count: number; sum: number };
      if (dryRun) {
        const b = await state.bucket(key);
        totals = { count: (b?.count ?? 0) + 1, sum: (b?.sum ?? 0) + (entry.value ?? 0) };
      } else {
        totals = await state.append(key, entry, {
          now: now(),
          dueAt: null,
          expiresAt: ws + 2 * size,
        });
      }
      const out: Record<string, unknown> = {
        key: g,
        window_start: new Date(ws).toISOString(),
        window_end: new Date(ws + size).toISOString(),
        count: totals.count,
      };
      if (cfg.mode === "sum") out.sum = totals.sum;
      into.set(w, out);
      return { kind: "continue", note: `count ${totals.count} in window` };
    }
    const key = `${bucketPrefix(ctx.routeId)}${ctx.scope}:${name}:w${ws}:${g}|${targetsKey(ctx)}`;
    if (dryRun) {
      const b = await state.bucket(key);
      return {
        kind: "held",
        note: `would join window ${new Date(ws).toISOString()} (${(b?.count ?? 0) + 1} events)`,
      };
    }
    const t = await state.append(key, entry, {
      now: now(),
      dueAt: ws + size,
      maxItems: cfg.max_items,
      meta: meta(w, ctx, g, ws) as unknown as Record<string, unknown>,
    });
    return { kind: "held", note: `in window ${new Date(ws).toISOString()} (${t.count} events)` };
  };

  const batch = async (w: Working, ctx: StageContext): Promise<StageResult> => {
    const g = group(w);
    const key = `${bucketPrefix(ctx.routeId)}${ctx.scope}:${name}:b:${g}|${targetsKey(ctx)}`;
    const { state, now, dryRun } = ctx.deps;
    const entry = entryFor(w);
    if (dryRun) {
      const b = await state.bucket(key);
      const items = [...(b && !b.sealed ? b.items : []), entry.item];
      if (cfg.max_count && items.length >= cfg.max_count) {
        w.body = items;
        return { kind: "emit", note: `batch of ${items.length} would be emitted (dry run)` };
      }
      return { kind: "held", note: `would wait in a batch of ${items.length}` };
    }
    const t0 = now();
    const totals = await state.append(key, entry, {
      now: t0,
      dueAt: cfg.max_wait_ms ? t0 + cfg.max_wait_ms : null,
      maxItems: cfg.max_items,
      meta: meta(w, ctx, g) as unknown as Record<string, unknown>,
    });
    if (!cfg.max_count || totals.count < cfg.max_count) {
      return { kind: "held", note: `in a batch of ${totals.count}` };
    }
    const sealed = await state.seal(key, t0, t0 + SEAL_LEASE_MS);
    if (!sealed) return { kind: "held", note: "batch emitted by a concurrent event" };
    w.body = sealed.items;
    return {
      kind: "emit",
      note: `batch of ${sealed.count} emitted`,
      commit: () => state.delete(sealed.key),
    };
  };

  const run = cfg.mode === "dedupe" ? dedupe : cfg.mode === "batch" ? batch : windowed;
  return {
    name,
    type: "aggregate",
    index,
    onError: cfg.on_error ?? "retry",
    reshapes: cfg.mode !== "dedupe",
    run,
  };
}
