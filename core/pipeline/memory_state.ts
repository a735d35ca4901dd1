/**
 * AggregateState in process memory: for tests, the CLI's golden runs, dry runs, and the edge
 * runtimes that have nothing better. Values are cloned in and out so callers cannot mutate the
 * stored copy, as with a real store.
 */
import type { AggregateState, AppendOptions, Bucket, BucketEntry } from "./aggregate_state.ts";
import { cloneJson } from "./clone.ts";

interface Value {
  value: unknown;
  expiresAt: number | null;
}

interface StoredBucket extends Bucket {
  ids: Set<string>;
}

export class MemoryState implements AggregateState {
  #values = new Map<string, Value>();
  #buckets = new Map<string, StoredBucket>();
  #seq = 0;
  #now: () => number;

  /** `now` is the clock used by the operations that take none (get/set/setIfAbsent). */
  constructor(now: () => number = () => Date.now()) {
    this.#now = now;
  }

  #live(key: string): Value | undefined {
    const v = this.#values.get(key);
    if (v && v.expiresAt !== null && v.expiresAt <= this.#now()) {
      this.#values.delete(key);
      return undefined;
    }
    return v;
  }

  get(key: string): Promise<unknown> {
    const v = this.#live(key);
    return Promise.resolve(v ? cloneJson(v.value) : undefined);
  }

  set(key: string, value: unknown, expiresAt?: number): Promise<void> {
    this.#values.set(key, { value: cloneJson(value), expiresAt: expiresAt ?? null });
    return Promise.resolve();
  }

  setIfAbsent(key: string, value: unknown, expiresAt?: number): Promise<boolean> {
    if (this.#live(key)) return Promise.resolve(false);
    this.#values.set(key, { value: cloneJson(value), expiresAt: expiresAt ?? null });
    return Promise.resolve(true);
  }

  delete(key: string): Promise<void> {
    this.#values.delete(key);
    this.#buckets.delete(key);
    return Promise.resolve();
  }

  #bucketAt(key: string, now: number): StoredBucket | undefined {
    const b = this.#buckets.get(key);
    if (b && b.expiresAt !== null && b.expiresAt <= now) {
      this.#buckets.delete(key);
      return undefined;
    }
    return b;
  }

  append(
    key: string,
    entry: BucketEntry,
    opts: AppendOptions,
  ): Promise<{ count: number; sum: number }> {
    let b = this.#bucketAt(key, opts.now);
    if (!b || b.sealed) {
      b = {
        key,
        count: 0,
        sum: 0,
        items: [],
        firstAt: opts.now,
        dueAt: opts.dueAt ?? null,
        expiresAt: null,
        meta: cloneJson(opts.meta ?? {}),
        sealed: false,
        ids: new Set(),
      };
      this.#buckets.set(key, b);
    }
    if (opts.expiresAt !== undefined) b.expiresAt = opts.expiresAt;
    if (!b.ids.has(entry.id)) {
      b.ids.add(entry.id);
      b.count++;
      b.sum += entry.value ?? 0;
      if (entry.item !== undefined && b.items.length < (opts.maxItems ?? 10_000)) {
        b.items.push(cloneJson(entry.item));
      }
    }
    return Promise.resolve({ count: b.count, sum: b.sum });
  }

  bucket(key: string): Promise<Bucket | undefined> {
    const b = this.#bucketAt(key, this.#now());
    return Promise.resolve(b ? copy(b) : undefined);
  }

  due(prefix: string, now: number, limit: number): Promise<string[]> {
    const out: StoredBucket[] = [];
    for (const [key, b] of this.#buckets) {
      if (!key.startsWith(prefix) || b.dueAt === null || b.dueAt > now) continue;
      if (b.expiresAt !== null && b.expiresAt <= now) continue;
      out.push(b);
    }
    out.sort((a, b) => a.dueAt! - b.dueAt!);
    return Promise.resolve(out.slice(0, limit).map((b) => b.key));
  }

  seal(key: string, now: number, leaseUntil: number): Promise<Bucket | undefined> {
    const b = this.#bucketAt(key, now);
    if (!b) return Promise.resolve(undefined);
    if (b.sealed) {
      if (b.dueAt !== null && b.dueAt > now) return Promise.resolve(undefined);
      b.dueAt = leaseUntil;
      return Promise.resolve(copy(b));
    }
    this.#buckets.delete(key);
    const sealedKey = `${key}#sealed:${now}:${++this.#seq}`;
    const sealed: StoredBucket = { ...b, key: sealedKey, sealed: true, dueAt: leaseUntil };
    this.#buckets.set(sealedKey, sealed);
    return Promise.resolve(copy(sealed));
  }

  /** Number of live values and buckets; for tests. */
  get size(): number {
    return this.#values.size + this.#buckets.size;
  }
}

function copy(b: StoredBucket): Bucket {
  const { ids: _ids, ...rest } = b;
  return cloneJson(rest);
}
