/** Event history, dead letters, stats, settings, aggregation state, leases and retention. */
import type { SqlClient, SqlValue } from "../sql/client.ts";
import type { Scope } from "../../../core/model/user.ts";
import type { PageQuery } from "../../../core/model/page.ts";
import type {
  Attempt,
  DeadFilter,
  DeliveryWithAttempts,
  EventFilter,
  QueueDepth,
  Stats,
  TimeBucket,
} from "../../../core/store.ts";
import { rowToDelivery, rowToStoredEvent } from "./event_path.ts";

/** `AND tenant = ?` unless the scope is an admin's. */
function tenantClause(scope: Scope, col = "tenant"): [string, SqlValue[]] {
  return scope.role === "admin" ? ["", []] : [` AND ${col} = ?`, [scope.userId]];
}

function deadWhere(scope: Scope, f: DeadFilter): [string, SqlValue[]] {
  const [tc, tp] = tenantClause(scope);
  let sql = `status = 'dead'${tc}`;
  const p: SqlValue[] = [...tp];
  if (f.routeId) (sql += " AND route_id = ?"), p.push(f.routeId);
  if (f.destinationId) (sql += " AND destination_id = ?"), p.push(f.destinationId);
  if (f.error) (sql += " AND instr(last_error, ?) > 0"), p.push(f.error);
  if (f.errorIs !== undefined) (sql += " AND coalesce(last_error, '') = ?"), p.push(f.errorIs);
  if (f.ids?.length) {
    sql += ` AND id IN (${f.ids.map(() => "?").join(",")})`;
    p.push(...f.ids);
  }
  return [sql, p];
}

/** Joins per-bucket event and delivery counts into TimeBuckets ordered by start. */
export function mergeBuckets(
  since: number,
  bucketMs: number,
  ev: Array<{ b: unknown; n: unknown }>,
  dl: Array<{ b: unknown; delivered: unknown; dead: unknown }>,
): TimeBucket[] {
  const out = new Map<number, TimeBucket>();
  const at = (b: unknown) => {
    const i = Math.floor(Number(b));
    let t = out.get(i);
    if (!t) out.set(i, t = { start: since + i * bucketMs, received: 0, delivered: 0, dead: 0 });
    return t;
  };
  for (const r of ev) at(r.b).received += Number(r.n);
  for (const r of dl) {
    const t = at(r.b);
    t.delivered += Number(r.delivered ?? 0);
    t.dead += Number(r.dead ?? 0);
  }
  return [...out.values()].filter((t) => t.received || t.delivered || t.dead)
    .sort((a, b) => a.start - b.start);
}

