/**
 * Runs one Source against a real (in-memory SQLite) store without the full node: emit goes
 * through store.accept with the trigger's dedup scoping (core/sources/envelope.ts), the
 * cursor lives in `state` so a test can "restart" a source and keep its position. Source
 * adapters test themselves with this; the trigger runtime's own tests use the real node.
 */
import { openOutbound } from "../../runtimes/deno/outbound.ts";
import type {
  EmitResult,
  Outbound,
  SourceContext,
  SourceEvent,
  SourceFactory,
  SourceStatus,
} from "../../core/ports.ts";
import type { Store, StoredEvent } from "../../core/store.ts";
import { sourceEnvelope } from "../../core/sources/envelope.ts";
import { openStore } from "../../adapters/store/sqlite/store.ts";
import { newEndpointToken, newId } from "../../core/model/ids.ts";
import type { Route } from "../../core/model/route.ts";
import type { Scope } from "../../core/model/user.ts";
import { createLogger } from "../../runtimes/deno/logger.ts";

export interface SourceHarness {
  store: Store;
  tenant: string;
  routeId: string;
  /** Cursor values by trigger id; survives `context()` calls (a restart keeps it). */
  cursors: Map<string, string>;
  statuses: Map<string, SourceStatus>;
  /** Values sources keep through `ctx.secrets`, by trigger id then name (clear, in memory). */
  secrets: Map<string, Map<string, string>>;
  /** A context for trigger `id` of `type`; `outbound` defaults to plain fetch, no guard. */
  context(
    id: string,
    type: string,
    opts?: { outbound?: Outbound; beforeCommit?: (events: SourceEvent[]) => void },
  ): SourceContext;
  create<C>(factory: SourceFactory<C>, config: unknown, id?: string): {
    source: ReturnType<SourceFactory<C>["create"]>;
    ctx: SourceContext;
  };
  /** Events stored for the harness route, oldest first. */
  events(): Promise<StoredEvent[]>;
  close(): Promise<void>;
}

export async function sourceHarness(): Promise<SourceHarness> {
  const store = openStore({ path: ":memory:" });
  await store.migrate();
  const now = Date.now();
  const tenant = newId("user");
  await store.createUser({
    id: tenant,
    username: `t_${tenant.slice(-8)}`,
    passwordHash: "x",
    role: "user",
    mustChangePassword: false,
    createdAt: now,
    updatedAt: now,
  });
  const routeId = newId("route");
  await store.createRoute({
    id: routeId,
    owner: tenant,
    name: "source-harness",
    endpoint: `/webhook/${newEndpointToken()}`,
    method: "POST",
    spec: { destinations: [] } as unknown as Route["spec"],
    active: true,
    version: 1,
    createdAt: now,
    updatedAt: now,
  });
  const cursors = new Map<string, string>();
  const statuses = new Map<string, SourceStatus>();
  const secrets = new Map<string, Map<string, string>>();
  const log = createLogger("warn");

  const context: SourceHarness["context"] = (id, type, opts = {}) => {
    const trigger = { id, tenant, routeId, type, name: id };
    return {
      trigger,
      async emit(events: SourceEvent[]): Promise<EmitResult> {
        opts.beforeCommit?.(events);
        // One millisecond apart, so events() lists a batch in the order it was emitted.
        const now = Date.now();
        const envs = events.map((e, i) => sourceEnvelope(trigger, e, now + i));
        const { duplicates } = await store.accept(envs);
        const ids = envs.map((e) => duplicates.get(e.id) ?? e.id);
        return { ids, accepted: envs.length - duplicates.size, duplicates: duplicates.size };
      },
      cursor: {
        get: () => Promise.resolve(cursors.get(id) ?? null),
        set: (v) => {
          cursors.set(id, v);
          return Promise.resolve();
        },
      },
      secrets: {
        get: (name) => Promise.resolve(secrets.get(id)?.get(name) ?? null),
        set: (name, value) => {
          if (!secrets.has(id)) secrets.set(id, new Map());
          secrets.get(id)!.set(name, value);
          return Promise.resolve();
        },
      },
      report: (s) => statuses.set(id, { ...statuses.get(id), ...s }),
      outbound: opts.outbound ?? openOutbound(),
      log: log.child({ trigger: id }),
      clock: { now: () => Date.now() },
      nodeId: "harness-node",
    };
  };

  return {
    store,
    tenant,
    routeId,
    cursors,
    statuses,
    secrets,
    context,
    create(factory, config, id = newId("trigger")) {
      const ctx = context(id, factory.type);
      return { source: factory.create(factory.parseConfig(config), ctx), ctx };
    },
    async events() {
      const scope: Scope = { userId: tenant, role: "user" };
      const page = await store.listEvents(scope, { routeId }, { limit: 500, offset: 0 });
      return page.items.slice().sort((a, b) => a.receivedAt - b.receivedAt);
    },
    close: () => store.close(),
  };
}
