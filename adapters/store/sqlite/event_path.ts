/**
 * The hot path in plain SQL: accept (group commit), claim and complete events, claim and settle
 * deliveries. Each atomic change is one batch; claims are single `UPDATE ... RETURNING`
 * statements so two nodes on one store never claim the same row.
 */
import type { Row, SqlClient, SqlValue, Stmt } from "../sql/client.ts";
import type { Delivery, Envelope, NewDelivery, Settlement } from "../../../core/ports.ts";
import type { AcceptResult, EventOutcome, StoredEvent } from "../../../core/store.ts";

const INSERT_EVENT = `INSERT INTO events (id, tenant, route_id, source, received_at, method, path,
  query, ip, headers, body, dedup_key, status, error, processed_at, due_at)
  VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING RETURNING id`;

/** A planned delivery goes in only if its event did (a duplicate event brings none). */
const INSERT_PLANNED_DELIVERY = `INSERT INTO deliveries (id, event_id, tenant, route_id,
  destination_id, fallback_destination_id, status, attempts, next_at, body, headers, key,
  created_at, updated_at) SELECT ?,?,?,?,?,?,'pending',0,?,?,?,?,?,? WHERE EXISTS
  (SELECT 1 FROM events WHERE id = ?) ON CONFLICT DO NOTHING`;

/** A fallback delivery goes in only if the settle just before it applied (changes() = 1). */
const INSERT_FALLBACK_DELIVERY = `INSERT INTO deliveries (id, event_id, tenant, route_id,
  destination_id, fallback_destination_id, status, attempts, next_at, body, headers, key,
  created_at, updated_at) SELECT ?,?,?,?,?,?,'pending',0,?,?,?,?,?,? WHERE changes() = 1
  ON CONFLICT DO NOTHING`;

const INSERT_DELIVERY = `INSERT INTO deliveries (id, event_id, tenant, route_id, destination_id,
  fallback_destination_id, status, attempts, next_at, body, headers, key, created_at, updated_at)
  VALUES (?,?,?,?,?,?,'pending',0,?,?,?,?,?,?) ON CONFLICT DO NOTHING`;

export function insertDeliveryStmt(d: NewDelivery, now: number): Stmt {
  return {
    sql: INSERT_DELIVERY,
    params: [
      d.id,
      d.eventId,
      d.tenant,
      d.routeId,
      d.destinationId,
      d.fallbackDestinationId ?? null,
      d.nextAt,
      d.body,
      JSON.stringify(d.headers),
      d.key ?? null,
      now,
      now,
    ],
  };
}

const bytes = (v: unknown): Uint8Array =>
  v instanceof Uint8Array ? v : v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array();

export function rowToEnvelope(r: Row): Envelope {
  return {
    id: r.id as string,
    tenant: r.tenant as string,
    routeId: (r.route_id as string | null) ?? null,
    source: r.source as string,
    receivedAt: Number(r.received_at),
    method: r.method as string,
    path: r.path as string,
    query: r.query as string,
    ip: r.ip as string,
    headers: JSON.parse(r.headers as string),
    body: bytes(r.body),
    dedupKey: (r.dedup_key as string | null) ?? null,
  };
}

export function rowToStoredEvent(r: Row): StoredEvent {
  return {
    ...rowToEnvelope(r),
    status: r.status as StoredEvent["status"],
    error: (r.error as string | null) ?? null,
    processedAt: r.processed_at == null ? null : Number(r.processed_at),
  };
}

