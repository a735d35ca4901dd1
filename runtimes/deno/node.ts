/**
 * The full node: store, keys, the core app on Deno.serve, the processor and dispatcher loops,
 * the trigger runner, retention, and a clean shutdown (stop accepting, stop the triggers,
 * finish in-flight requests, drain the group commit, close publishers and the store).
 */
import { createApp } from "../../core/app.ts";
import type { AppDeps } from "../../core/app_deps.ts";
import { createGroupCommitter } from "../../core/ingress/group_commit.ts";
import { createJournalAccept } from "../../core/ingress/journal_accept.ts";
import { withReadBarrier } from "../../core/ingress/read_barrier.ts";
import { openFileJournal } from "../../adapters/journal/file_journal.ts";
import { createCircuitBreakers } from "../../core/delivery/circuit_breaker.ts";
import { createDispatcher } from "../../core/delivery/dispatcher.ts";
import { createProcessor } from "../../core/delivery/processor.ts";
import { startLoop } from "../../core/delivery/loop.ts";
import { createPublisherPool } from "../../core/delivery/publisher_pool.ts";
import type { Planner } from "../../core/delivery/planner.ts";
import { createSealer } from "../../core/crypto/sealer.ts";
import type { AddressPolicy } from "../../core/net/policy.ts";
import { nodeConfigDefaults, openBrokerDefaults, tenantAddressPolicy } from "./config_deps.ts";
import { hashPassword } from "../../core/auth/password.ts";
import { newId } from "../../core/model/ids.ts";
import type { Envelope, PublisherContext } from "../../core/ports.ts";
import type { Role } from "../../core/model/user.ts";
import { effectiveIngest, readSettings, type Settings } from "../../core/model/settings.ts";
import { resealStore } from "../../core/model/reseal.ts";
import type { Store } from "../../core/store.ts";
import { openStoreAsync } from "../../adapters/store/sqlite/store.ts";
import { PUBLISHERS, tenantPublishers } from "../../adapters/brokers/registry.ts";
import { SOURCES, TENANT_SOURCES } from "../../adapters/sources/registry.ts";
import { createTriggerRunner } from "../../core/sources/runner.ts";
import { plannedAccept } from "../../core/sources/planned_accept.ts";
import { jobLease } from "../../core/sources/job_lease.ts";
import { openCoordinator } from "./coordinator.ts";
import { everyMinute } from "./maintenance.ts";
import { createOutbound, openOutbound } from "./outbound.ts";
import { ConfigError, type NodeConfig } from "./config.ts";
import { secureDatabaseFile, secureDataDir } from "./data_dir.ts";
import { type Listening, serveHttp } from "./serve.ts";
import { loadKeys } from "./keys.ts";
import { createLogger } from "./logger.ts";
import { createMetrics } from "./metrics.ts";
import { createRoutePlanner } from "./route_planner.ts";
import { nodeUi } from "./ui.ts";

export const VERSION = "0.1.0";

/** `/webhook/<token>` (one segment, as the app's route): the short way in front of Hono. */
export function isWebhookPath(url: string): boolean {
  const slash = url.indexOf("/", url.indexOf("//") + 2);
  if (!url.startsWith("/webhook/", slash)) return false;
  const end = url.indexOf("?", slash + 9);
  const token = end < 0 ? url.slice(slash + 9) : url.slice(slash + 9, end);
  return token.length > 0 && !token.includes("/");
}

export interface RunningNode {
  url: string;
  port: number;
  store: Store;
  stop(): Promise<void>;
  finished: Promise<void>;
}

/** Creates admin/admin (must change its password) when the store has no user yet. */
export async function ensureAdmin(store: Store) {
  if (await store.countUsers() > 0) return false;
  const now = Date.now();
  await store.createUser({
    id: newId("user"),
    username: "admin",
    passwordHash: await hashPassword("admin"),
    role: "admin",
    mustChangePassword: true,
    createdAt: now,
    updatedAt: now,
  });
  return true;
}

