/**
 * The pipeline's AggregateState on the SQL store, so aggregation windows, batches and dedup
 * keys survive a restart and are shared by every node on the store. Each operation is one
 * statement or one batch: atomic without interactive transactions. Semantics are those of
 * core/pipeline/aggregate_state.ts (and MemoryState); the shared suite checks both.
 */
import type {
  AggregateState,
  AppendOptions,
  Bucket,
  BucketEntry,
} from "../../../core/pipeline/aggregate_state.ts";
import type { Row, SqlClient } from "../sql/client.ts";

const live = "(expires_at IS NULL OR expires_at > ?)";

function toBucket(r: Row): Bucket {
  return {
    key: r.key as string,
    count: Number(r.count),
    sum: Number(r.sum),
    items: JSON.parse(r.items as string),
    firstAt: Number(r.first_at),
    dueAt: r.due_at == null ? null : Number(r.due_at),
    expiresAt: r.expires_at == null ? null : Number(r.expires_at),
    meta: JSON.parse(r.meta as string),
    sealed: Number(r.sealed) === 1,
  };
}

export class SqlAggregateState implements AggregateState {
  #seq = 0;
  constructor(private db: SqlClient, private now: () => number = () => Date.now()) {}

  async get(key: string): Promise<unknown> {
    const r = await this.db.all<{ value: string }>(
      `SELECT value FROM pipeline_values WHERE key = ? AND ${live}`,
      [key, this.now()],
    );
    return r[0] ? JSON.parse(r[0].value) : undefined;
  }

  async set(key: string, value: unknown, expiresAt?: number): Promise<void> {
    await this.db.run(
      `INSERT INTO pipeline_values (key, value, expires_at) VALUES (?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
      [key, JSON.stringify(value ?? null), expiresAt ?? null],
    );
  }

  async setIfAbsent(key: string, value: unknown, expiresAt?: number): Promise<boolean> {
    const r = await this.db.all(
      `INSERT INTO pipeline_values (key, value, expires_at) VALUES (?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
       WHERE pipeline_values.expires_at IS NOT NULL AND pipeline_values.expires_at <= ?
       RETURNING key`,
      [key, JSON.stringify(value ?? null), expiresAt ?? null, this.now()],
    );
    return r.length > 0;
  }

  async delete(key: string): Promise<void> {
    await this.db.batch([
      { sql: `DELETE FROM pipeline_values WHERE key = ?`, params: [key] },
      { sql: `DELETE FROM pipeline_buckets WHERE key = ?`, params: [key] },
    ]);
  }

  async append(
    key: string,
    entry: BucketEntry,
    opts: AppendOptions,
  ): Promise<{ count: number; sum: number }> {
    const now = opts.now;
    const value = entry.value ?? 0;
    const item = entry.item === undefined ? null : JSON.stringify(entry.item);
    const maxItems = opts.maxItems ?? 10_000;
    // A sealed or expired bucket at the key is replaced by a fresh one; an id already in the
    // bucket counts once.
    const fresh = `(pipeline_buckets.sealed = 1 OR (pipeline_buckets.expires_at IS NOT NULL
      AND pipeline_buckets.expires_at <= ?))`;
    const seen = `EXISTS (SELECT 1 FROM json_each(pipeline_buckets.ids) WHERE value = ?)`;
    const rows = await this.db.all<{ count: number; sum: number }>(
      `INSERT INTO pipeline_buckets (key, count, sum, items, ids, first_at, due_at, expires_at,
         meta, sealed)
       VALUES (?, 1, ?, CASE WHEN ? IS NULL THEN '[]' ELSE json_array(json(?)) END,
         json_array(?), ?, ?, ?, ?, 0)
       ON CONFLICT(key) DO UPDATE SET
         count = CASE WHEN ${fresh} THEN 1 WHEN ${seen} THEN count ELSE count + 1 END,
         sum = CASE WHEN ${fresh} THEN ? WHEN ${seen} THEN sum ELSE sum + ? END,
         items = CASE WHEN ${fresh} THEN excluded.items
           WHEN ${seen} OR ? IS NULL OR json_array_length(items) >= ? THEN items
           ELSE json_insert(items, '$[#]', json(?)) END,
         ids = CASE WHEN ${fresh} THEN excluded.ids WHEN ${seen} THEN ids
           ELSE json_insert(ids, '$[#]', ?) END,
         first_at = CASE WHEN ${fresh} THEN excluded.first_at ELSE first_at END,
         due_at = CASE WHEN ${fresh} THEN excluded.due_at ELSE due_at END,
         meta = CASE WHEN ${fresh} THEN excluded.meta ELSE meta END,
         sealed = 0,
         expires_at = CASE WHEN ? IS NOT NULL THEN ? WHEN ${fresh} THEN NULL ELSE expires_at END
       RETURNING count, sum`,
      [
        key,
        value,
        item,
        item,
        entry.id,
        now,
        opts.dueAt ?? null,
        opts.expiresAt ?? null,
        JSON.stringify(opts.meta ?? {}),
        // count
        now,
        entry.id,
        // sum
        now,
        value,
        entry.id,
        value,
        // items
        now,
        entry.id,
        item,
        maxItems,
        item,
        // ids
        now,
        entry.id,
        entry.id,
        // first_at, due_at, meta
        now,
        now,
        now,
        // expires_at
        opts.expiresAt ?? null,
        opts.expiresAt ?? null,
        now,
      ],
    );
    return { count: Number(rows[0].count), sum: Number(rows[0].sum) };
  }

  async bucket(key: string): Promise<Bucket | undefined> {
    const r = await this.db.all(`SELECT * FROM pipeline_buckets WHERE key = ? AND ${live}`, [
      key,
      this.now(),
    ]);
    return r[0] ? toBucket(r[0]) : undefined;
  }

  async due(prefix: string, now: number, limit: number): Promise<string[]> {
    const r = await this.db.all<{ key: string }>(
      `SELECT key FROM pipeline_buckets WHERE substr(key, 1, ?) = ? AND due_at IS NOT NULL
         AND due_at <= ? AND ${live} ORDER BY due_at, key LIMIT ?`,
      [prefix.length, prefix, now, now, limit],
    );
    return r.map((x) => x.key);
  }

  async seal(key: string, now: number, leaseUntil: number): Promise<Bucket | undefined> {
    const sealedKey = `${key}#sealed:${now}:${++this.#seq}:${crypto.randomUUID().slice(0, 8)}`;
    const open = `key = ? AND sealed = 0 AND ${live}`;
    const res = await this.db.batch([
      // A sealed bucket whose emitter's lease ran out: re-lease it to this caller.
      {
        sql: `UPDATE pipeline_buckets SET due_at = ? WHERE key = ? AND sealed = 1
              AND (due_at IS NULL OR due_at <= ?) AND ${live} RETURNING *`,
        params: [leaseUntil, key, now, now],
      },
      // An open bucket: moved to a new key, sealed and leased; the old key is free again.
      {
        sql: `INSERT INTO pipeline_buckets (key, count, sum, items, ids, first_at, due_at,
                expires_at, meta, sealed)
              SELECT ?, count, sum, items, ids, first_at, ?, expires_at, meta, 1
              FROM pipeline_buckets WHERE ${open} RETURNING *`,
        params: [sealedKey, leaseUntil, key, now],
      },
      { sql: `DELETE FROM pipeline_buckets WHERE ${open}`, params: [key, now] },
    ]);
    const row = res[0][0] ?? res[1][0];
    return row ? toBucket(row) : undefined;
  }
}
