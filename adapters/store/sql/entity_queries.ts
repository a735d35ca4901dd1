/**
 * Users, destinations, routes, triggers and trigger state through drizzle, written once for both dialects: the SQLite
 * store (sqlite-proxy over any SqlClient) and the PostgreSQL store (postgres-js) pass their
 * own drizzle database and tables, which have the same columns and the same query builder.
 */
import { and, asc, count, eq, inArray, lte, type SQL, sql } from "drizzle-orm";
import type { Destination } from "../../../core/model/destination.ts";
import type { Page, PageQuery } from "../../../core/model/page.ts";
import type { Route } from "../../../core/model/route.ts";
import type { Trigger, TriggerState, TriggerStatePatch } from "../../../core/model/trigger.ts";
import type { Role, Scope, User } from "../../../core/model/user.ts";

// drizzle's SQLite and PostgreSQL databases and tables do not share a TypeScript type, though
// they share this query surface; the shared code sees them loosely and types what it returns.
// deno-lint-ignore no-explicit-any
type AnyDb = any;
// deno-lint-ignore no-explicit-any
type Table = any;
// deno-lint-ignore no-explicit-any
type Column = any;
// deno-lint-ignore no-explicit-any
type Row = any;

export interface EntityTables {
  users: Table;
  destinations: Table;
  routes: Table;
  triggers: Table;
  triggerState: Table;
}

/** The owner condition of a scope: admins see every tenant. */
function owned(col: Column, scope: Scope | null): SQL | undefined {
  return scope && scope.role !== "admin" ? eq(col, scope.userId) : undefined;
}