export function historyQueries(db: SqlClient) {
  const count = async (sql: string, p: SqlValue[]) =>
    Number((await db.all<{ n: number }>(sql, p))[0]?.n ?? 0);

  return {
    async getEvent(scope: Scope, id: string) {
      const [tc, tp] = tenantClause(scope);
      const r = await db.all(`SELECT * FROM events WHERE id = ?${tc}`, [id, ...tp]);
      return r[0] ? rowToStoredEvent(r[0]) : null;
    },
    async listEvents(scope: Scope, f: EventFilter, page: PageQuery) {
      const [tc, tp] = tenantClause(scope);
      let where = `1 = 1${tc}`;
      const p: SqlValue[] = [...tp];
      if (f.routeId) (where += " AND route_id = ?"), p.push(f.routeId);
      if (f.status) (where += " AND status = ?"), p.push(f.status);
      if (f.since) (where += " AND received_at >= ?"), p.push(f.since);
      if (f.until) (where += " AND received_at < ?"), p.push(f.until);
      const rows = await db.all(
        `SELECT * FROM events WHERE ${where} ORDER BY received_at DESC, id DESC LIMIT ? OFFSET ?`,
        [...p, page.limit, page.offset],
      );
      return {
        items: rows.map(rowToStoredEvent),
        total: await count(`SELECT count(*) AS n FROM events WHERE ${where}`, p),
        limit: page.limit,
        offset: page.offset,
      };
    },
    async eventDeliveries(eventId: string): Promise<DeliveryWithAttempts[]> {
      const ds = (await db.all(`SELECT * FROM deliveries WHERE event_id = ? ORDER BY created_at`, [
        eventId,
      ])).map(rowToDelivery);
      const atts = await db.all<Record<string, unknown>>(
        `SELECT a.* FROM attempts a JOIN deliveries d ON d.id = a.delivery_id
         WHERE d.event_id = ? ORDER BY a.n`,
        [eventId],
      );
      return ds.map((d) => ({
        ...d,
        attemptLog: atts.filter((a) => a.delivery_id === d.id).map((a): Attempt => ({
          deliveryId: d.id,
          n: Number(a.n),
          at: Number(a.at),
          outcome: a.outcome as Attempt["outcome"],
          error: (a.error as string | null) ?? null,
          durationMs: a.duration_ms == null ? null : Number(a.duration_ms),
        })),
      }));
    },
    async replayEvent(scope: Scope, id: string, now: number) {
      const [tc, tp] = tenantClause(scope);
      const n = await db.run(
        `UPDATE events SET status = 'accepted', due_at = ?, error = NULL, lease_owner = NULL,
         lease_until = NULL, attempts = 0 WHERE id = ?${tc}`,
        [now, id, ...tp],
      );
      return n > 0;
    },

    async listDead(scope: Scope, f: DeadFilter, page: PageQuery) {
      const [where, p] = deadWhere(scope, f);
      const rows = await db.all(
        `SELECT * FROM deliveries WHERE ${where} ORDER BY updated_at DESC, id LIMIT ? OFFSET ?`,
        [...p, page.limit, page.offset],
      );
      return {
        items: rows.map(rowToDelivery),
        total: await count(`SELECT count(*) AS n FROM deliveries WHERE ${where}`, p),
        limit: page.limit,
        offset: page.offset,
      };
    },
    async deadStats(scope: Scope) {
      const [where, p] = deadWhere(scope, {});
      const byDest = await db.all<{ destination_id: string; count: number }>(
        `SELECT destination_id, count(*) AS count FROM deliveries WHERE ${where}
         GROUP BY destination_id ORDER BY count DESC`,
        p,
      );
      const byErr = await db.all<{ error: string; count: number }>(
        `SELECT coalesce(last_error, '') AS error, count(*) AS count FROM deliveries
         WHERE ${where} GROUP BY last_error ORDER BY count DESC LIMIT 100`,
        p,
      );
      return {
        total: byDest.reduce((a, r) => a + Number(r.count), 0),
        by_destination: byDest.map((r) => ({ ...r, count: Number(r.count) })),
        by_error: byErr.map((r) => ({ ...r, count: Number(r.count) })),
      };
    },
    async retryDead(scope: Scope, f: DeadFilter, now: number) {
      const [where, p] = deadWhere(scope, f);
      return await db.run(
        `UPDATE deliveries SET status = 'pending', next_at = ?, attempts = 0, updated_at = ?,
         lease_owner = NULL, lease_until = NULL WHERE ${where}`,
        [now, now, ...p],
      );
    },
    async discardDead(scope: Scope, f: DeadFilter, now: number) {
      const [where, p] = deadWhere(scope, f);
      return await db.run(
        `UPDATE deliveries SET status = 'discarded', updated_at = ? WHERE ${where}`,
        [now, ...p],
      );
    },

    async stats(scope: Scope, now: number): Promise<Stats> {
      const [tc, tp] = tenantClause(scope);
      const hour = now - 3600_000, day = now - 86400_000;
      const ev = (await db.all<Record<string, number>>(
        `SELECT count(*) AS received,
           sum(CASE WHEN received_at >= ? THEN 1 ELSE 0 END) AS received_1h,
           sum(CASE WHEN received_at >= ? THEN 1 ELSE 0 END) AS received_24h
         FROM events WHERE 1 = 1${tc}`,
        [hour, day, ...tp],
      ))[0];
      const dl = (await db.all<Record<string, number>>(
        `SELECT
           sum(CASE WHEN status = 'delivered' THEN 1 ELSE 0 END) AS delivered,
           sum(CASE WHEN status = 'pending' AND attempts > 0 THEN 1 ELSE 0 END) AS retrying,
           sum(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS pending,
           sum(CASE WHEN status = 'dead' THEN 1 ELSE 0 END) AS dead,
           sum(CASE WHEN status = 'delivered' AND updated_at >= ? THEN 1 ELSE 0 END) AS d1h,
           sum(CASE WHEN status = 'dead' AND updated_at >= ? THEN 1 ELSE 0 END) AS x1h,
           sum(CASE WHEN status = 'delivered' AND updated_at >= ? THEN 1 ELSE 0 END) AS d24h,
           sum(CASE WHEN status = 'dead' AND updated_at >= ? THEN 1 ELSE 0 END) AS x24h
         FROM deliveries WHERE 1 = 1${tc}`,
        [hour, hour, day, day, ...tp],
      ))[0];
      const perRoute = await db.all<{ route_id: string | null; received: number }>(
        `SELECT route_id, count(*) AS received FROM events WHERE 1 = 1${tc}
         GROUP BY route_id ORDER BY received DESC LIMIT 200`,
        tp,
      );
      // The last error is the newest one a delivery still carries: a delivered one clears it.
      const perDest = await db.all<Record<string, unknown>>(
        `SELECT destination_id,
           sum(CASE WHEN status = 'delivered' THEN 1 ELSE 0 END) AS delivered,
           sum(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS pending,
           sum(CASE WHEN status = 'pending' AND attempts > 0 THEN 1 ELSE 0 END) AS retrying,
           sum(CASE WHEN status = 'dead' THEN 1 ELSE 0 END) AS dead,
           max(CASE WHEN status = 'delivered' THEN updated_at END) AS last_delivered_at,
           max(CASE WHEN last_error IS NOT NULL THEN updated_at END) AS last_error_at
         FROM deliveries WHERE 1 = 1${tc} GROUP BY destination_id LIMIT 200`,
        tp,
      );
      const lastErrors = new Map<string, string>();
      for (const r of perDest) {
        if (r.last_error_at == null) continue;
        const e = await db.all<{ last_error: string }>(
          `SELECT last_error FROM deliveries WHERE destination_id = ? AND updated_at = ?
           AND last_error IS NOT NULL${tc} LIMIT 1`,
          [r.destination_id as string, r.last_error_at as number, ...tp],
        );
        if (e[0]) lastErrors.set(r.destination_id as string, e[0].last_error);
      }
      const n = (v: unknown) => Number(v ?? 0);
      return {
        received: n(ev?.received),
        delivered: n(dl?.delivered),
        retrying: n(dl?.retrying),
        pending: n(dl?.pending),
        dead: n(dl?.dead),
        last_hour: { received: n(ev?.received_1h), delivered: n(dl?.d1h), dead: n(dl?.x1h) },
        last_24h: { received: n(ev?.received_24h), delivered: n(dl?.d24h), dead: n(dl?.x24h) },
        per_route: perRoute.map((r) => ({ route_id: r.route_id, received: n(r.received) })),
        per_destination: perDest.map((r) => ({
          destination_id: r.destination_id as string,
          delivered: n(r.delivered),
          pending: n(r.pending),
          retrying: n(r.retrying),
          dead: n(r.dead),
          last_delivered_at: r.last_delivered_at == null ? null : n(r.last_delivered_at),
          last_error: lastErrors.get(r.destination_id as string) ?? null,
          last_error_at: r.last_error_at == null ? null : n(r.last_error_at),
        })),
      };
    },
    async queueDepth(now: number): Promise<QueueDepth> {
      const [d] = await db.all<Record<string, number | null>>(
        `SELECT count(*) AS pending, sum(CASE WHEN next_at <= ? THEN 1 ELSE 0 END) AS due,
           min(next_at) AS oldest FROM deliveries WHERE status = 'pending'`,
        [now],
      );
      const [e] = await db.all<Record<string, number | null>>(
        `SELECT count(*) AS n, min(received_at) AS oldest FROM events WHERE status = 'accepted'`,
      );
      const oldest = d?.oldest == null ? null : Number(d.oldest);
      return {
        pendingDeliveries: Number(d?.pending ?? 0),
        dueDeliveries: Number(d?.due ?? 0),
        oldestDueAt: oldest !== null && oldest <= now ? oldest : null,
        unprocessedEvents: Number(e?.n ?? 0),
        oldestUnprocessedAt: e?.oldest == null ? null : Number(e.oldest),
      };
    },
    async timeseries(scope: Scope, since: number, until: number, bucketMs: number) {
      const [tc, tp] = tenantClause(scope);
      const ev = await db.all<{ b: number; n: number }>(
        `SELECT (received_at - ?) / ? AS b, count(*) AS n FROM events
         WHERE received_at >= ? AND received_at < ?${tc} GROUP BY b`,
        [since, bucketMs, since, until, ...tp],
      );
      const dl = await db.all<{ b: number; delivered: number; dead: number }>(
        `SELECT (updated_at - ?) / ? AS b,
           sum(CASE WHEN status = 'delivered' THEN 1 ELSE 0 END) AS delivered,
           sum(CASE WHEN status = 'dead' THEN 1 ELSE 0 END) AS dead
         FROM deliveries WHERE status IN ('delivered', 'dead')
           AND updated_at >= ? AND updated_at < ?${tc} GROUP BY b`,
        [since, bucketMs, since, until, ...tp],
      );
      return mergeBuckets(since, bucketMs, ev, dl);
    },

    async getSettings() {
      const rows = await db.all<{ key: string; value: string }>(`SELECT key, value FROM settings`);
      return Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value)]));
    },
    async setSettings(patch: Record<string, unknown>) {
      await db.batch(
        Object.entries(patch).map(([k, v]) => ({
          sql: v === null
            ? `DELETE FROM settings WHERE key = ?`
            : `INSERT INTO settings (key, value) VALUES (?, ?)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
          params: v === null ? [k] : [k, JSON.stringify(v)],
        })),
      );
      return this.getSettings();
    },
    async stateGet(key: string, now: number) {
      const r = await db.all<{ value: string }>(
        `SELECT value FROM state WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)`,
        [key, now],
      );
      return r[0]?.value ?? null;
    },
    async stateSet(key: string, value: string, expiresAt: number | null) {
      await db.run(
        `INSERT INTO state (key, value, expires_at) VALUES (?, ?, ?)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
        [key, value, expiresAt],
      );
    },
    async stateDelete(key: string) {
      await db.run(`DELETE FROM state WHERE key = ?`, [key]);
    },
    async stateKeys(prefix: string, now: number) {
      const r = await db.all<{ key: string }>(
        `SELECT key FROM state WHERE substr(key, 1, ?) = ? AND (expires_at IS NULL OR expires_at > ?)
         ORDER BY key`,
        [prefix.length, prefix, now],
      );
      return r.map((x) => x.key);
    },
    async tryLease(name: string, owner: string, ttlMs: number, now: number) {
      const r = await db.all(
        `INSERT INTO leases (name, owner, until, fence) VALUES (?, ?, ?, 1)
         ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, until = excluded.until,
           fence = CASE WHEN leases.owner = excluded.owner THEN leases.fence ELSE leases.fence + 1 END
         WHERE leases.until < ? OR leases.owner = excluded.owner RETURNING name`,
        [name, owner, now + ttlMs, now],
      );
      return r.length > 0;
    },
    async releaseLease(name: string, owner: string, fence?: number) {
      // The row stays (expired) so the fence keeps growing across holders.
      await db.run(
        `UPDATE leases SET until = 0 WHERE name = ? AND owner = ?${
          fence == null ? "" : " AND fence = ?"
        }`,
        fence == null ? [name, owner] : [name, owner, fence],
      );
    },
    async acquireLease(name: string, owner: string, ttlMs: number, now: number) {
      const r = await db.all<{ fence: number }>(
        `INSERT INTO leases (name, owner, until, fence) VALUES (?, ?, ?, 1)
         ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, until = excluded.until,
           fence = leases.fence + 1
         WHERE leases.until <= ? RETURNING fence`,
        [name, owner, now + ttlMs, now],
      );
      return r.length ? Number(r[0].fence) : null;
    },
    async renewLease(name: string, owner: string, fence: number, ttlMs: number, now: number) {
      const n = await db.run(
        `UPDATE leases SET until = ? WHERE name = ? AND owner = ? AND fence = ?`,
        [now + ttlMs, name, owner, fence],
      );
      return n > 0;
    },
    async purgeDelivered(olderThan: number) {
      // An event goes once every delivery of it is delivered or discarded and it is old enough;
      // dead letters keep their event until someone handles them.
      const ids = await db.all<{ id: string }>(
        `SELECT e.id FROM events e WHERE e.status IN ('processed','dropped','failed')
           AND e.received_at < ? AND NOT EXISTS (SELECT 1 FROM deliveries d
             WHERE d.event_id = e.id AND d.status NOT IN ('delivered','discarded'))
         LIMIT 5000`,
        [olderThan],
      );
      if (ids.length === 0) return 0;
      const list = ids.map((r) => r.id);
      const ph = list.map(() => "?").join(",");
      await db.batch([
        {
          sql: `DELETE FROM attempts WHERE delivery_id IN
                (SELECT id FROM deliveries WHERE event_id IN (${ph}))`,
          params: list,
        },
        { sql: `DELETE FROM deliveries WHERE event_id IN (${ph})`, params: list },
        { sql: `DELETE FROM events WHERE id IN (${ph})`, params: list },
      ]);
      await db.run(`DELETE FROM revoked_tokens WHERE expires_at < ?`, [Date.now()]);
      return list.length;
    },
  };
}
