/**
 * The trigger runtime of a node: every active trigger runs on exactly one node of the cluster,
 * under the coordinator lease `trigger:<id>`. Each node looks at the triggers every few
 * seconds (and at once when the API changed one), takes the leases that are free, renews the
 * ones it holds, and stops a trigger when its lease is lost or the trigger was changed,
 * deactivated or deleted. A dead node's triggers move once its leases expire.
 */
import type {
  Coordinator,
  Envelope,
  Lease,
  Logger,
  Metrics,
  Outbound,
  PollResult,
  Sealer,
  SourceFactory,
} from "../ports.ts";
import type { AcceptResult, Store } from "../store.ts";
import type { Trigger } from "../model/trigger.ts";
import type { Role } from "../model/user.ts";
import { openSecrets } from "../model/secret_fields.ts";
import { TriggerInstance } from "./instance.ts";
import { errorText, sleep } from "./sleep.ts";

export interface TriggerRunnerDeps {
  store: Store;
  sealer: Sealer;
  sources: Record<string, SourceFactory>;
  /** Overrides for triggers owned by non-admin users (own cloud credentials required). */
  tenantSources?: Record<string, SourceFactory>;
  coordinator: Coordinator;
  /** The node's durable accept (group commit). */
  accept(events: Envelope[]): Promise<AcceptResult>;
  /** The outbound capability for a trigger owned by a user of this role (address guard). */
  outbound(role: Role): Outbound;
  /** Node defaults filled into a config before parsing (e.g. RABBITMQ_URL). */
  configDefaults?(
    type: string,
    config: Record<string, unknown>,
    kind: "trigger",
  ): Record<string, unknown>;
  log: Logger;
  metrics?: Metrics;
  clock: { now(): number };
  nodeId: string;
  /** Lease period; a dead node's triggers move after at most this (plus one look). */
  leaseMs?: number;
  /** How often the triggers are looked at (default: a third of the lease). */
  reconcileMs?: number;
  /** How often live status and counters are written (default 1 s). */
  flushMs?: number;
}

/** Why `runNow` could not run the trigger: `status` is the HTTP status the API answers. */
export class TriggerRunError extends Error {
  constructor(readonly status: 400 | 409 | 502, readonly code: string, message: string) {
    super(message);
  }
}

interface Held {
  instance: TriggerInstance;
  lease: Lease;
  renewedAt: number;
  /** The parsed config it runs with (node defaults filled in), to see a defaults change. */
  config: string;
  /** The node defaults generation it was last compared with. */
  defaultsGen: number;
  /** Settles once the source runs or failed to start. */
  ready: Promise<void>;
}

export interface TriggerRunner {
  /** Starts looking at the triggers (call once). */
  start(): void;
  /** A trigger or route changed through the API: look again now. */
  changed(): void;
  /** Runs the trigger's poll once now and answers what it emitted. */
  runNow(trigger: Trigger): Promise<PollResult>;
  /** The live status of a trigger running on this node, if it runs here. */
  live(id: string): ReturnType<TriggerInstance["live"]> | undefined;
  /** Ids of the triggers running on this node. */
  running(): string[];
  /**
   * The node defaults behind `configDefaults` changed (broker defaults in settings): triggers
   * whose effective config changed restart with it, and ones that could not start try again.
   */
  defaultsChanged(): void;
  stop(): Promise<void>;
}