export function rowToDelivery(r: Row): Delivery & { fallbackDestinationId: string | null } {
  return {
    id: r.id as string,
    eventId: r.event_id as string,
    tenant: r.tenant as string,
    routeId: (r.route_id as string | null) ?? null,
    destinationId: r.destination_id as string,
    fallbackDestinationId: (r.fallback_destination_id as string | null) ?? null,
    status: r.status as Delivery["status"],
    attempts: Number(r.attempts),
    nextAt: Number(r.next_at),
    body: bytes(r.body),
    headers: JSON.parse(r.headers as string),
    key: (r.key as string | null) ?? null,
    lastError: (r.last_error as string | null) ?? null,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export function eventPath(db: SqlClient) {
  return {
    async accept(events: Envelope[]): Promise<AcceptResult> {
      const duplicates = new Map<string, string>();
      if (events.length === 0) return { duplicates };
      const stmts: Stmt[] = [];
      const eventStmt: number[] = [];
      const now = Date.now();
      for (const e of events) {
        eventStmt.push(stmts.length);
        stmts.push({
          sql: INSERT_EVENT,
          params: [
            e.id,
            e.tenant,
            e.routeId,
            e.source,
            e.receivedAt,
            e.method,
            e.path,
            e.query,
            e.ip,
            JSON.stringify(e.headers),
            e.body,
            e.dedupKey ?? null,
            e.planned?.status ?? "accepted",
            e.planned?.error ?? null,
            e.planned ? now : null,
            e.receivedAt,
          ] as SqlValue[],
        });
        for (const d of e.planned?.deliveries ?? []) {
          const ins = insertDeliveryStmt(d, now);
          stmts.push({ sql: INSERT_PLANNED_DELIVERY, params: [...ins.params!, e.id] });
        }
      }
      const res = await db.batch(stmts);
      const missing = events.filter((_, i) => res[eventStmt[i]].length === 0);
      for (const e of missing) {
        const orig = await db.all<{ id: string }>(
          `SELECT id FROM events WHERE route_id IS ? AND dedup_key = ?`,
          [e.routeId, e.dedupKey ?? null],
        );
        duplicates.set(e.id, orig[0]?.id ?? e.id);
      }
      return { duplicates };
    },

    async claimEvents(now: number, limit: number, owner: string, leaseMs: number) {
      const rows = await db.all(
        `UPDATE events SET lease_owner = ?, lease_until = ? WHERE id IN (
           SELECT id FROM events WHERE status = 'accepted' AND due_at <= ?
             AND (lease_until IS NULL OR lease_until < ?) ORDER BY due_at LIMIT ?)
         RETURNING *`,
        [owner, now + leaseMs, now, now, limit],
      );
      return rows.map(rowToEnvelope).sort((a, b) => a.receivedAt - b.receivedAt);
    },

    async completeEvents(outcomes: EventOutcome[]) {
      if (outcomes.length === 0) return;
      const now = Date.now();
      const stmts: Stmt[] = [];
      for (const o of outcomes) {
        for (const d of o.deliveries) stmts.push(insertDeliveryStmt(d, now));
        if (o.retryAt !== undefined) {
          stmts.push({
            sql: `UPDATE events SET due_at = ?, error = ?, lease_owner = NULL, lease_until = NULL
                  WHERE id = ?`,
            params: [o.retryAt, o.error ?? null, o.id],
          });
        } else {
          stmts.push({
            sql: `UPDATE events SET status = ?, error = ?, processed_at = ?, lease_owner = NULL,
                  lease_until = NULL WHERE id = ?`,
            params: [o.status, o.error ?? null, now, o.id],
          });
        }
      }
      await db.batch(stmts);
    },

    async insertDeliveries(ds: NewDelivery[]) {
      if (ds.length) await db.batch(ds.map((d) => insertDeliveryStmt(d, Date.now())));
    },

    async claimDue(now: number, limit: number, owner: string, leaseMs: number, exclude?: string[]) {
      const skip = exclude?.length
        ? ` AND destination_id NOT IN (${exclude.map(() => "?").join(",")})`
        : "";
      const rows = await db.all(
        `UPDATE deliveries SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
         WHERE id IN (
           SELECT id FROM deliveries WHERE status = 'pending' AND next_at <= ?
             AND (lease_until IS NULL OR lease_until < ?)${skip} ORDER BY next_at LIMIT ?)
         RETURNING *`,
        [owner, now + leaseMs, now, now, ...(exclude ?? []), limit],
      );
      return rows.map(rowToDelivery).sort((a, b) =>
        a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1)
      );
    },

    async settle(results: Settlement[], owner: string): Promise<string[]> {
      if (results.length === 0) return [];
      const updates: number[] = [];
      const stmts: Stmt[] = [];
      for (const s of results) {
        const status = s.outcome === "delivered"
          ? "delivered"
          : s.outcome === "dead"
          ? "dead"
          : "pending";
        // Only the lease holder settles: a node whose lease expired must not overwrite the
        // outcome (nor log an attempt) of the node that took the delivery over. The attempt
        // goes first, while the lease is still visible; it is numbered after the last one
        // logged, since a retried dead letter starts its `attempts` count again from 0.
        stmts.push({
          sql: `INSERT OR IGNORE INTO attempts (delivery_id, n, at, outcome, error, duration_ms)
                SELECT id, (SELECT coalesce(max(n), 0) + 1 FROM attempts WHERE delivery_id = ?),
                ?, ?, ?, ? FROM deliveries WHERE id = ? AND lease_owner = ?`,
          params: [s.id, s.at, s.outcome, s.error ?? null, s.durationMs ?? null, s.id, owner],
        });
        updates.push(stmts.length);
        stmts.push({
          sql: `UPDATE deliveries SET status = ?, next_at = ?, last_error = ?, updated_at = ?,
                lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?
                RETURNING id`,
          params: [status, s.nextAt ?? s.at, s.error ?? null, s.at, s.id, owner],
        });
        if (s.fallback && s.outcome === "dead") {
          // changes() is the row count of the UPDATE just above: no lease, no fallback.
          const ins = insertDeliveryStmt(s.fallback, s.at);
          stmts.push({ sql: INSERT_FALLBACK_DELIVERY, params: ins.params });
        }
      }
      const res = await db.batch(stmts);
      return updates.filter((i) => res[i].length > 0).map((i) => String(res[i][0].id));
    },
  };
}
