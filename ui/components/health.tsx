/**
 * How the pages word a destination's or a trigger's health: the badge class and text, and the
 * last error line. The dashboard, the lists and the detail pages all show them, and must agree.
 */
import { fmtTime } from "./format.ts";

/** One destination's entry in /api/stats' per_destination. */
export interface DestStats {
  destination_id: string;
  delivered: number;
  pending: number;
  retrying: number;
  dead: number;
  last_delivered_at: string | null;
  last_error: string | null;
  last_error_at: string | null;
  circuit: string | null;
}

/** What a trigger's health is read from (the API's trigger answer has more). */
export interface TriggerHealth {
  active: boolean;
  status: { state?: string; last_error?: string | null; [k: string]: unknown };
  last_error: string | null;
}

export type State = [cls: string, text: string];

export function StateBadge({ state: [cls, text] }: { state: State }) {
  return <span class={`badge ${cls}`}>{text}</span>;
}

/** ok / failing / idle for a destination, from its record and its breaker. */
export function destinationState(s: DestStats | undefined): State {
  if (!s) return ["", "no deliveries yet"];
  if (s.circuit === "open") return ["bad", "circuit open"];
  const lastOk = s.last_delivered_at ? Date.parse(s.last_delivered_at) : 0;
  const lastBad = s.last_error_at ? Date.parse(s.last_error_at) : 0;
  if (lastBad > lastOk) return ["bad", "failing"];
  if (s.retrying > 0) return ["warn", "retrying"];
  return ["ok", "ok"];
}

export const destinationLastError = (s: DestStats | undefined) =>
  s?.last_error ? `${s.last_error} (${fmtTime(s.last_error_at)})` : "—";

/** ok / failing / off for a trigger, from its live status. */
export function triggerState(t: TriggerHealth): State {
  const s = t.status?.state ?? (t.active ? "starting" : "stopped");
  if (!t.active) return ["", "inactive"];
  if (s === "error" || t.last_error || t.status?.last_error) {
    return ["bad", s === "error" ? "error" : `${s}, last run failed`];
  }
  if (s === "reconnecting" || s === "starting") return ["warn", s];
  return ["ok", s];
}

export const triggerLastError = (t: TriggerHealth) => t.last_error ?? t.status?.last_error ?? "—";
