/**
 * For an ingress that wants to answer 422 instead of 202: runs the route's leading transform
 * and validate stages (up to the first enrich or aggregate, which need the network or the
 * state) on a copy of the event, and reports the first `on_failure: "reject"` refusal.
 * Filters and rules are not consulted; other failures are left to the processor.
 */
import type { CompiledRoute } from "./compile.ts";
import type { Working } from "./ref.ts";
import type { PipelineEvent } from "./types.ts";
import { cloneJson } from "./clone.ts";

export async function checkAtIngress(
  route: CompiledRoute,
  event: PipelineEvent,
  now: () => number,
): Promise<{ ok: true } | { ok: false; stage: string; reason: string }> {
  const lead = [];
  for (const s of route.stages) {
    if (s.type !== "transform" && s.type !== "validate") break;
    lead.push(s);
  }
  if (!lead.some((s) => s.type === "validate")) return { ok: true };
  const w: Working = { body: cloneJson(event.body), headers: {}, meta: {}, event };
  for (const s of lead) {
    try {
      const r = await s.run(w, {
        deps: null as never, // transform and validate never touch deps
        env: { now },
        routeId: route.id,
        scope: "route",
        targets: [],
        entryIds: [],
      });
      if (r.kind === "reject") return { ok: false, stage: s.name, reason: r.reason };
      if (r.kind !== "continue") return { ok: true };
    } catch {
      return { ok: true };
    }
  }
  return { ok: true };
}
