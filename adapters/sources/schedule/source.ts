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
/** Most missed slots fired when catching up (an every-second cron after a long outage). */
const MAX_CATCH_UP = 100;

export class ScheduleSource implements Source {
  #cfg: ScheduleConfig;
  #ctx: SourceContext;
  #cron: Cron;
  #body: Uint8Array;
  /** The slot the last nextRunAt answered. */
  #due: number | null = null;
  #retry: { slot: number; at: number; failures: number } | null = null;
  /** The last slot fired by this instance. */
  #lastSlot: number | null = null;

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
    // After a slot fired here, count from that slot; after a start, from the last run.
    const base = this.#lastSlot ?? lastRunAt ?? now;
    const next = this.slotAfter(base);
    if (next === null || next > now) return (this.#due = next);
    // Slots were missed (every node down, or a dead holder's lease running out): each one
    // younger than catch_up fires once, oldest first, at most MAX_CATCH_UP of them.
    const catchUp = this.#cfg.catch_up;
    if (catchUp !== undefined) {
      // +1 ms: croner counts a slot at exactly `now` as the reference's own, not a previous run.
      const missed = this.#cron.previousRuns(MAX_CATCH_UP, new Date(now + 1))
        .map((d) => d.getTime())
        .filter((t) => t > base && now - t <= catchUp);
      if (missed.length) return (this.#due = Math.min(...missed));
    }
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
      if (slot !== null) {
        this.#due = null;
        this.#lastSlot = slot;
        // Shown as the trigger's cursor; the lease and the slot's dedupKey do the real work.
        await this.#ctx.cursor.set(new Date(slot).toISOString());
      }
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
