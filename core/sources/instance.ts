/**
 * One trigger running on this node under its lease: builds its SourceContext (emit -> the
 * node's durable accept; the durable cursor; live status), calls `poll` when `nextRunAt` says
 * so (never two at once: scheduled runs and `POST .../run` share one lock), or keeps a
 * long-lived `start` running with backoff, and writes its state back to the store.
 */
import type {
  EmitResult,
  Envelope,
  Logger,
  Metrics,
  PollResult,
  Source,
  SourceContext,
  SourceEvent,
  SourceFactory,
  SourceStatus,
} from "../ports.ts";
import { EmitRefusedError } from "../ports.ts";
import type { AcceptResult, Store } from "../store.ts";
import type { Sealer } from "../ports.ts";
import type { Trigger, TriggerStatePatch } from "../model/trigger.ts";
import { sourceEnvelope } from "./envelope.ts";
import { errorText, sleep } from "./sleep.ts";

export interface InstanceDeps {
  store: Store;
  sealer: Sealer;
  accept(events: Envelope[]): Promise<AcceptResult>;
  log: Logger;
  metrics?: Metrics;
  clock: { now(): number };
  nodeId: string;
}

export interface InstanceLease {
  fence: number;
  /** Until when the lease is surely still ours (last renewal + lease period). */
  validUntil(): number;
}

/** Longest single timer while waiting for a due time (the clock is looked at again after). */
const MAX_SLEEP_MS = 60_000;

export class TriggerInstance {
  readonly trigger: Trigger;
  readonly ctx: SourceContext;
  #deps: InstanceDeps;
  #factory: SourceFactory;
  #config: unknown;
  #lease: InstanceLease;
  #abort = new AbortController();
  #source: Source | null = null;
  #status: SourceStatus = { state: "starting" };
  #lastRunAt: number | null = null;
  #nextRunAt: number | null = null;
  #lastError: string | null = null;
  #pendingEmitted = 0;
  #dirty = true;
  #lock: Promise<unknown> = Promise.resolve();
  #wake: (() => void) | null = null;
  #done: Promise<void> | null = null;
  #log: Logger;

