/**
 * The hot path on PostgreSQL in plain SQL: accept (group commit: multi-row inserts in one
 * transaction), claim and complete events, claim and settle deliveries. Claims lock their rows
 * with `FOR UPDATE SKIP LOCKED`, so nodes sharing the database never claim the same row and
 * never wait on each other's claims. Rows read back through the SQLite store's row mappers, so
 * both stores return the same shapes.
 */
import type { Sql, TransactionSql } from "postgres";
import type { Envelope, NewDelivery, Settlement } from "../../../core/ports.ts";
import type { AcceptOptions, AcceptResult, EventOutcome } from "../../../core/store.ts";
import { rowToDelivery, rowToEnvelope } from "../sqlite/event_path.ts";

/** Rows per multi-row INSERT: 17 columns stay far below the 65535 parameters of a statement. */
const CHUNK = 1000;

/** Milliseconds go into bigint columns: a fractional one (computed) is rounded, not refused. */
export const ms = (x: number) => Math.round(x);

type Tx = TransactionSql | Sql;
type Values = Record<string, string | number | null | Uint8Array>;

const EVENT_COLUMNS = [
  "id",
  "tenant",
  "route_id",
  "source",
  "received_at",
  "method",
  "path",
  "query",
  "ip",
  "headers",
  "body",
  "dedup_key",
  "status",
  "error",
  "processed_at",
  "due_at",
] as const;

const DELIVERY_COLUMNS = [
  "id",
  "event_id",
  "tenant",
  "route_id",
  "destination_id",
  "fallback_destination_id",
  "status",
  "attempts",
  "next_at",
  "body",
  "headers",
  "key",
  "created_at",
  "updated_at",
  "lease_owner",
  "lease_until",
] as const;

export function deliveryRow(
  d: NewDelivery,
  now: number,
  lease?: { owner: string; until: number },
): Values {
  return {
    id: d.id,
    event_id: d.eventId,
    tenant: d.tenant,
    route_id: d.routeId,
    destination_id: d.destinationId,
    fallback_destination_id: d.fallbackDestinationId ?? null,
    status: "pending",
    attempts: lease ? 1 : 0,
    next_at: ms(d.nextAt),
    body: d.body,
    headers: JSON.stringify(d.headers),
    key: d.key ?? null,
    created_at: ms(now),
    updated_at: ms(now),
    lease_owner: lease?.owner ?? null,
    lease_until: lease ? ms(lease.until) : null,
  };
}