export function entityQueries(db: AnyDb, t: EntityTables) {
  async function paged<T>(
    table: Table,
    where: SQL | undefined,
    page: PageQuery,
    map: (r: never) => T,
  ): Promise<Page<T>> {
    const rows = await db.select().from(table).where(where).orderBy(
      asc(table.createdAt),
      asc(table.id),
    )
      .limit(page.limit).offset(page.offset);
    const [{ n }] = await db.select({ n: count() }).from(table).where(where);
    return {
      items: rows.map((r: Row) => map(r as never)),
      total: n,
      limit: page.limit,
      offset: page.offset,
    };
  }
  const toDest = (r: Row): Destination => ({
    ...r,
    type: r.type as Destination["type"],
    retry: r.retry ?? undefined,
  });
  const toTrigger = (r: Row): Trigger => ({ ...r, description: r.description ?? null });
  const toState = (r: Row): TriggerState => ({
    ...r,
    fence: Number(r.fence),
    eventsEmitted: Number(r.eventsEmitted),
  });
  const toRoute = (r: Row): Route => ({
    ...r,
    method: r.method as Route["method"],
    spec: r.spec as Route["spec"],
  });

  return {
    async createUser(u: User) {
      await db.insert(t.users).values(u);
    },
    async getUser(id: string): Promise<User | null> {
      return (await db.select().from(t.users).where(eq(t.users.id, id)))[0] ?? null;
    },
    async getUserByName(username: string): Promise<User | null> {
      return (await db.select().from(t.users).where(eq(t.users.username, username)))[0] ?? null;
    },
    async listUsers(page: PageQuery): Promise<Page<User>> {
      const items = await db.select().from(t.users).orderBy(asc(t.users.createdAt))
        .limit(page.limit).offset(page.offset);
      const [{ n }] = await db.select({ n: count() }).from(t.users);
      return { items, total: n, limit: page.limit, offset: page.offset };
    },
    async updateUser(
      id: string,
      patch: Partial<Pick<User, "passwordHash" | "mustChangePassword" | "role">>,
    ) {
      await db.update(t.users).set({ ...patch, updatedAt: Date.now() }).where(eq(t.users.id, id));
    },
    async deleteUser(id: string): Promise<boolean> {
      const r = await db.delete(t.users).where(eq(t.users.id, id)).returning({ id: t.users.id });
      return r.length > 0;
    },
    async countUsers(role?: Role): Promise<number> {
      const [{ n }] = await db.select({ n: count() }).from(t.users)
        .where(role ? eq(t.users.role, role) : undefined);
      return n;
    },

    async createDestination(d: Destination) {
      await db.insert(t.destinations).values({ ...d, retry: d.retry ?? null });
    },
    async getDestination(scope: Scope | null, id: string): Promise<Destination | null> {
      const r = await db.select().from(t.destinations)
        .where(and(eq(t.destinations.id, id), owned(t.destinations.owner, scope)));
      return r[0] ? toDest(r[0]) : null;
    },
    listDestinations(scope: Scope, page: PageQuery): Promise<Page<Destination>> {
      return paged(t.destinations, owned(t.destinations.owner, scope), page, toDest);
    },
    async updateDestination(scope: Scope, d: Destination): Promise<boolean> {
      const r = await db.update(t.destinations).set({
        name: d.name,
        type: d.type,
        config: d.config,
        retry: d.retry ?? null,
        active: d.active,
        updatedAt: d.updatedAt,
      }).where(and(eq(t.destinations.id, d.id), owned(t.destinations.owner, scope)))
        .returning({ id: t.destinations.id });
      return r.length > 0;
    },
    async deleteDestination(scope: Scope, id: string): Promise<boolean> {
      const r = await db.delete(t.destinations)
        .where(and(eq(t.destinations.id, id), owned(t.destinations.owner, scope)))
        .returning({ id: t.destinations.id });
      return r.length > 0;
    },
    async allDestinations(): Promise<Destination[]> {
      return (await db.select().from(t.destinations)).map(toDest);
    },

    async createRoute(r: Route) {
      await db.insert(t.routes).values(r);
    },
    async getRoute(scope: Scope | null, id: string): Promise<Route | null> {
      const r = await db.select().from(t.routes)
        .where(and(eq(t.routes.id, id), owned(t.routes.owner, scope)));
      return r[0] ? toRoute(r[0]) : null;
    },
    async getRouteByEndpoint(endpoint: string): Promise<Route | null> {
      const r = await db.select().from(t.routes).where(eq(t.routes.endpoint, endpoint));
      return r[0] ? toRoute(r[0]) : null;
    },
    listRoutes(scope: Scope, page: PageQuery): Promise<Page<Route>> {
      return paged(t.routes, owned(t.routes.owner, scope), page, toRoute);
    },
    async updateRoute(scope: Scope, r: Route): Promise<boolean> {
      const res = await db.update(t.routes).set({
        name: r.name,
        method: r.method,
        spec: r.spec,
        active: r.active,
        version: r.version,
        updatedAt: r.updatedAt,
      }).where(and(eq(t.routes.id, r.id), owned(t.routes.owner, scope)))
        .returning({ id: t.routes.id });
      return res.length > 0;
    },
    async deleteRoute(scope: Scope, id: string): Promise<boolean> {
      const r = await db.delete(t.routes)
        .where(and(eq(t.routes.id, id), owned(t.routes.owner, scope)))
        .returning({ id: t.routes.id });
      return r.length > 0;
    },
    async allRoutes(): Promise<Route[]> {
      return (await db.select().from(t.routes)).map(toRoute);
    },

    async createTrigger(tr: Trigger) {
      await db.insert(t.triggers).values({ ...tr, description: tr.description ?? null });
    },
    async getTrigger(scope: Scope | null, id: string): Promise<Trigger | null> {
      const r = await db.select().from(t.triggers)
        .where(and(eq(t.triggers.id, id), owned(t.triggers.owner, scope)));
      return r[0] ? toTrigger(r[0]) : null;
    },
    listTriggers(scope: Scope, page: PageQuery): Promise<Page<Trigger>> {
      return paged(t.triggers, owned(t.triggers.owner, scope), page, toTrigger);
    },
    async updateTrigger(scope: Scope, tr: Trigger): Promise<boolean> {
      const r = await db.update(t.triggers).set({
        name: tr.name,
        description: tr.description ?? null,
        type: tr.type,
        routeId: tr.routeId,
        config: tr.config,
        active: tr.active,
        updatedAt: tr.updatedAt,
      }).where(and(eq(t.triggers.id, tr.id), owned(t.triggers.owner, scope)))
        .returning({ id: t.triggers.id });
      return r.length > 0;
    },
    async deleteTrigger(scope: Scope, id: string): Promise<boolean> {
      const r = await db.delete(t.triggers)
        .where(and(eq(t.triggers.id, id), owned(t.triggers.owner, scope)))
        .returning({ id: t.triggers.id });
      return r.length > 0;
    },
    async allTriggers(): Promise<Trigger[]> {
      return (await db.select().from(t.triggers)).map(toTrigger);
    },

    async getTriggerState(id: string): Promise<TriggerState | null> {
      const r = await db.select().from(t.triggerState).where(eq(t.triggerState.triggerId, id));
      return r[0] ? toState(r[0]) : null;
    },
    async triggerStates(ids: string[]): Promise<Map<string, TriggerState>> {
      if (ids.length === 0) return new Map();
      const rows = await db.select().from(t.triggerState)
        .where(inArray(t.triggerState.triggerId, ids));
      return new Map(rows.map((r: Row) => [r.triggerId, toState(r)]));
    },
    async setTriggerCursor(id: string, cursor: string | null, fence: number, now: number) {
      // A writer holding an older lease (smaller fence) never overwrites a newer holder's cursor.
      const r = await db.insert(t.triggerState)
        .values({ ...emptyState(id, now), cursor, fence })
        .onConflictDoUpdate({
          target: t.triggerState.triggerId,
          set: { cursor, fence, updatedAt: now },
          setWhere: lte(t.triggerState.fence, fence),
        })
        .returning({ id: t.triggerState.triggerId });
      return r.length > 0;
    },
    async updateTriggerState(id: string, patch: TriggerStatePatch, now: number) {
      const { addEmitted, ...rest } = patch;
      const set: Record<string, unknown> = { ...rest, updatedAt: now };
      if (addEmitted) set.eventsEmitted = sql`${t.triggerState.eventsEmitted} + ${addEmitted}`;
      await db.insert(t.triggerState)
        .values({ ...emptyState(id, now), ...rest, eventsEmitted: addEmitted ?? 0 })
        .onConflictDoUpdate({ target: t.triggerState.triggerId, set });
    },
    async deleteTriggerState(id: string) {
      await db.delete(t.triggerState).where(eq(t.triggerState.triggerId, id));
    },
  };
}

function emptyState(id: string, now: number) {
  return {
    triggerId: id,
    cursor: null,
    fence: 0,
    status: {},
    secrets: {},
    lastRunAt: null,
    nextRunAt: null,
    lastError: null,
    eventsEmitted: 0,
    updatedAt: now,
  };
}
