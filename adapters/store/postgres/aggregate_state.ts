/**
 * The pipeline's AggregateState on PostgreSQL, so aggregation windows, batches and dedup keys
 * survive a restart and are shared by every node on the database. Each operation is one
 * statement: `append` is an upsert that locks its row, and `seal` moves an open bucket with
 * `DELETE ... RETURNING` feeding an INSERT, so of two nodes sealing one bucket exactly one gets
 * it. Semantics are those of core/pipeline/aggregate_state.ts; the shared suite checks them.
 */
import type { Row, Sql } from "postgres";
import type {
  AggregateState,
  AppendOptions,
  Bucket,
  BucketEntry,
} from "../../../core/pipeline/aggregate_state.ts";
import { ms } from "./event_path.ts";

function toBucket(r: Row): Bucket {
  return {
    key: r.key as string,
    count: Number(r.count),
    sum: Number(r.sum),
    // Each item is stored as its JSON text (key order kept); jsonb holds the list of texts.
    items: (r.items as string[]).map((x) => JSON.parse(x)),
    firstAt: Number(r.first_at),
    dueAt: r.due_at == null ? null : Number(r.due_at),
    expiresAt: r.expires_at == null ? null : Number(r.expires_at),
    meta: JSON.parse(r.meta as string),
    sealed: r.sealed === true,
  };
}

const opt = (x: number | null | undefined) => x == null ? null : ms(x);

export class PgAggregateState implements AggregateState {
  #seq = 0;
  constructor(private sql: Sql, private now: () => number = () => Date.now()) {}

  #live(now: number) {
    return this.sql`(expires_at IS NULL OR expires_at > ${ms(now)})`;
  }

  async get(key: string): Promise<unknown> {
    const r = await this.sql<{ value: string }[]>`SELECT value FROM pipeline_values
      WHERE key = ${key} AND ${this.#live(this.now())}`;
    return r[0] ? JSON.parse(r[0].value) : undefined;
  }

  async set(key: string, value: unknown, expiresAt?: number): Promise<void> {
    await this.sql`INSERT INTO pipeline_values (key, value, expires_at)
      VALUES (${key}, ${JSON.stringify(value ?? null)}, ${opt(expiresAt)})
      ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`;
  }

  async setIfAbsent(key: string, value: unknown, expiresAt?: number): Promise<boolean> {
    const r = await this.sql`INSERT INTO pipeline_values (key, value, expires_at)
      VALUES (${key}, ${JSON.stringify(value ?? null)}, ${opt(expiresAt)})
      ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
      WHERE pipeline_values.expires_at IS NOT NULL
        AND pipeline_values.expires_at <= ${ms(this.now())}
      RETURNING key`;
    return r.length > 0;
  }

  async delete(key: string): Promise<void> {
    await this.sql`WITH v AS (DELETE FROM pipeline_values WHERE key = ${key})
      DELETE FROM pipeline_buckets WHERE key = ${key}`;
  }

  async append(
    key: string,
    entry: BucketEntry,
    opts: AppendOptions,
  ): Promise<{ count: number; sum: number }> {
    const sql = this.sql;
    const now = ms(opts.now);
    const item = entry.item === undefined ? null : JSON.stringify(entry.item);
    // A sealed or expired bucket at the key is replaced by a fresh one; an id already in the
    // bucket counts once. `excluded` is the fresh bucket this entry alone would make.
    const fresh = sql`(b.sealed OR (b.expires_at IS NOT NULL AND b.expires_at <= ${now}))`;
    const seen = sql`(b.ids ? ${entry.id}::text)`;
    const [r] = await sql<{ count: number; sum: number }[]>`
      INSERT INTO pipeline_buckets AS b (key, count, sum, items, ids, first_at, due_at,
        expires_at, meta, sealed)
      VALUES (${key}, 1, ${entry.value ?? 0}::float8,
        CASE WHEN ${item}::text IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(${item}::text) END,
        jsonb_build_array(${entry.id}::text), ${now}, ${opt(opts.dueAt)}::bigint,
        ${opt(opts.expiresAt)}::bigint, ${JSON.stringify(opts.meta ?? {})}, false)
      ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN ${fresh} THEN 1 WHEN ${seen} THEN b.count ELSE b.count + 1 END,
        sum = CASE WHEN ${fresh} THEN excluded.sum WHEN ${seen} THEN b.sum
          ELSE b.sum + excluded.sum END,
        items = CASE WHEN ${fresh} THEN excluded.items
          WHEN ${seen} OR ${item}::text IS NULL
            OR jsonb_array_length(b.items) >= ${opts.maxItems ?? 10_000} THEN b.items
          ELSE b.items || excluded.items END,
        ids = CASE WHEN ${fresh} THEN excluded.ids WHEN ${seen} THEN b.ids
          ELSE b.ids || excluded.ids END,
        first_at = CASE WHEN ${fresh} THEN excluded.first_at ELSE b.first_at END,
        due_at = CASE WHEN ${fresh} THEN excluded.due_at ELSE b.due_at END,
        meta = CASE WHEN ${fresh} THEN excluded.meta ELSE b.meta END,
        sealed = false,
        expires_at = CASE WHEN excluded.expires_at IS NOT NULL THEN excluded.expires_at
          WHEN ${fresh} THEN NULL ELSE b.expires_at END
      RETURNING count, sum`;
    return { count: Number(r.count), sum: Number(r.sum) };
  }

  async bucket(key: string): Promise<Bucket | undefined> {
    const r = await this.sql`SELECT * FROM pipeline_buckets
      WHERE key = ${key} AND ${this.#live(this.now())}`;
    return r[0] ? toBucket(r[0]) : undefined;
  }

  async due(prefix: string, now: number, limit: number): Promise<string[]> {
    const r = await this.sql<{ key: string }[]>`SELECT key FROM pipeline_buckets
      WHERE starts_with(key, ${prefix}) AND due_at IS NOT NULL AND due_at <= ${ms(now)}
        AND ${this.#live(now)}
      ORDER BY due_at, key LIMIT ${limit}`;
    return r.map((x) => x.key);
  }

  async seal(key: string, now: number, leaseUntil: number): Promise<Bucket | undefined> {
    const sql = this.sql;
    // A sealed bucket whose emitter's lease ran out: re-lease it to this caller (the UPDATE's
    // row lock and re-check let one caller of several win).
    const [again] = await sql`UPDATE pipeline_buckets SET due_at = ${ms(leaseUntil)}
      WHERE key = ${key} AND sealed AND (due_at IS NULL OR due_at <= ${ms(now)})
        AND ${this.#live(now)}
      RETURNING *`;
    if (again) return toBucket(again);
    // An open bucket: moved to a new key, sealed and leased; the old key is free again.
    const sealedKey = `${key}#sealed:${now}:${++this.#seq}:${crypto.randomUUID().slice(0, 8)}`;
    const [moved] = await sql`
      WITH open AS (
        DELETE FROM pipeline_buckets WHERE key = ${key} AND NOT sealed AND ${this.#live(now)}
        RETURNING *)
      INSERT INTO pipeline_buckets (key, count, sum, items, ids, first_at, due_at, expires_at,
        meta, sealed)
      SELECT ${sealedKey}, count, sum, items, ids, first_at, ${ms(leaseUntil)}::bigint,
        expires_at, meta, true
      FROM open RETURNING *`;
    return moved ? toBucket(moved) : undefined;
  }
}
