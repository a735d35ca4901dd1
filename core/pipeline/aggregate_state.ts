/**
 * The state aggregation (and the enrichment cache) keeps outside the process, so a restart or
 * another node loses nothing. The memory implementation is `memory_state.ts`; the full node
 * implements the same contract on its SQL store.
 *
 * Two kinds of records share one key space:
 * - values: `get` / `set` / `setIfAbsent` / `delete`, each with an optional absolute expiry;
 * - buckets: an accumulating record (count, sum, items) that `append` grows atomically and
 *   that the flusher closes with `seal`. Buckets hold what aggregation emits later.
 *
 * Time: `expiresAt`, `dueAt` and `now` are milliseconds since the epoch as the pipeline's
 * clock reports them; a record whose `expiresAt <= now` is absent for every operation. Values
 * that take no `now` compare with the implementation's own clock.
 */

export interface BucketEntry {
  /** The event id. Appending the same id to the same bucket twice counts once. */
  id: string;
  /** Added to `sum` (0 when absent). */
  value?: number;
  /** Pushed to `items` when present and `items` is below `maxItems`. */
  item?: unknown;
}

export interface AppendOptions {
  now: number;
  /** Set when the bucket is created; later appends keep the first value. null: never due. */
  dueAt?: number | null;
  /** Set (or extended) on every append; absent: the bucket never expires. */
  expiresAt?: number;
  /** Cap on stored items; entries beyond it still count and sum. Default 10_000. */
  maxItems?: number;
  /** Stored when the bucket is created (what the flusher needs to emit it). */
  meta?: Record<string, unknown>;
}

export interface Bucket {
  key: string;
  count: number;
  sum: number;
  items: unknown[];
  /** `now` of the append that created it. */
  firstAt: number;
  dueAt: number | null;
  expiresAt: number | null;
  meta: Record<string, unknown>;
  /** Sealed buckets are closed to appends; see `seal`. */
  sealed: boolean;
}

export interface AggregateState {
  /** The value, or undefined when absent or expired. */
  get(key: string): Promise<unknown>;
  /** Stores a JSON-serialisable value (replacing any), expiring at `expiresAt` when given. */
  set(key: string, value: unknown, expiresAt?: number): Promise<void>;
  /** Atomically stores the value only when the key is absent or expired; true when stored. */
  setIfAbsent(key: string, value: unknown, expiresAt?: number): Promise<boolean>;
  /** Removes a value or a bucket (open or sealed). Deleting an absent key is not an error. */
  delete(key: string): Promise<void>;

  /**
   * Atomically adds one entry to the open bucket at `key`, creating it when absent (or expired,
   * or when the bucket at that key was sealed: sealing frees the key). Returns the totals after
   * the append. Idempotent per `entry.id` within one bucket.
   */
  append(
    key: string,
    entry: BucketEntry,
    opts: AppendOptions,
  ): Promise<{ count: number; sum: number }>;
  /** A copy of the open or sealed bucket at `key`, or undefined. Never changes anything. */
  bucket(key: string): Promise<Bucket | undefined>;
  /**
   * Keys of buckets under `prefix` that are due: open ones with `dueAt <= now`, and sealed ones
   * whose lease (`dueAt`) has run out. Oldest `dueAt` first, at most `limit`.
   */
  due(prefix: string, now: number, limit: number): Promise<string[]>;
  /**
   * Closes a bucket for emission and leases it until `leaseUntil`:
   * - open bucket at `key`: atomically moved to a new key (returned in `Bucket.key`), marked
   *   sealed, `dueAt = leaseUntil`; appends to `key` now start a fresh bucket;
   * - sealed bucket at `key` whose `dueAt <= now` (a previous emitter died): `dueAt` is set to
   *   `leaseUntil` and the bucket returned, so exactly one caller re-emits it;
   * - otherwise (absent, or sealed and still leased): undefined.
   * The emitter deletes the sealed key once its deliveries are stored; until then a crash only
   * delays the emission to the end of the lease.
   */
  seal(key: string, now: number, leaseUntil: number): Promise<Bucket | undefined>;
}
