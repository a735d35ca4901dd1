/**
 * The hot path in plain SQL: accept (group commit), claim and complete events, claim and settle
 * deliveries. Each atomic change is one batch; claims are single `UPDATE ... RETURNING`
 * statements so two nodes on one store never claim the same row.
 */
import type { Row, SqlClient, SqlValue, Stmt } from "../sql/client.ts";
import type { Delivery, Envelope, NewDelivery, Settlement } from "../../../core/ports.ts";
import type {
  AcceptOptions,
  AcceptResult,
  EventOutcome,
  StoredEvent,
} from "../../../core/store.ts";

const INSERT_EVENT = `INSERT INTO events (id, tenant, route_id, source, received_at, method, path,
  query, ip, headers, body, dedup_key, status, error, processed_at, due_at, lease_owner)
  VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING RETURNING id`;

/**
 * A planned delivery goes in only if its event did: a duplicate event brings none, also one
 * with the id of an event stored before (an edge forwarding again). The event row carries a
 * token of this very insert in lease_owner, cleared by the batch's last statement.
 */
const INSERT_PLANNED_DELIVERY = `INSERT INTO deliveries (id, event_id, tenant, route_id,
  destination_id, fallback_destination_id, status, attempts, next_at, body, headers, key,
  created_at, updated_at) SELECT ?,?,?,?,?,?,'pending',0,?,?,?,?,?,? WHERE EXISTS
  (SELECT 1 FROM events WHERE id = ? AND lease_owner = ?) ON CONFLICT DO NOTHING`;

/** The same, claimed already by the caller's dispatcher (`AcceptOptions.lease`). */
const INSERT_PLANNED_DELIVERY_LEASED = `INSERT INTO deliveries (id, event_id, tenant, route_id,
  destination_id, fallback_destination_id, status, attempts, next_at, body, headers, key,
  created_at, updated_at, lease_owner, lease_until) SELECT ?,?,?,?,?,?,'pending',1,?,?,?,?,?,?,?,?
  WHERE EXISTS (SELECT 1 FROM events WHERE id = ? AND lease_owner = ?) ON CONFLICT DO NOTHING`;

const CLEAR_ACCEPT_TOKENS = `UPDATE events SET lease_owner = NULL
  WHERE id IN (SELECT value FROM json_each(?)) AND lease_owner LIKE 'accept:%'`;

/** A fallback delivery goes in only if its dead primary was settled by this very batch. */
const INSERT_FALLBACK_DELIVERY = `INSERT INTO deliveries (id, event_id, tenant, route_id,
  destination_id, fallback_destination_id, status, attempts, next_at, body, headers, key,
  created_at, updated_at) SELECT ?,?,?,?,?,?,'pending',0,?,?,?,?,?,? WHERE EXISTS
  (SELECT 1 FROM deliveries WHERE id = ? AND status = 'dead' AND lease_owner IS NULL
   AND updated_at = ?) ON CONFLICT DO NOTHING`;

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
    attempts: Number(r.attempts ?? 0),
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
    async accept(events: Envelope[], opts?: AcceptOptions): Promise<AcceptResult> {
      const duplicates = new Map<string, string>();
      if (events.length === 0) return { duplicates };
      const lease = opts?.lease;
      const leased = lease?.deliveryIds.length ? new Set(lease.deliveryIds) : null;
      const stmts: Stmt[] = [];
      const eventStmt: number[] = [];
      const now = Date.now();
      const batchToken = `accept:${crypto.randomUUID()}:`;
      const tokened: string[] = [];
      for (let i = 0; i < events.length; i++) {
        const e = events[i];
        const token = e.planned?.deliveries.length ? batchToken + i : null;
        if (token) tokened.push(e.id);
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
            token,
          ] as SqlValue[],
        });
        for (const d of e.planned?.deliveries ?? []) {
          const ins = insertDeliveryStmt(d, now);
          if (leased?.has(d.id)) {
            stmts.push({
              sql: INSERT_PLANNED_DELIVERY_LEASED,
              params: [...ins.params!, lease!.owner, lease!.until, e.id, token],
            });
          } else {
            stmts.push({ sql: INSERT_PLANNED_DELIVERY, params: [...ins.params!, e.id, token] });
          }
        }
      }
      if (tokened.length) {
        stmts.push({ sql: CLEAR_ACCEPT_TOKENS, params: [JSON.stringify(tokened)] });
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
            sql: `UPDATE events SET due_at = ?, error = ?, lease_owner = NULL, lease_until = NULL,
                  attempts = attempts + 1 WHERE id = ?`,
            params: [o.retryAt, o.error ?? null, o.id],
          });
        } else {
          stmts.push({
            sql: `UPDATE events SET status = ?, error = ?, processed_at = ?, lease_owner = NULL,
                  lease_until = NULL, attempts = attempts + 1 WHERE id = ?`,
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
      const picked = exclude?.length
        ? await pickAvoiding(db, now, limit, exclude)
        : { sql: `SELECT id ${DUE} ORDER BY next_at LIMIT ?`, params: [now, now, limit] };
      if (picked === null) return [];
      const rows = await db.all(
        `UPDATE deliveries SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
         WHERE id IN (${picked.sql}) RETURNING *`,
        [owner, now + leaseMs, ...picked.params],
      );
      return rows.map(rowToDelivery).sort((a, b) =>
        a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1)
      );
    },

    async settle(results: Settlement[], owner: string): Promise<string[]> {
      if (results.length === 0) return [];
      // Set-based: the whole batch travels as one JSON parameter, so a settle of 500 is three
      // statements, not a thousand. Only the lease holder settles: a node whose lease expired
      // must not overwrite the outcome (nor log an attempt) of the node that took over.
      const rows = JSON.stringify(results.map((s) => ({
        id: s.id,
        status: s.outcome === "delivered" ? "delivered" : s.outcome === "dead" ? "dead" : "pending",
        outcome: s.outcome,
        next_at: s.nextAt ?? s.at,
        error: s.error ?? null,
        at: s.at,
        ms: s.durationMs ?? null,
      })));
      const stmts: Stmt[] = [
        // The attempt goes first, while the lease is still visible; it is numbered after the
        // last one logged, since a retried dead letter starts its `attempts` from 0 again.
        {
          sql: `INSERT OR IGNORE INTO attempts (delivery_id, n, at, outcome, error, duration_ms)
                SELECT d.id,
                  (SELECT coalesce(max(a.n), 0) + 1 FROM attempts a WHERE a.delivery_id = d.id),
                  j.value ->> 'at', j.value ->> 'outcome', j.value ->> 'error', j.value ->> 'ms'
                FROM json_each(?) j JOIN deliveries d ON d.id = j.value ->> 'id'
                WHERE d.lease_owner = ?`,
          params: [rows, owner],
        },
        {
          sql: `UPDATE deliveries SET status = j.value ->> 'status',
                  next_at = j.value ->> 'next_at', last_error = j.value ->> 'error',
                  updated_at = j.value ->> 'at', lease_owner = NULL, lease_until = NULL
                FROM json_each(?) j
                WHERE deliveries.id = j.value ->> 'id' AND deliveries.lease_owner = ?
                RETURNING deliveries.id AS id`,
          params: [rows, owner],
        },
      ];
      for (const s of results) {
        if (!s.fallback || s.outcome !== "dead") continue;
        // Only where the UPDATE above applied: the delivery is now dead, unleased, settled at
        // this very time by this batch.
        const ins = insertDeliveryStmt(s.fallback, s.at);
        stmts.push({
          sql: INSERT_FALLBACK_DELIVERY,
          params: [...ins.params!, s.id, s.at],
        });
      }
      const res = await db.batch(stmts);
      return res[1].map((r) => String(r.id));
    },
  };
}