  constructor(
    trigger: Trigger,
    factory: SourceFactory,
    config: unknown,
    lease: InstanceLease,
    outbound: SourceContext["outbound"],
    deps: InstanceDeps,
  ) {
    this.trigger = trigger;
    this.#factory = factory;
    this.#config = config;
    this.#lease = lease;
    this.#deps = deps;
    this.#log = deps.log.child({ trigger_id: trigger.id, trigger_type: trigger.type });
    const ref = {
      id: trigger.id,
      tenant: trigger.owner,
      routeId: trigger.routeId,
      type: trigger.type,
      name: trigger.name,
    };
    const store = deps.store;
    this.ctx = {
      trigger: ref,
      emit: (events) => this.#emit(ref, events),
      cursor: {
        get: async () => (await store.getTriggerState(trigger.id))?.cursor ?? null,
        set: async (value) => {
          const ok = await store.setTriggerCursor(trigger.id, value, lease.fence, deps.clock.now());
          if (!ok) {
            throw new EmitRefusedError(
              `trigger ${trigger.id}: cursor not written: a newer lease holder owns it`,
            );
          }
        },
      },
      secrets: {
        get: async (name) => {
          const sealed = (await store.getTriggerState(trigger.id))?.secrets[name];
          return sealed ? await deps.sealer.open(sealed) : null;
        },
        set: async (name, value) => {
          const state = await store.getTriggerState(trigger.id);
          const secrets = { ...state?.secrets, [name]: await deps.sealer.seal(value) };
          await store.updateTriggerState(trigger.id, { secrets }, deps.clock.now());
        },
      },
      report: (s) => {
        this.#status = { ...this.#status, ...s };
        // A long-lived source reconnects by itself and reports its failures (and their end)
        // as last_error: that is the trigger's last error, as a failed poll is.
        if (s.last_error !== undefined && this.#source?.start) this.#lastError = s.last_error;
        this.#dirty = true;
      },
      outbound,
      log: this.#log,
      clock: deps.clock,
      nodeId: deps.nodeId,
    };
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** The live status as the API shows it for a trigger running here. */
  live() {
    return {
      status: { ...this.#status, node: this.#deps.nodeId },
      lastRunAt: this.#lastRunAt,
      nextRunAt: this.#nextRunAt,
      lastError: this.#lastError,
    };
  }

  canPoll(): boolean {
    return typeof this.#source?.poll === "function";
  }

  /** Creates the source and runs it until stop(); resolves once it is running. */
  async begin(opts: { schedule: boolean }): Promise<void> {
    const state = await this.#deps.store.getTriggerState(this.trigger.id);
    this.#lastRunAt = state?.lastRunAt ?? null;
    this.#source = this.#factory.create(this.#config, this.ctx);
    if (!opts.schedule) return;
    const tasks: Promise<void>[] = [];
    if (this.#source.start) tasks.push(this.#runLongLived(this.#source));
    if (this.#source.poll && this.#source.nextRunAt) tasks.push(this.#schedulePolls(this.#source));
    if (!this.#source.start) this.ctx.report({ state: "idle" });
    this.#done = Promise.all(tasks).then(() => {});
  }

  /** Runs one poll now, after any poll in progress (never overlapping). */
  runNow(): Promise<PollResult> {
    return this.#withLock(() => this.#poll());
  }

  /** Stops the source, waits for it, writes the final state. With `lost` (another node holds
   * the lease now) only the counters are written: the status and next run are the new
   * holder's. */
  async stop(finalState: SourceStatus["state"] = "stopped", opts: { lost?: boolean } = {}) {
    this.#abort.abort();
    this.#wake?.();
    await this.#done?.catch(() => {});
    await this.#lock.catch(() => {});
    await this.#source?.close?.().catch((e) =>
      this.#log.warn("source close failed", { error: errorText(e) })
    );
    const write = async () => {
      if (!opts.lost) {
        this.#status = { ...this.#status, state: finalState };
        this.#dirty = true;
        return await this.flush({ nextRunAt: null });
      }
      const add = this.#pendingEmitted;
      this.#pendingEmitted = 0;
      if (add) {
        await this.#deps.store.updateTriggerState(
          this.trigger.id,
          { addEmitted: add },
          this.#deps.clock.now(),
        );
      }
    };
    await write().catch((e) =>
      this.#log.warn("trigger state not written", { error: errorText(e) })
    );
  }

  /** Writes status and counters when something changed since the last write. */
  async flush(extra: TriggerStatePatch = {}): Promise<void> {
    if (!this.#dirty && this.#pendingEmitted === 0 && Object.keys(extra).length === 0) return;
    const add = this.#pendingEmitted;
    this.#pendingEmitted = 0;
    this.#dirty = false;
    try {
      await this.#deps.store.updateTriggerState(this.trigger.id, {
        status: { ...this.#status, node: this.#deps.nodeId },
        addEmitted: add,
        lastError: this.#lastError,
        ...extra,
      }, this.#deps.clock.now());
    } catch (e) {
      this.#pendingEmitted += add;
      this.#dirty = true;
      throw e;
    }
  }

  async #emit(ref: SourceContext["trigger"], events: SourceEvent[]): Promise<EmitResult> {
    if (this.#abort.signal.aborted) {
      throw new EmitRefusedError(`trigger ${ref.id} is stopping`, 1000);
    }
    const now = this.#deps.clock.now();
    if (now > this.#lease.validUntil()) {
      // The lease could not be renewed in time: another node may hold it by now.
      throw new EmitRefusedError(`trigger ${ref.id}: lease not renewed in time`, 1000);
    }
    if (events.length === 0) return { ids: [], accepted: 0, duplicates: 0 };
    const envs = events.map((e) => sourceEnvelope(ref, e, now));
    let result: AcceptResult;
    try {
      result = await this.#deps.accept(envs);
    } catch (e) {
      throw new EmitRefusedError(`the store refused the events: ${errorText(e)}`, 1000);
    }
    const ids = envs.map((e) => result.duplicates.get(e.id) ?? e.id);
    const duplicates = result.duplicates.size;
    const accepted = envs.length - duplicates;
    this.#pendingEmitted += accepted;
    this.#deps.metrics?.inc("trigger_events_total", { type: ref.type }, accepted);
    if (duplicates) {
      this.#deps.metrics?.inc("trigger_duplicates_total", { type: ref.type }, duplicates);
    }
    return { ids, accepted, duplicates };
  }

  #withLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => {});
    return run;
  }

  async #poll(): Promise<PollResult> {
    const source = this.#source!;
    if (!source.poll) throw new Error(`trigger type ${this.trigger.type} cannot run on demand`);
    const started = this.#deps.clock.now();
    this.#lastRunAt = started;
    this.ctx.report({ state: "polling" });
    let result: PollResult | undefined;
    let failure: unknown;
    try {
      result = await source.poll(this.#abort.signal);
      this.#deps.metrics?.inc("trigger_runs_total", { type: this.trigger.type, outcome: "ok" });
      this.#lastError = null;
      this.ctx.report({ state: "idle", last_error: null });
    } catch (e) {
      failure = e;
      this.#deps.metrics?.inc("trigger_runs_total", { type: this.trigger.type, outcome: "error" });
      this.#lastError = errorText(e);
      this.ctx.report({ state: "error", last_error: this.#lastError });
      this.#log.warn("trigger run failed", { error: this.#lastError });
    }
    const now = this.#deps.clock.now();
    this.#nextRunAt = source.nextRunAt?.(this.#lastRunAt, now) ?? null;
    await this.flush({
      lastRunAt: started,
      nextRunAt: this.#abort.signal.aborted ? null : this.#nextRunAt,
      lastError: this.#lastError,
    }).catch((e) => this.#log.warn("trigger state not written", { error: errorText(e) }));
    if (failure !== undefined) throw failure;
    return result!;
  }

  async #schedulePolls(source: Source): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const now = this.#deps.clock.now();
      const next = source.nextRunAt!(this.#lastRunAt, now);
      if (next !== this.#nextRunAt) {
        this.#nextRunAt = next;
        await this.flush({ nextRunAt: next }).catch(() => {});
      }
      if (next === null) {
        await new Promise<void>((r) => (this.#wake = r));
        continue;
      }
      // Wait for this due time without asking again: asked later, a source counting from
      // "now" would answer the slot after it.
      while (!signal.aborted && this.#deps.clock.now() < next) {
        await sleep(Math.min(next - this.#deps.clock.now(), MAX_SLEEP_MS), signal);
      }
      if (signal.aborted) break;
      await this.#withLock(() => this.#poll()).catch(() => {});
    }
  }

  async #runLongLived(source: Source): Promise<void> {
    const signal = this.#abort.signal;
    let failures = 0;
    while (!signal.aborted) {
      const began = this.#deps.clock.now();
      try {
        await source.start!(signal);
        if (signal.aborted) break;
        throw new Error("the source stopped by itself");
      } catch (e) {
        if (signal.aborted) break;
        // A source that ran for a while before failing starts over with a short backoff.
        failures = this.#deps.clock.now() - began > 60_000 ? 1 : failures + 1;
        this.#deps.metrics?.inc("trigger_restarts_total", { type: this.trigger.type });
        this.#lastError = errorText(e);
        this.ctx.report({ state: "reconnecting", last_error: this.#lastError });
        this.#log.warn("trigger source failed; restarting", { error: this.#lastError, failures });
        await this.flush({ lastError: this.#lastError }).catch(() => {});
        await sleep(Math.min(60_000, 500 * 2 ** Math.min(failures, 7)), signal);
      }
    }
  }
}