export async function openConfiguredStore(cfg: NodeConfig): Promise<Store> {
  if (cfg.databaseType === "postgres") {
    const { openPostgresStore } = await import("../../adapters/store/postgres/store.ts");
    const pg = await openPostgresStore(cfg.databaseUrl!);
    await pg.migrate();
    return pg;
  }
  if (!cfg.databaseUrl) {
    await secureDataDir(cfg.dataDir);
    await secureDatabaseFile(cfg.databasePath);
  }
  const store = await openStoreAsync({
    inline: cfg.databaseInline,
    path: cfg.databasePath,
    url: cfg.databaseUrl,
    authToken: cfg.databaseAuthToken,
    synchronous: cfg.databaseSync,
  });
  await store.migrate();
  return store;
}

export async function startNode(
  cfg: NodeConfig,
  opts: { planner?: Planner; onListen?: (url: string) => void } = {},
): Promise<RunningNode> {
  const log = createLogger(cfg.logLevel);
  // A client library's promise that nobody awaits (a tenant's config can provoke them, e.g. a
  // gRPC client whose credentials fail) must not end the node for every tenant: logged as the
  // bug it is, and the node keeps serving. Adapters still handle their own errors (the Pub/Sub
  // client gets its credentials where a failure is an ordinary error).
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    const reason = e.reason instanceof Error ? e.reason.message : String(e.reason);
    log.error("unhandled promise rejection (a bug; the node keeps serving)", { error: reason });
  });
  // Before anything is opened or written: a port in use is one clear line, not a stack trace
  // after the store was migrated. (Deno.serve below reports a port taken in between the same.)
  probeListen(cfg);
  await secureDataDir(cfg.dataDir);
  const keys = await loadKeys(cfg, log);
  const store = await openConfiguredStore(cfg);
  if (await ensureAdmin(store)) {
    log.warn("created user admin with password admin: log in from this machine and change it now");
  }
  const sealer = createSealer(keys.encryptionKey);
  const metrics = createMetrics({ queueDepth: (now) => store.queueDepth(now) });
  const owner = cfg.nodeId ?? `node_${crypto.randomUUID().slice(0, 8)}`;
  const abort = new AbortController();
  const clock = { now: () => Date.now() };

  // Secrets saved before the secret rule knew them (header credentials, enrich stages) are
  // sealed now, so nothing stays in clear at rest.
  const resealed = await resealStore(store, sealer, sealer);
  if (resealed.destinations || resealed.routes) {
    log.info("sealed secrets stored in clear", { ...resealed });
  }

  const { settings, invalid } = readSettings(await store.getSettings());
  for (const bad of invalid) {
    log.error("invalid stored setting ignored: its default applies until an admin fixes it", {
      key: bad.key,
      error: bad.message,
    });
  }
  // The tenants' address policy follows the admin's allow lists in settings: rebuilt when
  // POST /api/settings changes them, without a restart. Settings are validated by the same
  // parsers (core/model/settings.ts), so building the policy cannot fail here.
  let tenantPolicy: AddressPolicy;
  let brokerDefaults = await openBrokerDefaults(settings, sealer);
  let onBrokerDefaults = () => {};
  const applySettings = (st: Settings) => {
    tenantPolicy = tenantAddressPolicy(cfg, st);
    openBrokerDefaults(st, sealer).then((d) => {
      brokerDefaults = d;
      onBrokerDefaults();
    }, (e) => log.error("broker defaults cannot be opened", { error: String(e) }));
  };
  tenantPolicy = tenantAddressPolicy(cfg, settings);
  const livePolicy: AddressPolicy = {
    get allowPrivate() {
      return tenantPolicy.allowPrivate;
    },
    hostAllowed: (h, port) => tenantPolicy.hostAllowed(h, port),
    check: (h, ips, port) => tenantPolicy.check(h, ips, port),
  };
  // One Outbound per class of owner: tenants' connections are guarded, admins' are not.
  const tenantOutbound = createOutbound(livePolicy);
  const adminOutbound = openOutbound();
  const outbound = (role: Role) => role === "admin" ? adminOutbound : tenantOutbound;
  const context = (role: Role): PublisherContext => ({
    ...outbound(role),
    log: log.child({ component: "publisher" }),
  });

  const tenantFactories = tenantPublishers({ filesRoot: `${cfg.dataDir}/files` });
  const breakers = createCircuitBreakers();
  const configDefaults = nodeConfigDefaults(cfg, () => brokerDefaults);
  const coordinator = await openCoordinator(cfg, store, log);
  // The environment's limits; settings override them live (core/model/settings.ts).
  const ingestBase = { maxBodyBytes: cfg.maxBodyBytes, globalRatePerSecond: 0, globalBurst: 1000 };
  const pool = createPublisherPool({
    store,
    sealer,
    factories: PUBLISHERS,
    tenantFactories,
    context,
    defaults: configDefaults,
  });
  const planner = opts.planner ?? createRoutePlanner({
    fetch: (role) => outbound(role).fetch,
    store,
    sealer,
    isOpen: (id) => breakers.isOpen(id, Date.now()),
  });
  // Deliveries handed over by the ingest commit wake the dispatch loops (created just below).
  let wakeDispatch = () => {};
  const dispatcher = createDispatcher({
    store,
    pool,
    breakers,
    clock,
    log: log.child({ component: "dispatcher" }),
    metrics,
    owner,
    signal: abort.signal,
    publishTimeoutMs: cfg.publishTimeoutMs,
    // A node that dies holding deliveries gives them up when the lease ends: twice the
    // longest publish, so a slow but live publish is never taken over.
    leaseMs: cfg.publishTimeoutMs * 2,
    onOffered: () => wakeDispatch(),
  });
  // Several dispatch loops share the work: each claims its own batch (claims are atomic), so
  // one batch's publishing overlaps the next one's claim and settle.
  const dispatchLoops = Array.from(
    { length: cfg.dispatchConcurrency },
    (_, i) =>
      startLoop(`dispatcher-${i}`, () => dispatcher.runOnce(), {
        idleMs: 250,
        signal: abort.signal,
        log,
      }),
  );
  const dispatchLoop = {
    wake: () => dispatchLoops.forEach((l) => l.wake()),
    done: Promise.all(dispatchLoops.map((l) => l.done)),
  };
  wakeDispatch = dispatchLoop.wake;
  const processor = createProcessor({
    store,
    planner,
    clock,
    log: log.child({ component: "processor" }),
    metrics,
    owner,
    leaseMs: cfg.publishTimeoutMs,
    onDeliveries: () => dispatchLoop.wake(),
    flushLease: jobLease(coordinator, "aggregate-flush", owner, 30_000),
  });
  const processLoop = startLoop("processor", () => processor.runOnce(), {
    idleMs: 250,
    signal: abort.signal,
    log,
  });
  // After a commit, wake only the loops that have work in it: the processor for events not
  // planned at ingest, the dispatcher for deliveries it was not handed already.
  const wakeFor = (events: Envelope[], handedOff: number) => {
    let unplanned = false, deliveries = 0;
    for (const e of events) {
      if (!e.planned) unplanned = true;
      else deliveries += e.planned.deliveries.length;
    }
    if (unplanned) processLoop.wake();
    if (deliveries > handedOff) dispatchLoop.wake();
  };
  const committer = createGroupCommitter((events) => store.accept(events), {
    maxWaitMs: cfg.groupCommitWaitMs,
    onCommitted: (events) => wakeFor(events, 0),
  });
  // Fresh webhooks commit to the ingest journal (one write + fdatasync) and reach the store
  // asynchronously; the embedded SQLite file only, whose folder the journal sits beside.
  const journalAccept = cfg.ingestJournal && cfg.databaseType === "sqlite" && !cfg.databaseUrl
    ? createJournalAccept({
      journal: await openFileJournal({ dir: `${cfg.databasePath}.ingest-journal` }),
      store,
      clock,
      log: log.child({ component: "journal" }),
      metrics,
      owner,
      leaseMs: cfg.publishTimeoutMs * 2,
      handoff: dispatcher,
      onImported: wakeFor,
    })
    : null;
  if (journalAccept) {
    const n = await journalAccept.recover();
    if (n) log.info("imported the events the ingest journal kept from the last run", { events: n });
  }
  // Above capacity, webhooks are refused (503, Retry-After) rather than queued without bound.
  const overloaded = () => {
    const j = journalAccept?.backlog();
    const full = committer.backlog() > cfg.ingestBacklogEvents ||
      (j !== undefined &&
        (j.queuedEvents > cfg.ingestBacklogEvents || j.journalBytes > cfg.ingestBacklogBytes));
    return full ? 1 : null;
  };

  const triggers = createTriggerRunner({
    store,
    sealer,
    sources: SOURCES,
    tenantSources: TENANT_SOURCES,
    coordinator,
    // Planned before the commit like webhooks: each event is written once, with its deliveries.
    accept: plannedAccept({ store, planner, accept: (events) => committer.accept(events) }),
    outbound: (role) => context(role),
    configDefaults,
    log,
    metrics,
    clock,
    nodeId: owner,
    leaseMs: cfg.leaseMs,
  });

  // Publishers built from an old default are rebuilt on their next use; triggers that took one
  // restart with the new one.
  onBrokerDefaults = () => (pool.invalidate(), triggers.defaultsChanged());

  const retentionLease = jobLease(coordinator, "retention", owner, 10 * 60_000);
  const maintenance = new AbortController();
  const retentionDriver = everyMinute(
    "event-router retention",
    async () => {
      try {
        if (!(await retentionLease())) return;
        const days = readSettings(await store.getSettings()).settings.retention_days ??
          cfg.retentionDays;
        const n = await store.purgeDelivered(Date.now() - days * 86400_000);
        if (n) log.info("retention removed delivered events", { count: n });
      } catch (e) {
        log.error("retention failed", { error: String(e) });
      }
    },
    maintenance.signal,
    log,
  );

  // A neighbour on the same database file that died leaves its journal segments behind
  // (unlocked once it is gone): this node imports them within seconds, not at its next start.
  if (journalAccept) {
    let recovering = false;
    const neighbours = setInterval(async () => {
      if (recovering) return;
      recovering = true;
      try {
        const n = await journalAccept.recover();
        if (n) {
          log.info("imported the events a stopped node left in the ingest journal", { events: n });
        }
      } catch (e) {
        log.error("importing a stopped node's ingest journal failed", { error: String(e) });
      } finally {
        recovering = false;
      }
    }, 5_000);
    maintenance.signal.addEventListener("abort", () => clearInterval(neighbours));
  }

  const deps: AppDeps = {
    // API reads of events wait for the journal's import, so a 202 is followed by a visible event.
    store: journalAccept ? withReadBarrier(store, () => journalAccept.imported()) : store,
    sealer,
    jwtSecret: keys.jwtSecret,
    log,
    metrics,
    clock,
    version: VERSION,
    tokenTtlSeconds: cfg.tokenTtlSeconds,
    planner,
    publishers: PUBLISHERS,
    tenantPublishers: tenantFactories,
    addressPolicy: livePolicy,
    sources: SOURCES,
    tenantSources: TENANT_SOURCES,
    triggers,
    configDefaults,
    accept: (events) => committer.accept(events),
    acceptFresh: journalAccept ? (events) => journalAccept.accept(events) : undefined,
    overloaded,
    changed(kind, id) {
      if (kind === "destination") pool.invalidate(id);
      else if (kind === "route") (processor.invalidate(id), triggers.changed());
      else triggers.changed();
    },
    wake() {
      processLoop.wake();
      dispatchLoop.wake();
    },
    ingestBase: ingestBase,
    ingest: effectiveIngest(ingestBase, settings),
    healthChecks: { publishers: () => pool.healthy() },
    edge: cfg.edgeSecret ? { secret: cfg.edgeSecret } : undefined,
    settingsChanged: (st) => applySettings(readSettings(st).settings),
    circuitState: (id) => breakers.state(id, Date.now()),
    openCircuits: (now) => breakers.notClosed(now),
    coordinator,
    ui: await nodeUi(log),
  };
  const { app, webhook } = createApp(deps);

  let listener: Listening;
  try {
    listener = await serveHttp(
      cfg,
      (req, peer) => {
        const conn = { ...peer, trustProxy: cfg.trustProxy };
        // Webhooks skip Hono's router and middleware: the same handler, with less in front.
        return isWebhookPath(req.url) ? webhook(req, conn) : app.fetch(req, conn);
      },
      log,
    );
  } catch (e) {
    const refused = listenError(e, cfg);
    if (!refused) throw e;
    abort.abort();
    maintenance.abort();
    await Promise.allSettled([processLoop.done, dispatchLoop.done]);
    await journalAccept?.drain();
    await pool.closeAll();
    await coordinator.close?.().catch(() => {});
    await tenantOutbound.close();
    await adminOutbound.close();
    await store.close();
    throw refused;
  }
  const listenAddress = listener.address;
  const url = listener.url;
  triggers.start();
  log.info(`event router listening on ${listenAddress}`, {
    listen: listenAddress,
    url,
    node: owner,
    store: store.kind,
    coordinator: coordinator.kind,
    maintenance: retentionDriver,
    version: VERSION,
  });
  opts.onListen?.(url);
  const firstStart = (await store.listUsers({ limit: 1000, offset: 0 })).items
    .filter((u) => u.mustChangePassword).map((u) => u.username);
  if (firstStart.length) {
    log.warn(
      `${firstStart.join(", ")} still has its first-start password: logins for it are ` +
        `accepted only from this machine (loopback) until it is changed, although the node ` +
        `listens on ${listenAddress}`,
      { users: firstStart, listen: listenAddress },
    );
  }

  let stopping: Promise<void> | null = null;
  const stop = () =>
    stopping ??= (async () => {
      log.info("shutting down: finishing in-flight requests");
      maintenance.abort();
      // Triggers first: their last emits still reach the group commit drained below.
      await triggers.stop();
      await listener.shutdown();
      await committer.drain();
      await journalAccept?.drain();
      // Deliveries handed over at ingest are published before the loops stop (bounded).
      for (let i = 0; i < 500 && dispatcher.offered() > 0; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const gc = committer.stats();
      log.info("group commit totals", {
        commits: gc.commits,
        events: gc.events,
        mean_batch: gc.commits ? Math.round(gc.events / gc.commits * 10) / 10 : 0,
      });
      abort.abort();
      await Promise.allSettled([processLoop.done, dispatchLoop.done]);
      await pool.closeAll();
      await coordinator.close?.().catch(() => {});
      await tenantOutbound.close();
      await adminOutbound.close();
      await store.close();
      log.info("stopped");
    })();

  return { url, port: Number(new URL(url).port), store, stop, finished: listener.finished };
}

/** The one-line error for a listen that failed for a reason the operator can fix, or null. */
function listenError(e: unknown, cfg: NodeConfig): ConfigError | null {
  if (e instanceof Deno.errors.AddrInUse) {
    return new ConfigError(
      `PORT=${cfg.port} is already in use on ${cfg.host}: stop the other process or set another PORT`,
    );
  }
  if (e instanceof Deno.errors.AddrNotAvailable) {
    return new ConfigError(`HOST=${cfg.host} is not an address of this machine`);
  }
  if (e instanceof Deno.errors.PermissionDenied) {
    return new ConfigError(
      `PORT=${cfg.port} on ${cfg.host} is not allowed: ${(e as Error).message}`,
    );
  }
  return null;
}

function probeListen(cfg: NodeConfig) {
  if (cfg.port === 0) return;
  try {
    Deno.listen({ hostname: cfg.host, port: cfg.port }).close();
  } catch (e) {
    throw listenError(e, cfg) ?? e;
  }
}
