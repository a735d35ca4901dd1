/**
 * Redis Streams consumer (ioredis): one consumer (`consumer`, the node id by default) in the
 * consumer group `group` per trigger and node; the group hands each entry to one consumer, so
 * a trigger on several nodes still makes one event of each entry.
 *
 * - Reads: first this consumer's own pending entries (delivered before a crash or restart,
 *   never acknowledged), then new ones (XREADGROUP ... BLOCK), and every so often the entries
 *   another consumer left pending for longer than `claim_idle_ms` (XAUTOCLAIM: a dead node's).
 *   Each read (up to `count` entries) is one commit; XACK follows only after it.
 * - Event: the `body_field` field's bytes (an entry without that field: its fields as a JSON
 *   object); the other fields as headers, and `x-redis-stream`, `x-redis-id`,
 *   `x-redis-redelivered` (true for pending and claimed entries). dedupKey `<stream>/<id>`.
 * - A missing group is created with the stream (XGROUP CREATE ... MKSTREAM) from `start_id`;
 *   one that disappears later (a Redis restarted without persistence, a deleted key) is
 *   created again from "0", so nothing added since is skipped (the dedup keys catch entries
 *   that were events already).
 * - Status: `lag` = entries not yet delivered to the group, `pending` = delivered and not
 *   acknowledged (XINFO GROUPS).
 */
import type { Redis } from "ioredis";
import type { Source, SourceContext, SourceEvent, SourceFactory } from "../../../core/ports.ts";
import { errorMessage } from "../../brokers/errors.ts";
import { classifyRedis, openRedis } from "../../brokers/redis/connection.ts";
import { commitBatch } from "../consumer/commit.ts";
import { bytesOf } from "../consumer/headers.ts";
import { supervise } from "../consumer/supervise.ts";
import { parseRedisSourceConfig, type RedisSourceConfig, redisSourceSchema } from "./config.ts";

type Entry = [id: Uint8Array, fields: Uint8Array[] | null];
const utf8 = new TextDecoder();
const INFO_EVERY_MS = 2_000;

export function redisEvent(
  stream: string,
  bodyField: string,
  id: string,
  fields: Uint8Array[],
  redelivered: boolean,
): SourceEvent {
  const headers: Record<string, string> = {};
  let body: Uint8Array | null = null;
  const all: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const k = utf8.decode(fields[i]);
    if (k === bodyField && body === null) {
      body = bytesOf(fields[i + 1]);
      continue;
    }
    const v = utf8.decode(fields[i + 1]);
    all[k] = v;
    headers[k.toLowerCase()] = v;
  }
  if (body === null) {
    body = new TextEncoder().encode(JSON.stringify(all));
    headers["content-type"] = "application/json";
  }
  headers["x-redis-stream"] = stream;
  headers["x-redis-id"] = id;
  headers["x-redis-redelivered"] = String(redelivered);
  return { body, headers, dedupKey: `${stream}/${id}` };
}

function isNoGroup(e: unknown): boolean {
  return /^NOGROUP\b/.test(errorMessage(e));
}

export class RedisSource implements Source {
  readonly #consumer: string;

  constructor(readonly config: RedisSourceConfig, readonly ctx: SourceContext) {
    this.#consumer = config.consumer ?? ctx.nodeId;
  }

  start(signal: AbortSignal): Promise<void> {
    return supervise(
      this.ctx,
      signal,
      { broker: "redis", permanent: classifyRedis },
      (s, up) => this.#session(s, up),
    );
  }

  async #session(signal: AbortSignal, up: (s?: Record<string, unknown>) => void): Promise<void> {
    const c = this.config;
    const client = await openRedis(c, {
      timeoutMs: c.timeout_ms,
      commandTimeoutMs: c.block_ms + c.timeout_ms,
      outbound: this.ctx.outbound,
      log: this.ctx.log,
    });
    // A blocked read ends at once when the trigger stops.
    const onAbort = () => client.disconnect();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      await this.#ensureGroup(client, false);
      up({ stream: c.stream, group: c.group, consumer: this.#consumer });
      await this.#consume(client, signal);
    } catch (e) {
      if (!signal.aborted) throw e;
    } finally {
      signal.removeEventListener("abort", onAbort);
      client.disconnect();
    }
  }

