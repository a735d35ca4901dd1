/** Event history, dead letters, stats, settings, aggregation state, leases and retention. */
import type { Fragment, Sql } from "postgres";
import type { Scope } from "../../../core/model/user.ts";
import type { PageQuery } from "../../../core/model/page.ts";
import type {
  Attempt,
  DeadFilter,
  DeliveryWithAttempts,
  EventFilter,
  QueueDepth,
  Stats,
} from "../../../core/store.ts";
import { rowToDelivery, rowToStoredEvent } from "../sqlite/event_path.ts";
import { mergeBuckets } from "../sqlite/queries.ts";
import { ms } from "./event_path.ts";

const n = (v: unknown) => Number(v ?? 0);

export function historyQueries(sql: Sql) {
  /** `AND tenant = $1` unless the scope is an admin's. */
  const tenantClause = (scope: Scope): Fragment =>
    scope.role === "admin" ? sql`` : sql`AND tenant = ${scope.userId}`;

  const deadWhere = (scope: Scope, f: DeadFilter): Fragment =>
    sql`status = 'dead' ${tenantClause(scope)}
      ${f.routeId ? sql`AND route_id = ${f.routeId}` : sql``}
      ${f.destinationId ? sql`AND destination_id = ${f.destinationId}` : sql``}
      ${f.error ? sql`AND strpos(last_error, ${f.error}) > 0` : sql``}
      ${f.errorIs !== undefined ? sql`AND coalesce(last_error, '') = ${f.errorIs}` : sql``}
      ${f.ids?.length ? sql`AND id = ANY(${sql.array(f.ids)}::text[])` : sql``}`;

  const getSettings = async () => {
    const rows = await sql<{ key: string; value: string }[]>`SELECT key, value FROM settings`;
    return Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value)]));
  };

  return {
    async getEvent(scope: Scope, id: string) {
      const r = await sql`SELECT * FROM events WHERE id = ${id} ${tenantClause(scope)}`;
      return r[0] ? rowToStoredEvent(r[0]) : null;
    },
    async listEvents(scope: Scope, f: EventFilter, page: PageQuery) {
      const where = sql`1 = 1 ${tenantClause(scope)}
        ${f.routeId ? sql`AND route_id = ${f.routeId}` : sql``}
        ${f.status ? sql`AND status = ${f.status}` : sql``}
        ${f.since ? sql`AND received_at >= ${ms(f.since)}` : sql``}
        ${f.until ? sql`AND received_at < ${ms(f.until)}` : sql``}`;
      const rows = await sql`SELECT * FROM events WHERE ${where}
        ORDER BY received_at DESC, id DESC LIMIT ${page.limit} OFFSET ${page.offset}`;
      const [{ count }] = await sql`SELECT count(*) AS count FROM events WHERE ${where}`;
      return {
        items: rows.map(rowToStoredEvent),
        total: n(count),
        limit: page.limit,
        offset: page.offset,
      };
    },
    async eventDeliveries(eventId: string): Promise<DeliveryWithAttempts[]> {
      const ds = (await sql`SELECT * FROM deliveries WHERE event_id = ${eventId}
        ORDER BY created_at`).map(rowToDelivery);
      const atts = await sql`SELECT a.* FROM attempts a JOIN deliveries d ON d.id = a.delivery_id
        WHERE d.event_id = ${eventId} ORDER BY a.n`;
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
      const r = await sql`UPDATE events SET status = 'accepted', due_at = ${ms(now)}, error = NULL,
        lease_owner = NULL, lease_until = NULL, attempts = 0 WHERE id = ${id} ${
        tenantClause(scope)
      }`;
      return r.count > 0;
    },

    async listDead(scope: Scope, f: DeadFilter, page: PageQuery) {
      const where = deadWhere(scope, f);
      const rows = await sql`SELECT * FROM deliveries WHERE ${where}
        ORDER BY updated_at DESC, id LIMIT ${page.limit} OFFSET ${page.offset}`;
      const [{ count }] = await sql`SELECT count(*) AS count FROM deliveries WHERE ${where}`;
      return {
        items: rows.map(rowToDelivery),
        total: n(count),
        limit: page.limit,
        offset: page.offset,
      };
    },
    async deadStats(scope: Scope) {
      const where = deadWhere(scope, {});
      const byDest = await sql<{ destination_id: string; count: number }[]>`
        SELECT destination_id, count(*) AS count FROM deliveries WHERE ${where}
        GROUP BY destination_id ORDER BY count DESC`;
      const byErr = await sql<{ error: string; count: number }[]>`
        SELECT coalesce(last_error, '') AS error, count(*) AS count FROM deliveries
        WHERE ${where} GROUP BY last_error ORDER BY count DESC LIMIT 100`;
      return {
        total: byDest.reduce((a, r) => a + n(r.count), 0),
        by_destination: byDest.map((r) => ({
          destination_id: r.destination_id,
          count: n(r.count),
        })),
        by_error: byErr.map((r) => ({ error: r.error, count: n(r.count) })),
      };
    },
    async retryDead(scope: Scope, f: DeadFilter, now: number) {
      const r = await sql`UPDATE deliveries SET status = 'pending', next_at = ${ms(now)},
        attempts = 0, updated_at = ${ms(now)}, lease_owner = NULL, lease_until = NULL
        WHERE ${deadWhere(scope, f)}`;
      return r.count;
    },
    async discardDead(scope: Scope, f: DeadFilter, now: number) {
      const r = await sql`UPDATE deliveries SET status = 'discarded', updated_at = ${ms(now)}
        WHERE ${deadWhere(scope, f)}`;
      return r.count;
    },

    async stats(scope: Scope, now: number): Promise<Stats> {
      const tc = tenantClause(scope);
      const hour = ms(now - 3600_000), day = ms(now - 86400_000);
      const [ev] = await sql`SELECT count(*) AS received,
          count(*) FILTER (WHERE received_at >= ${hour}) AS received_1h,
          count(*) FILTER (WHERE received_at >= ${day}) AS received_24h
        FROM events WHERE 1 = 1 ${tc}`;
      const [dl] = await sql`SELECT
          count(*) FILTER (WHERE status = 'delivered') AS delivered,
          count(*) FILTER (WHERE status = 'pending' AND attempts > 0) AS retrying,
          count(*) FILTER (WHERE status = 'pending') AS pending,
          count(*) FILTER (WHERE status = 'dead') AS dead,
          count(*) FILTER (WHERE status = 'delivered' AND updated_at >= ${hour}) AS d1h,
          count(*) FILTER (WHERE status = 'dead' AND updated_at >= ${hour}) AS x1h,
          count(*) FILTER (WHERE status = 'delivered' AND updated_at >= ${day}) AS d24h,
          count(*) FILTER (WHERE status = 'dead' AND updated_at >= ${day}) AS x24h
        FROM deliveries WHERE 1 = 1 ${tc}`;
      const perRoute = await sql<{ route_id: string | null; received: number }[]>`
        SELECT route_id, count(*) AS received FROM events WHERE 1 = 1 ${tc}
        GROUP BY route_id ORDER BY received DESC LIMIT 200`;
      // The last error is the newest one a delivery still carries: a delivered one clears it.
      const perDest = await sql`SELECT DISTINCT ON (destination_id) destination_id,
          count(*) FILTER (WHERE status = 'delivered') OVER w AS delivered,
          count(*) FILTER (WHERE status = 'pending') OVER w AS pending,
          count(*) FILTER (WHERE status = 'pending' AND attempts > 0) OVER w AS retrying,
          count(*) FILTER (WHERE status = 'dead') OVER w AS dead,
          max(updated_at) FILTER (WHERE status = 'delivered') OVER w AS last_delivered_at,
          CASE WHEN last_error IS NOT NULL THEN updated_at END AS last_error_at,
          last_error
        FROM deliveries WHERE 1 = 1 ${tc}
        WINDOW w AS (PARTITION BY destination_id)
        ORDER BY destination_id, (last_error IS NOT NULL) DESC, updated_at DESC LIMIT 200`;
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
          last_error: (r.last_error as string | null) ?? null,
          last_error_at: r.last_error_at == null ? null : n(r.last_error_at),
        })),
      };
    },
    async queueDepth(now: number): Promise<QueueDepth> {
      const [d] = await sql`SELECT count(*) AS pending,
          count(*) FILTER (WHERE next_at <= ${ms(now)}) AS due, min(next_at) AS oldest
        FROM deliveries WHERE status = 'pending'`;
      const [e] = await sql`SELECT count(*) AS n, min(received_at) AS oldest
        FROM events WHERE status = 'accepted'`;
      const oldest = d?.oldest == null ? null : n(d.oldest);
      return {
        pendingDeliveries: n(d?.pending),
        dueDeliveries: n(d?.due),
        oldestDueAt: oldest !== null && oldest <= now ? oldest : null,
        unprocessedEvents: n(e?.n),
        oldestUnprocessedAt: e?.oldest == null ? null : n(e.oldest),
      };
    },
    async timeseries(scope: Scope, since: number, until: number, bucketMs: number) {
      const tc = tenantClause(scope);
      const ev = await sql`SELECT (received_at - ${ms(since)}) / ${ms(bucketMs)} AS b,
          count(*) AS n FROM events
        WHERE received_at >= ${ms(since)} AND received_at < ${ms(until)} ${tc} GROUP BY b`;
      const dl = await sql`SELECT (updated_at - ${ms(since)}) / ${ms(bucketMs)} AS b,
          count(*) FILTER (WHERE status = 'delivered') AS delivered,
          count(*) FILTER (WHERE status = 'dead') AS dead
        FROM deliveries WHERE status IN ('delivered', 'dead')
          AND updated_at >= ${ms(since)} AND updated_at < ${ms(until)} ${tc} GROUP BY b`;
      return mergeBuckets(
        since,
        bucketMs,
        ev as unknown as Array<{ b: unknown; n: unknown }>,
        dl as unknown as Array<{ b: unknown; delivered: unknown; dead: unknown }>,
      );
    },

    getSettings,
    async setSettings(patch: Record<string, unknown>) {
      const entries = Object.entries(patch);
      if (entries.length) {
        await sql.begin((tx) =>
          Promise.all(
            entries.map(([k, v]) =>
              v === null
                ? tx`DELETE FROM settings WHERE key = ${k}`
                : tx`INSERT INTO settings (key, value) VALUES (${k}, ${JSON.stringify(v)})
                   ON CONFLICT (key) DO UPDATE SET value = excluded.value`
            ),
          )
        );
      }
      return getSettings();
    },
    async stateGet(key: string, now: number) {
      const r = await sql<{ value: string }[]>`SELECT value FROM state WHERE key = ${key}
        AND (expires_at IS NULL OR expires_at > ${ms(now)})`;
      return r[0]?.value ?? null;
    },
    async stateSet(key: string, value: string, expiresAt: number | null) {
      await sql`INSERT INTO state (key, value, expires_at)
        VALUES (${key}, ${value}, ${expiresAt == null ? null : ms(expiresAt)})
        ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`;
    },
    async stateDelete(key: string) {
      await sql`DELETE FROM state WHERE key = ${key}`;
    },
    async stateKeys(prefix: string, now: number) {
      // starts_with is literal (no LIKE wildcards); key collates "C", so the order is bytewise.
      const r = await sql<{ key: string }[]>`SELECT key FROM state
        WHERE starts_with(key, ${prefix}) AND (expires_at IS NULL OR expires_at > ${ms(now)})
        ORDER BY key`;
      return r.map((x) => x.key);
    },
    async tryLease(name: string, owner: string, ttlMs: number, now: number) {
      const r = await sql`INSERT INTO leases (name, owner, until, fence)
        VALUES (${name}, ${owner}, ${ms(now + ttlMs)}, 1)
        ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until,
          fence = CASE WHEN leases.owner = excluded.owner THEN leases.fence ELSE leases.fence + 1 END
        WHERE leases.until < ${ms(now)} OR leases.owner = excluded.owner RETURNING name`;
      return r.length > 0;
    },
    async releaseLease(name: string, owner: string, fence?: number) {
      // The row stays (expired) so the fence keeps growing across holders.
      if (fence == null) {
        await sql`UPDATE leases SET until = 0 WHERE name = ${name} AND owner = ${owner}`;
      } else {
        await sql`UPDATE leases SET until = 0
          WHERE name = ${name} AND owner = ${owner} AND fence = ${fence}`;
      }
    },
    async acquireLease(name: string, owner: string, ttlMs: number, now: number) {
      const r = await sql<{ fence: string }[]>`INSERT INTO leases (name, owner, until, fence)
        VALUES (${name}, ${owner}, ${ms(now + ttlMs)}, 1)
        ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until,
          fence = leases.fence + 1
        WHERE leases.until <= ${ms(now)} RETURNING fence`;
      return r.length ? Number(r[0].fence) : null;
    },
    async renewLease(name: string, owner: string, fence: number, ttlMs: number, now: number) {
      const r = await sql`UPDATE leases SET until = ${ms(now + ttlMs)}
        WHERE name = ${name} AND owner = ${owner} AND fence = ${fence} RETURNING name`;
      return r.length > 0;
    },
    async purgeDelivered(olderThan: number) {
      // An event goes once every delivery of it is delivered or discarded and it is old enough;
      // dead letters keep their event until someone handles them.
      const ids = await sql<{ id: string }[]>`SELECT e.id FROM events e
        WHERE e.status IN ('processed','dropped','failed') AND e.received_at < ${ms(olderThan)}
          AND NOT EXISTS (SELECT 1 FROM deliveries d
            WHERE d.event_id = e.id AND d.status NOT IN ('delivered','discarded'))
        LIMIT 5000`;
      if (ids.length === 0) return 0;
      const list = sql.array(ids.map((r) => r.id));
      await sql.begin(async (tx) => {
        await tx`DELETE FROM attempts WHERE delivery_id IN
          (SELECT id FROM deliveries WHERE event_id = ANY(${list}::text[]))`;
        await tx`DELETE FROM deliveries WHERE event_id = ANY(${list}::text[])`;
        await tx`DELETE FROM events WHERE id = ANY(${list}::text[])`;
      });
      await sql`DELETE FROM revoked_tokens WHERE expires_at < ${Date.now()}`;
      return ids.length;
    },
  };
}
