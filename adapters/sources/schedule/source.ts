/**
 * `schedule`: emits the configured payload at every cron slot (croner computes slots in the
 * trigger's time zone, seconds included). The runtime calls `poll` when `nextRunAt` says the
 * slot is due and holds the trigger's lease meanwhile, so one node fires it; the slot is the
 * event's dedupKey, so a slot fired twice (a re-run after a crash, a handover) is one event.
 */
import { Cron } from "croner";
import type { PollResult, Source, SourceContext, SourceFactory } from "../../../core/ports.ts";
import { type ScheduleConfig, scheduleConfigSchema } from "./config.ts";

const enc = new TextEncoder();
/** A slot whose emit failed is tried again this many times (backoff 1 s, 2 s, 4 s, ...). */
const RETRIES = 6;

export class ScheduleSource implements Source {
  #cfg: ScheduleConfig;
  #ctx: SourceContext;
  #cron: Cron;
  #body: Uint8Array;
  /** The slot the last nextRunAt answered. */
  #due: number | null = null;
  #retry: { slot: number; at: number; failures: number } | null = null;

  constructor(cfg: ScheduleConfig, ctx: SourceContext) {
    this.#cfg = cfg;
    this.#ctx = ctx;
    this.#cron = new Cron(cfg.cron, { paused: true, timezone: cfg.timezone, mode: "5-or-6-parts" });
    this.#body = enc.encode(JSON.stringify(cfg.payload ?? {}));
  }

  /** The slot after `after` (ms), or null when the expression has no more. */
  slotAfter(after: number): number | null {
    return this.#cron.nextRun(new Date(after))?.getTime() ?? null;
  }

  nextRunAt(lastRunAt: number | null, now: number): number | null {
    if (this.#retry) return this.#retry.at;
    const next = this.slotAfter(lastRunAt ?? now);
    if (next === null || next > now) return (this.#due = next);
    // Slots were missed since the last run: fire the latest one once if it is young enough.
    // +1 ms: croner counts a slot at exactly `now` as the reference's own, not a previous run.
    const missed = this.#cron.previousRuns(1, new Date(now + 1))[0]?.getTime() ?? next;
    const catchUp = this.#cfg.catch_up;
    if (catchUp !== undefined && now - missed <= catchUp) return (this.#due = missed);
    return (this.#due = this.slotAfter(now));
  }

  async poll(_signal: AbortSignal): Promise<PollResult> {
    const now = this.#ctx.clock.now();
    const slot = this.#retry?.slot ?? (this.#due !== null && this.#due <= now ? this.#due : null);
    const at = slot ?? now;
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "x-schedule-slot": new Date(at).toISOString(),
      "x-schedule-cron": this.#cfg.cron,
      "x-schedule-timezone": this.#cfg.timezone,
    };
    if (slot === null) headers["x-schedule-manual"] = "true";
    try {
      const r = await this.#ctx.emit([{
        body: this.#body,
        headers,
        // A manual run is its own event; a slot is one event however often it is fired.
        dedupKey: slot === null ? null : `slot:${new Date(slot).toISOString()}`,
        receivedAt: now,
      }]);
      this.#retry = null;
      if (slot !== null) this.#due = null;
      return { emitted: r.accepted, duplicates: r.duplicates, ids: r.ids };
    } catch (e) {
      if (slot !== null) {
        const failures = (this.#retry?.failures ?? 0) + 1;
        this.#retry = failures > RETRIES
          ? null
          : { slot, at: now + 1000 * 2 ** (failures - 1), failures };
      }
      throw e;
    }
  }
}

export const scheduleSourceFactory: SourceFactory<ScheduleConfig> = {
  type: "schedule",
  schema: scheduleConfigSchema as never,
  parseConfig: (input) => scheduleConfigSchema.parse(input),
  create: (cfg, ctx) => new ScheduleSource(cfg, ctx),
};
