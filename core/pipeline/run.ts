/**
 * runRoute: rules -> route pipeline -> per-destination pipelines -> deliveries.
 * The outcome is all or nothing: when any stage fails (retry or dead_letter) or rejects, there
 * are no deliveries, so retrying the event later cannot duplicate part of it. A drop in a
 * per-destination stage removes only that destination.
 */
import { selectDestinations } from "../routing/select.ts";
import { isPermanentStageError } from "./stage_error.ts";
import type { Chosen } from "../routing/select.ts";
import type { CompiledRoute } from "./compile.ts";
import { encodeBody, encodeDelivery } from "./encode.ts";
import type { Working } from "./ref.ts";
import type { CompiledStage, StageContext, StageResult } from "./stages/stage.ts";
import type {
  ErrorPolicy,
  OutDelivery,
  PipelineDeps,
  PipelineEvent,
  RouteOutcome,
} from "./types.ts";
import { cloneJson } from "./clone.ts";

type Commit = () => Promise<void>;

export type Flow =
  | { status: "ok"; commits: Commit[]; reshaped: boolean }
  | { status: "dropped"; stage: string; reason: string }
  | { status: "rejected"; stage: string; reason: string }
  | { status: "failed"; stage: string; error: string; policy: ErrorPolicy; permanent?: true }
  | { status: "held"; stage: string };

function snapshot(v: unknown): unknown {
  return typeof v === "object" && v !== null ? cloneJson(v) : v;
}

export function cloneWorking(w: Working): Working {
  return {
    body: snapshot(w.body),
    headers: { ...w.headers },
    meta: snapshot(w.meta) as Record<string, unknown>,
    key: w.key,
    event: w.event,
  };
}

/** Runs stages[start..] in order, appending a trace per stage to `outcome.stages`. */
export async function runStages(
  stages: readonly CompiledStage[],
  start: number,
  w: Working,
  ctx: StageContext,
  outcome: RouteOutcome,
): Promise<Flow> {
  const traceOutput = ctx.deps.dryRun === true || ctx.deps.trace === true;
  const prefix = ctx.scope === "route" ? "" : `${ctx.scope}/`;
  const commits: Commit[] = [];
  let reshaped = false;
  for (let i = start; i < stages.length; i++) {
    const stage = stages[i];
    const name = prefix + stage.name;
    const t0 = performance.now();
    let result: StageResult;
    try {
      result = await stage.run(w, ctx);
    } catch (e) {
      const error = (e as Error)?.message ?? String(e);
      outcome.stages.push({
        name,
        type: stage.type,
        scope: ctx.scope,
        ms: performance.now() - t0,
        error,
      });
      if (stage.onError === "drop") return { status: "dropped", stage: name, reason: error };
      return {
        status: "failed",
        stage: name,
        error,
        policy: stage.onError,
        ...(isPermanentStageError(e) ? { permanent: true as const } : {}),
      };
    }
    const trace = outcome.stages[
      outcome.stages.push({
        name,
        type: stage.type,
        scope: ctx.scope,
        ms: performance.now() - t0,
      }) - 1
    ];
    switch (result.kind) {
      case "continue":
      case "emit":
        if (result.note) trace.note = result.note;
        if (traceOutput) trace.output = snapshot(w.body);
        if (result.kind === "emit" && result.commit) commits.push(result.commit);
        if (stage.reshapes) reshaped = true;
        continue;
      case "held":
        trace.held = true;
        trace.note = result.note;
        return { status: "held", stage: name };
      case "drop":
        trace.dropped = result.reason;
        return { status: "dropped", stage: name, reason: result.reason };
      case "reject":
        trace.error = result.reason;
        return { status: "rejected", stage: name, reason: result.reason };
      case "dead_letter":
        trace.error = result.reason;
        return { status: "failed", stage: name, error: result.reason, policy: "dead_letter" };
    }
  }
  return { status: "ok", commits, reshaped };
}

function settle(outcome: RouteOutcome, flow: Exclude<Flow, { status: "ok" }>): RouteOutcome {
  outcome.deliveries = [];
  switch (flow.status) {
    case "dropped":
      outcome.dropped = { stage: flow.stage, reason: flow.reason };
      break;
    case "rejected":
      outcome.rejected = { stage: flow.stage, reason: flow.reason };
      break;
    case "failed":
      outcome.failed = {
        stage: flow.stage,
        error: flow.error,
        policy: flow.policy,
        ...(flow.permanent ? { permanent: true as const } : {}),
      };
      break;
    case "held":
      outcome.held = true;
      break;
  }
  return outcome;
}