function chunks<T>(xs: T[], n = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** Inserts deliveries (multi-row); an id that exists already is left alone. */
export async function insertDeliveryRows(tx: Tx, rows: Values[]) {
  for (const part of chunks(rows)) {
    await tx`INSERT INTO deliveries ${tx(part as never, DELIVERY_COLUMNS)} ON CONFLICT DO NOTHING`;
  }
}

export function eventPath(sql: Sql) {
  return {
    async accept(events: Envelope[], opts?: AcceptOptions): Promise<AcceptResult> {
      const lease = opts?.lease;
      const leased = new Set(lease?.deliveryIds ?? []);
      const duplicates = new Map<string, string>();
      if (events.length === 0) return { duplicates };
      const now = Date.now();
      await sql.begin(async (tx) => {
        // ON CONFLICT DO NOTHING skips a row whose (route_id, dedup_key) or id is taken, also
        // by an earlier row of the same statement: the first one in the batch wins.
        const returned = new Set<string>();
        for (const part of chunks(events)) {
          const rows: Values[] = part.map((e) => ({
            id: e.id,
            tenant: e.tenant,
            route_id: e.routeId,
            source: e.source,
            received_at: ms(e.receivedAt),
            method: e.method,
            path: e.path,
            query: e.query,
            ip: e.ip,
            headers: JSON.stringify(e.headers),
            body: e.body,
            dedup_key: e.dedupKey ?? null,
            status: e.planned?.status ?? "accepted",
            error: e.planned?.error ?? null,
            processed_at: e.planned ? now : null,
            due_at: ms(e.receivedAt),
          }));
          const res = await tx<{ id: string }[]>`INSERT INTO events
            ${tx(rows as never, EVENT_COLUMNS)} ON CONFLICT DO NOTHING RETURNING id`;
          for (const r of res) returned.add(r.id);
        }
        // An id given twice in one batch was inserted once: the later ones are duplicates.
        const inserted = new Set<Envelope>();
        const seen = new Set<string>();
        for (const e of events) {
          if (returned.has(e.id) && !seen.has(e.id)) inserted.add(e);
          seen.add(e.id);
        }
        // Planned deliveries go in only with their event: a duplicate brings none.
        const planned = events.filter((e) => inserted.has(e)).flatMap((e) =>
          (e.planned?.deliveries ?? []).map((d) =>
            deliveryRow(d, now, leased.has(d.id) ? lease : undefined)
          )
        );
        await insertDeliveryRows(tx, planned);
        for (const e of events) {
          if (inserted.has(e)) continue;
          const orig = await tx<{ id: string }[]>`SELECT id FROM events
            WHERE route_id IS NOT DISTINCT FROM ${e.routeId} AND dedup_key = ${e.dedupKey ?? null}`;
          duplicates.set(e.id, orig[0]?.id ?? e.id);
        }
      });
      return { duplicates };
    },

    async claimEvents(now: number, limit: number, owner: string, leaseMs: number) {
      const rows = await sql`
        WITH picked AS MATERIALIZED (
          SELECT id FROM events WHERE status = 'accepted' AND due_at <= ${ms(now)}
            AND (lease_until IS NULL OR lease_until < ${ms(now)})
          ORDER BY due_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
        UPDATE events SET lease_owner = ${owner}, lease_until = ${ms(now + leaseMs)}
        WHERE id IN (SELECT id FROM picked) RETURNING *`;
      return rows.map(rowToEnvelope).sort((a, b) => a.receivedAt - b.receivedAt);
    },

    async completeEvents(outcomes: EventOutcome[]) {
      if (outcomes.length === 0) return;
      const now = Date.now();
      await sql.begin(async (tx) => {
        await insertDeliveryRows(
          tx,
          outcomes.flatMap((o) => o.deliveries.map((d) => deliveryRow(d, now))),
        );
        // One UPDATE per outcome, pipelined on the transaction's connection.
        await Promise.all(
          outcomes.map((o) =>
            o.retryAt !== undefined
              ? tx`UPDATE events SET due_at = ${ms(o.retryAt)}, error = ${o.error ?? null},
                 lease_owner = NULL, lease_until = NULL, attempts = attempts + 1 WHERE id = ${o.id}`
              : tx`UPDATE events SET status = ${o.status}, error = ${o.error ?? null},
                 processed_at = ${now}, lease_owner = NULL, lease_until = NULL,
                 attempts = attempts + 1 WHERE id = ${o.id}`
          ),
        );
      });
    },

    async insertDeliveries(ds: NewDelivery[]) {
      if (ds.length === 0) return;
      const now = Date.now();
      await insertDeliveryRows(sql, ds.map((d) => deliveryRow(d, now)));
    },

    async claimDue(now: number, limit: number, owner: string, leaseMs: number, exclude?: string[]) {
      const due = sql`status = 'pending' AND next_at <= ${ms(now)}
        AND (lease_until IS NULL OR lease_until < ${ms(now)})`;
      // Without exclusions, the due index in order. With some (destinations whose circuit is
      // open), each other destination's oldest due deliveries (a loose index scan over the
      // pending destinations, then a probe each): the same rows, without scanning past the
      // excluded destinations' backlog on every claim (see the SQLite store). Candidates are
      // read without locks and only the rows taken are locked (and checked again): locking
      // each destination's candidates would hold up to `limit` rows per destination.
      const picked = exclude?.length
        ? sql`
          WITH RECURSIVE dest(id) AS (
            SELECT (SELECT min(destination_id) FROM deliveries WHERE status = 'pending')
            UNION ALL
            SELECT (SELECT min(destination_id) FROM deliveries
                    WHERE status = 'pending' AND destination_id > dest.id)
            FROM dest WHERE dest.id IS NOT NULL),
          candidate AS (
            SELECT p.id FROM dest CROSS JOIN LATERAL (
              SELECT id, next_at FROM deliveries WHERE ${due} AND destination_id = dest.id
              ORDER BY next_at LIMIT ${limit}) p
            WHERE dest.id IS NOT NULL AND dest.id <> ALL(${sql.array(exclude)}::text[])
            ORDER BY p.next_at LIMIT ${limit})
          SELECT id FROM deliveries WHERE id IN (SELECT id FROM candidate) AND ${due}
          FOR UPDATE SKIP LOCKED`
        : sql`SELECT id FROM deliveries WHERE ${due}
          ORDER BY next_at LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
      const rows = await sql`
        WITH picked AS MATERIALIZED (${picked})
        UPDATE deliveries SET lease_owner = ${owner}, lease_until = ${ms(now + leaseMs)},
          attempts = attempts + 1
        WHERE id IN (SELECT id FROM picked) RETURNING *`;
      return rows.map(rowToDelivery).sort((a, b) =>
        a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1)
      );
    },

    async settle(results: Settlement[], owner: string): Promise<string[]> {
      if (results.length === 0) return [];
      const applied = await sql.begin((tx) =>
        // One statement per settlement, pipelined in one transaction. Only the lease holder
        // settles: the UPDATE takes the row lock and re-checks lease_owner, so a node whose
        // lease ran out changes nothing. The attempt and the fallback hang off the UPDATE's
        // RETURNING (PostgreSQL's changes() = 1): no update, no attempt logged, no fallback.
        // The attempt is numbered after the last one logged, since a retried dead letter
        // starts its `attempts` count again from 0.
        Promise.all(results.map((s) => settleOne(tx, s, owner)))
      );
      return applied.filter((id): id is string => id !== null);
    },
  };
}

async function settleOne(tx: TransactionSql, s: Settlement, owner: string) {
  const status = s.outcome === "delivered"
    ? "delivered"
    : s.outcome === "dead"
    ? "dead"
    : "pending";
  const fb = s.fallback && s.outcome === "dead" ? deliveryRow(s.fallback, s.at) : null;
  const fallback = fb
    ? tx`, fb AS (
        INSERT INTO deliveries (id, event_id, tenant, route_id, destination_id,
          fallback_destination_id, status, attempts, next_at, body, headers, key, created_at,
          updated_at)
        SELECT ${fb.id}::text, ${fb.event_id}::text, ${fb.tenant}::text, ${fb.route_id}::text,
          ${fb.destination_id}::text, ${fb.fallback_destination_id}::text, 'pending', 0,
          ${fb.next_at}::bigint, ${fb.body}::bytea, ${fb.headers}::text, ${fb.key}::text,
          ${fb.created_at}::bigint, ${fb.updated_at}::bigint
        FROM upd ON CONFLICT DO NOTHING)`
    : tx``;
  const rows = await tx<{ id: string }[]>`
    WITH upd AS (
      UPDATE deliveries SET status = ${status}, next_at = ${ms(s.nextAt ?? s.at)},
        last_error = ${s.error ?? null}, updated_at = ${ms(s.at)}, lease_owner = NULL,
        lease_until = NULL
      WHERE id = ${s.id} AND lease_owner = ${owner} RETURNING id
    ), att AS (
      INSERT INTO attempts (delivery_id, n, at, outcome, error, duration_ms)
      SELECT upd.id, (SELECT coalesce(max(n), 0) + 1 FROM attempts WHERE delivery_id = upd.id),
        ${ms(s.at)}::bigint, ${s.outcome}::text, ${s.error ?? null}::text,
        ${s.durationMs == null ? null : ms(s.durationMs)}::bigint
      FROM upd ON CONFLICT DO NOTHING
    )${fallback}
    SELECT id FROM upd`;
  return rows[0]?.id ?? null;
}