export function createTriggerRunner(deps: TriggerRunnerDeps): TriggerRunner {
  const leaseMs = deps.leaseMs ?? 15_000;
  const reconcileMs = deps.reconcileMs ?? Math.max(200, Math.floor(leaseMs / 3));
  const flushMs = deps.flushMs ?? 1000;
  const log = deps.log.child({ component: "triggers" });
  const held = new Map<string, Held>();
  const abort = new AbortController();
  const leaseName = (id: string) => `trigger:${id}`;
  let loop: Promise<void> | null = null;
  let again = false;
  let kick: (() => void) | null = null;
  let flushTimer: ReturnType<typeof setInterval> | null = null;
  /** Triggers whose config cannot start here, by id -> updatedAt: not retried until changed. */
  const broken = new Map<string, number>();
  let defaultsGen = 0;

  async function prepare(t: Trigger): Promise<{ factory: SourceFactory; config: unknown }> {
    const tenant = (await deps.store.getUser(t.owner))?.role !== "admin";
    const factory = (tenant ? deps.tenantSources?.[t.type] : undefined) ?? deps.sources[t.type];
    if (!factory) throw new Error(`trigger type ${t.type} is not available on this node`);
    let config = await openSecrets(t.config, deps.sealer);
    config = deps.configDefaults?.(t.type, config, "trigger") ?? config;
    return { factory, config: factory.parseConfig(config) };
  }

  async function outboundFor(t: Trigger): Promise<Outbound> {
    const owner = await deps.store.getUser(t.owner);
    return deps.outbound(owner?.role === "admin" ? "admin" : "user");
  }

  const instanceDeps = {
    store: deps.store,
    sealer: deps.sealer,
    accept: deps.accept,
    log,
    metrics: deps.metrics,
    clock: deps.clock,
    nodeId: deps.nodeId,
  };

  async function startHeld(t: Trigger, lease: Lease): Promise<void> {
    const entry: Held = {
      instance: null as never,
      lease,
      renewedAt: deps.clock.now(),
      config: "",
      defaultsGen,
      ready: Promise.resolve(),
    };
    let prepared;
    try {
      prepared = await prepare(t);
    } catch (e) {
      broken.set(t.id, t.updatedAt);
      const error = `config cannot start on this node: ${errorText(e)}`;
      log.error("trigger not started", { trigger_id: t.id, error });
      await deps.store.updateTriggerState(t.id, {
        status: { state: "error", node: deps.nodeId, last_error: error },
        lastError: error,
        nextRunAt: null,
      }, deps.clock.now()).catch(() => {});
      await lease.release().catch(() => {});
      return;
    }
    entry.config = configKey(prepared.config);
    entry.instance = new TriggerInstance(
      t,
      prepared.factory,
      prepared.config,
      { fence: lease.fence, validUntil: () => entry.renewedAt + leaseMs },
      await outboundFor(t),
      instanceDeps,
    );
    const begun = entry.instance.begin({ schedule: true });
    entry.ready = begun.then(() => {}, () => {});
    held.set(t.id, entry);
    try {
      await begun;
      log.info("trigger started", { trigger_id: t.id, type: t.type, fence: lease.fence });
    } catch (e) {
      held.delete(t.id);
      broken.set(t.id, t.updatedAt);
      const error = errorText(e);
      log.error("trigger failed to start", { trigger_id: t.id, error });
      await entry.instance.stop("error").catch(() => {});
      await deps.store.updateTriggerState(t.id, { lastError: error }, deps.clock.now())
        .catch(() => {});
      await lease.release().catch(() => {});
    }
  }

  /** Stops a held trigger; `release` false when the lease is kept (a restart) or was lost. */
  async function stopHeld(id: string, why: string, release = true, lost = false): Promise<void> {
    const entry = held.get(id);
    if (!entry) return;
    held.delete(id);
    log.info("trigger stopped", { trigger_id: id, why });
    await entry.instance.stop("stopped", { lost });
    if (release) await entry.lease.release().catch(() => {});
  }

  async function renew(entry: Held, id: string): Promise<void> {
    try {
      if (await entry.lease.renew(leaseMs)) {
        entry.renewedAt = deps.clock.now();
        return;
      }
      log.warn("trigger lease lost to another node", { trigger_id: id });
      await stopHeld(id, "lease lost", false, true);
    } catch (e) {
      // The coordinator is unreachable: keep running while the lease may still be ours.
      if (deps.clock.now() > entry.renewedAt + leaseMs) {
        log.warn("trigger lease could not be renewed in time", {
          trigger_id: id,
          error: errorText(e),
        });
        await stopHeld(id, "lease not renewed", false, true);
      }
    }
  }

  /** Whether `t`'s config with today's node defaults differs from the one it runs with. */
  async function defaultsMoved(entry: Held, t: Trigger): Promise<boolean> {
    entry.defaultsGen = defaultsGen;
    try {
      return configKey((await prepare(t)).config) !== entry.config;
    } catch {
      return true; // it cannot start any more: restarting shows why on the trigger
    }
  }

  /** Held entry `id` once its source runs (a run request may come while it starts). */
  async function readyEntry(id: string): Promise<Held | undefined> {
    const entry = held.get(id);
    if (entry) await entry.ready;
    return held.get(id);
  }

  /** One look at every trigger: stop what must stop, renew, take free leases. */
  async function reconcile(): Promise<void> {
    const [triggers, routes] = await Promise.all([
      deps.store.allTriggers(),
      deps.store.allRoutes(),
    ]);
    const routeById = new Map(routes.map((r) => [r.id, r]));
    const wanted = new Map<string, Trigger>();
    for (const t of triggers) {
      const r = routeById.get(t.routeId);
      if (!t.active || !r || !r.active || r.owner !== t.owner) continue;
      if (!deps.sources[t.type]) continue;
      if (broken.get(t.id) === t.updatedAt) continue;
      wanted.set(t.id, t);
    }
    for (const id of broken.keys()) {
      if (!triggers.some((t) => t.id === id && t.updatedAt === broken.get(id))) broken.delete(id);
    }
    for (const [id, entry] of held) {
      const w = wanted.get(id);
      if (!w) await stopHeld(id, "deleted, deactivated, or its route is gone or inactive");
      else if (w.updatedAt !== entry.instance.trigger.updatedAt) {
        // Changed: start over with the new config under the same lease.
        await stopHeld(id, "changed", false);
        await startHeld(w, entry.lease);
      } else if (entry.defaultsGen !== defaultsGen && await defaultsMoved(entry, w)) {
        await stopHeld(id, "node defaults changed", false);
        await startHeld(w, entry.lease);
      } else await renew(entry, id);
    }
    for (const [id, w] of wanted) {
      if (held.has(id) || abort.signal.aborted) continue;
      const lease = await deps.coordinator.tryAcquire(leaseName(id), deps.nodeId, leaseMs);
      if (lease) await startHeld(w, lease);
    }
  }

  /** One reconcile at a time, whether from the loop or from a run request. */
  let serial: Promise<void> = Promise.resolve();
  function reconcileSerial(): Promise<void> {
    const next = serial.then(reconcile, reconcile);
    serial = next.catch(() => {});
    return next;
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (!abort.signal.aborted) {
      again = false;
      try {
        await reconcileSerial();
        failures = 0;
      } catch (e) {
        failures++;
        log.error("looking at the triggers failed", { error: errorText(e), failures });
        // Leases cannot be renewed either: stop what may have moved to another node.
        for (const [id, entry] of held) {
          if (deps.clock.now() > entry.renewedAt + leaseMs) {
            await stopHeld(id, "lease not renewed", false, true);
          }
        }
      }
      if (again || abort.signal.aborted) continue;
      const wait = new AbortController();
      kick = () => wait.abort();
      abort.signal.addEventListener("abort", kick, { once: true });
      await sleep(
        failures ? Math.min(reconcileMs * 2 ** failures, 30_000) : reconcileMs,
        wait.signal,
      );
      abort.signal.removeEventListener("abort", kick);
      kick = null;
    }
  }

  return {
    start() {
      loop ??= run();
      flushTimer ??= setInterval(() => {
        for (const { instance } of held.values()) {
          instance.flush().catch((e) =>
            log.warn("trigger state not written", {
              trigger_id: instance.trigger.id,
              error: errorText(e),
            })
          );
        }
      }, flushMs);
    },
    changed() {
      again = true;
      kick?.();
    },
    async runNow(t) {
      let entry = await readyEntry(t.id);
      if (entry && entry.instance.trigger.updatedAt !== t.updatedAt) {
        // Changed a moment ago and running here with the old config: restart it first.
        await reconcileSerial().catch(() => {});
        entry = await readyEntry(t.id);
      }
      if (entry && entry.instance.trigger.updatedAt === t.updatedAt) {
        if (!entry.instance.canPoll()) throw notPollable(t);
        return await pollOrFail(() => entry.instance.runNow());
      }
      // Not running here: run it once under its lease if no other node holds it.
      const lease = await deps.coordinator.tryAcquire(leaseName(t.id), deps.nodeId, leaseMs);
      if (!lease) {
        const state = await deps.store.getTriggerState(t.id);
        const node = state?.status.node ? ` (node ${state.status.node})` : "";
        throw new TriggerRunError(
          409,
          "conflict",
          `trigger ${t.id} is running on another node${node}; run it there or retry`,
        );
      }
      try {
        let prepared;
        try {
          prepared = await prepare(t);
        } catch (e) {
          throw new TriggerRunError(400, "invalid_config", `config: ${errorText(e)}`);
        }
        const renewedAt = deps.clock.now();
        const once = new TriggerInstance(
          t,
          prepared.factory,
          prepared.config,
          { fence: lease.fence, validUntil: () => renewedAt + leaseMs },
          await outboundFor(t),
          instanceDeps,
        );
        await once.begin({ schedule: false });
        try {
          if (!once.canPoll()) throw notPollable(t);
          return await pollOrFail(() => once.runNow());
        } finally {
          await once.stop(t.active ? "idle" : "stopped");
        }
      } finally {
        await lease.release().catch(() => {});
        this.changed();
      }
    },
    live: (id) => held.get(id)?.instance.live(),
    running: () => [...held.keys()],
    defaultsChanged() {
      defaultsGen++;
      broken.clear();
      this.changed();
    },
    async stop() {
      abort.abort();
      if (flushTimer) clearInterval(flushTimer);
      await loop?.catch(() => {});
      await Promise.all([...held.keys()].map((id) => stopHeld(id, "node stopping")));
    },
  };
}

/** A parsed config as text, to compare (configs are JSON data). */
const configKey = (config: unknown): string => JSON.stringify(config) ?? "";

function notPollable(t: Trigger) {
  return new TriggerRunError(
    400,
    "not_supported",
    `trigger type ${t.type} runs continuously and cannot run once on demand`,
  );
}

async function pollOrFail(fn: () => Promise<PollResult>): Promise<PollResult> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof TriggerRunError) throw e;
    throw new TriggerRunError(502, "run_failed", errorText(e));
  }
}