/** Where to resume: the route pipeline, or one destination entry's pipeline. */
export interface Position {
  /** null: route pipeline (then every target's pipeline); else an entry index (-1: none). */
  entry: number | null;
  start: number;
}

/** Shared by runRoute and flushDue: run from a position to the deliveries. */
export async function continueFrom(
  route: CompiledRoute,
  w: Working,
  targets: readonly Chosen[],
  from: Position,
  deps: PipelineDeps,
  outcome: RouteOutcome,
  reshapedBefore: boolean,
): Promise<RouteOutcome> {
  const env = { now: deps.now };
  const entryIds = route.entries.map((e) => e.destinationId);
  const commits: Commit[] = [];
  let reshaped = reshapedBefore;
  if (from.entry === null) {
    const ctx: StageContext = { deps, env, routeId: route.id, scope: "route", targets, entryIds };
    const flow = await runStages(route.stages, from.start, w, ctx, outcome);
    if (flow.status !== "ok") return settle(outcome, flow);
    commits.push(...flow.commits);
    reshaped ||= flow.reshaped;
  }
  const deliveries: OutDelivery[] = [];
  let dropped: { stage: string; reason: string } | undefined;
  let held = false;
  let shared: ReturnType<typeof encodeBody> | undefined;
  const withStages = targets.filter((t) => {
    const e = route.entries[from.entry ?? t.entryIndex];
    return e && e.stages.length > (from.entry === null ? 0 : from.start);
  }).length;
  for (const t of targets) {
    const entry = route.entries[from.entry ?? t.entryIndex];
    const start = from.entry === null ? 0 : from.start;
    if (!entry || entry.stages.length <= start) {
      shared ??= encodeBody(w, reshaped);
      deliveries.push(encodeDelivery(w, t, reshaped, shared));
      continue;
    }
    // Each destination shapes its own copy, unless it is the only one that will.
    const wd = withStages > 1 || targets.length > 1 ? cloneWorking(w) : w;
    const ctx: StageContext = {
      deps,
      env,
      routeId: route.id,
      scope: entry.destinationId,
      targets: [t],
      entryIds,
    };
    const flow = await runStages(entry.stages, start, wd, ctx, outcome);
    if (flow.status === "dropped") {
      dropped ??= { stage: flow.stage, reason: flow.reason };
      continue;
    }
    if (flow.status === "held") {
      held = true;
      continue;
    }
    if (flow.status !== "ok") return settle(outcome, flow);
    commits.push(...flow.commits);
    deliveries.push(encodeDelivery(wd, t, reshaped || flow.reshaped));
  }
  outcome.deliveries = deliveries;
  if (held) outcome.held = true;
  if (deliveries.length === 0 && !held && dropped) outcome.dropped = dropped;
  if (commits.length > 0 && !deps.dryRun) {
    let done: Promise<void> | undefined;
    outcome.commit = () => done ??= Promise.all(commits.map((c) => c())).then(() => {});
  }
  return outcome;
}

/**
 * Routes one event: filters and rules choose destinations, then the route's stages and each
 * destination's stages run, and the outcome lists the deliveries to store (or why there are
 * none). In a dry run nothing is written to the state and every trace carries its output.
 */
export function runRoute(
  route: CompiledRoute,
  event: PipelineEvent,
  deps: PipelineDeps,
): Promise<RouteOutcome> {
  const sel = selectDestinations(route.filters, route.rules, route.targets, event, deps.isOpen);
  const outcome: RouteOutcome = {
    matched: sel.matched,
    rules: sel.rules,
    stages: [],
    deliveries: [],
  };
  if (!sel.matched || sel.chosen.length === 0) return Promise.resolve(outcome);
  const hasStages = route.stages.length > 0 || route.entries.some((e) => e.stages.length > 0);
  // The event is shared with the caller: stages work on a copy.
  const w: Working = {
    body: hasStages ? snapshot(event.body) : event.body,
    headers: {},
    meta: hasStages ? snapshot(event.meta) as Record<string, unknown> : event.meta,
    event,
  };
  return continueFrom(route, w, sel.chosen, { entry: null, start: 0 }, deps, outcome, false);
}