  /** Creates the group (and stream) when missing; `lost` = it existed and vanished. */
  async #ensureGroup(client: Redis, lost: boolean): Promise<void> {
    const c = this.config;
    const mark = `group-created ${c.stream} ${c.group}`;
    const existed = lost || (await this.ctx.cursor.get()) === mark;
    try {
      await client.call(
        "XGROUP",
        "CREATE",
        c.stream,
        c.group,
        existed ? "0" : c.start_id,
        "MKSTREAM",
      );
      if (existed) {
        this.ctx.log.warn("redis consumer group was gone: created it again from the start", {
          stream: c.stream,
          group: c.group,
        });
      }
    } catch (e) {
      if (!/^BUSYGROUP\b/.test(errorMessage(e))) throw e;
    }
    // Remembered durably: if the group vanishes later, it is re-created from "0".
    await this.ctx.cursor.set(mark);
  }

  async #consume(client: Redis, signal: AbortSignal): Promise<void> {
    const c = this.config;
    let ownPending = true;
    let pendingFrom = "0";
    let claimFrom = "0-0";
    let claimAt = Date.now() + Math.min(c.claim_idle_ms, 5_000);
    let infoAt = 0;
    while (!signal.aborted) {
      const now = Date.now();
      if (now >= infoAt) {
        infoAt = now + INFO_EVERY_MS;
        await this.#reportInfo(client);
      }
      let entries: Entry[];
      let redelivered = true;
      try {
        if (ownPending) {
          entries = await this.#read(client, pendingFrom, null);
          if (entries.length === 0) ownPending = false;
          else pendingFrom = utf8.decode(entries[entries.length - 1][0]);
        } else if (now >= claimAt) {
          const [next, claimed] = await this.#claim(client, claimFrom);
          entries = claimed;
          claimFrom = next;
          // A full sweep done: the next one after a while.
          if (next === "0-0") claimAt = now + Math.min(c.claim_idle_ms, 30_000);
        } else {
          redelivered = false;
          entries = await this.#read(client, ">", Math.min(c.block_ms, claimAt - now));
        }
      } catch (e) {
        if (signal.aborted) return;
        if (!isNoGroup(e)) throw e;
        await this.#ensureGroup(client, true);
        ownPending = true;
        pendingFrom = "0";
        continue;
      }
      if (entries.length === 0) continue;
      const ids = entries.map(([id]) => utf8.decode(id));
      const events: SourceEvent[] = [];
      for (let i = 0; i < entries.length; i++) {
        const fields = entries[i][1];
        // Deleted (XDEL/trim) while pending: nothing to emit, only the ack is left to do.
        if (fields) events.push(redisEvent(c.stream, c.body_field, ids[i], fields, redelivered));
      }
      const r = await commitBatch(this.ctx, events, signal);
      if (!r) return; // stopping before the commit: the entries stay pending for us
      await client.call("XACK", c.stream, c.group, ...ids);
    }
  }

  /** XREADGROUP of `from` ("0": own pending after the last id; ">": new, blocking). */
  async #read(client: Redis, from: string, blockMs: number | null): Promise<Entry[]> {
    const c = this.config;
    const args: (string | number)[] = ["GROUP", c.group, this.#consumer, "COUNT", c.count];
    if (blockMs !== null) args.push("BLOCK", Math.max(1, Math.round(blockMs)));
    args.push("STREAMS", c.stream, from);
    const reply = await client.callBuffer("XREADGROUP", args) as unknown[] | null;
    if (!reply || reply.length === 0) return [];
    // RESP2 answers [[stream, entries]]; RESP3's map arrives flattened as [stream, entries].
    const pair = Array.isArray(reply[0]) ? reply[0] as unknown[] : reply;
    return (pair[1] ?? []) as Entry[];
  }

  /** XAUTOCLAIM: entries idle at any consumer for claim_idle_ms; [next cursor, entries]. */
  async #claim(client: Redis, from: string): Promise<[string, Entry[]]> {
    const c = this.config;
    const reply = await client.callBuffer("XAUTOCLAIM", [
      c.stream,
      c.group,
      this.#consumer,
      c.claim_idle_ms,
      from,
      "COUNT",
      c.count,
    ]) as [Uint8Array, Entry[], Uint8Array[]?];
    const entries = reply[1] ?? [];
    if (entries.length) {
      this.ctx.log.info("redis consumer claimed idle pending entries", { count: entries.length });
    }
    return [utf8.decode(reply[0]), entries];
  }

  async #reportInfo(client: Redis): Promise<void> {
    let rows: unknown[][];
    try {
      rows = await client.call("XINFO", "GROUPS", this.config.stream) as unknown[][];
    } catch (e) {
      // A missing stream shows up as NOGROUP on the next read, which re-creates it.
      this.ctx.log.debug("redis XINFO GROUPS failed", { error: errorMessage(e) });
      return;
    }
    for (const row of rows) {
      const info: Record<string, unknown> = {};
      for (let i = 0; i + 1 < row.length; i += 2) info[String(row[i])] = row[i + 1];
      if (info.name !== this.config.group) continue;
      const lag = info.lag === null || info.lag === undefined ? null : Number(info.lag);
      this.ctx.report({ lag, pending: Number(info.pending ?? 0) });
    }
  }
}

export const redisSourceFactory: SourceFactory<RedisSourceConfig> = {
  type: "redis",
  schema: redisSourceSchema,
  parseConfig: parseRedisSourceConfig,
  create: (config, ctx) => new RedisSource(config, ctx),
};