/** Where deliveries are due and unleased (parameters: now, now). */
const DUE = `FROM deliveries WHERE status = 'pending' AND next_at <= ?
  AND (lease_until IS NULL OR lease_until < ?)`;

/** A compound SELECT has at most 500 terms in SQLite; past this many destinations the claim
 * walks the due index past the excluded ones instead. */
const MAX_DESTINATIONS = 256;

/**
 * The claim's pick when some destinations are left out (their circuit is open): the oldest
 * due deliveries of each other destination that has any, oldest first overall, the same rows
 * as walking the due index and skipping the excluded ones. Walking it cost a scan of the
 * excluded destinations' whole backlog per claim (143 ms for 110k deliveries of one dead
 * endpoint, which held every tenant's claims and a restart's journal import behind it); this
 * costs an index probe per destination (`deliveries_pending_dest`). Null: nothing is due.
 * The exclusions travel as one JSON parameter and the number of picks is rounded up to a power
 * of two (the rest match nothing), so the connection's statement cache holds a few shapes.
 */
async function pickAvoiding(
  db: SqlClient,
  now: number,
  limit: number,
  exclude: string[],
): Promise<{ sql: string; params: SqlValue[] } | null> {
  const skip = JSON.stringify(exclude);
  // A loose index scan: each step seeks the next destination id with pending deliveries.
  const dests = (await db.all<{ id: string }>(
    `WITH RECURSIVE dest(id) AS (
       SELECT (SELECT min(destination_id) FROM deliveries WHERE status = 'pending')
       UNION ALL
       SELECT (SELECT min(destination_id) FROM deliveries
               WHERE status = 'pending' AND destination_id > dest.id)
       FROM dest WHERE dest.id IS NOT NULL)
     SELECT id FROM dest WHERE id IS NOT NULL AND id NOT IN (SELECT value FROM json_each(?))
       AND EXISTS (SELECT 1 FROM deliveries d WHERE d.status = 'pending'
                   AND d.destination_id = dest.id AND d.next_at <= ?)
     LIMIT ?`,
    [skip, now, MAX_DESTINATIONS + 1],
  )).map((r) => r.id);
  if (dests.length === 0) return null;
  if (dests.length > MAX_DESTINATIONS) {
    return {
      sql: `SELECT id ${DUE} AND destination_id NOT IN (SELECT value FROM json_each(?))
            ORDER BY next_at LIMIT ?`,
      params: [now, now, skip, limit],
    };
  }
  let parts = 1;
  while (parts < dests.length) parts *= 2;
  const part =
    `SELECT * FROM (SELECT id, next_at ${DUE} AND destination_id = ? ORDER BY next_at LIMIT ?)`;
  const ids: (string | null)[] = [...dests, ...new Array(parts - dests.length).fill(null)];
  return {
    sql: `SELECT id FROM (${ids.map(() => part).join(" UNION ALL ")}) ORDER BY next_at LIMIT ?`,
    params: [...ids.flatMap((d) => [now, now, d, limit]), limit],
  };
}
