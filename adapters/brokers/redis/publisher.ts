/**
 * Redis Streams publisher (ioredis): one connection per destination, one pipeline of XADDs
 * per batch, one result per command.
 *
 * - Entry fields: `id` (delivery id), `event_id`, `body` (the raw bytes), `headers` (JSON of
 *   Outgoing.headers), `attempt`, then the config's constant `fields`.
 *   `maxlen` adds `MAXLEN ~ n`; `create_stream: false` adds NOMKSTREAM.
 * - The connection never queues commands while down (enableOfflineQueue false) and never
 *   reconnects on its own (retryStrategy null): a failed or lost connection is replaced on
 *   the next publish, after a backoff pause. Connect and each batch are bounded by
 *   `timeout_ms` (ioredis connectTimeout/commandTimeout too) and by the AbortSignal.
 * - Failures (see ../errors.ts): WRONGPASS/NOAUTH/NOPERM (credentials, ACL), WRONGTYPE (the key
 *   is not a stream), a missing stream with `create_stream: false` -> permanent; connection
 *   errors, timeouts, OOM, LOADING, BUSY, READONLY (failover) -> retriable.
 */
import { Buffer } from "node:buffer";
import type { Redis } from "ioredis";
import type {
  Outgoing,
  Publisher,
  PublisherContext,
  PublisherFactory,
  PublishResult,
} from "../../../core/ports.ts";
import { bounded, errorMessage, failure, PublishError, Reconnector } from "../errors.ts";
import { parseRedisConfig, type RedisConfig, redisConfigSchema } from "./config.ts";
import { classifyRedis, openRedis } from "./connection.ts";

export { classifyRedis };

export class RedisPublisher implements Publisher {
  #client: Redis | null = null;
  #opening: Promise<Redis> | null = null;
  #reconnect = new Reconnector("redis");
  constructor(readonly config: RedisConfig, readonly ctx: PublisherContext) {}

  healthy(): boolean {
    return this.#client?.status === "ready";
  }

  async connect(signal: AbortSignal): Promise<void> {
    await this.#ready(signal);
  }

  async close(): Promise<void> {
    const c = this.#client;
    this.#client = null;
    this.#opening = null;
    this.#reconnect.succeeded();
    if (c) {
      await bounded(c.quit(), this.config.timeout_ms, undefined, "redis quit").catch(() => {});
      c.disconnect();
    }
  }

  async publish(batch: readonly Outgoing[], signal: AbortSignal): Promise<PublishResult[]> {
    if (batch.length === 0) return [];
    if (signal.aborted) return batch.map(() => failure("redis: publish aborted", false));
    let client: Redis;
    try {
      client = await this.#ready(signal);
    } catch (e) {
      const r = e instanceof PublishError
        ? failure(e.message, e.permanent, e.retryAfterMs)
        : failure(`redis: ${errorMessage(e)}`, classifyRedis(e));
      return batch.map(() => r);
    }
    const pipeline = client.pipeline();
    for (const m of batch) pipeline.xadd(this.config.stream, ...this.#args(m));
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await bounded(
        pipeline.exec(),
        this.config.timeout_ms,
        signal,
        `redis XADD to ${this.config.stream}`,
      );
    } catch (e) {
      const why = `redis: ${errorMessage(e)}`;
      if (!signal.aborted) this.#drop(client, why);
      return batch.map(() => failure(why, classifyRedis(e)));
    }
    if (!replies) {
      const why = "redis: pipeline discarded (connection lost)";
      this.#drop(client, why);
      return batch.map(() => failure(why, false));
    }
    return batch.map((_, i) => {
      const [err, id] = replies![i] ?? [new Error("no reply"), null];
      if (err) {
        const permanent = classifyRedis(err);
        // A connection-level error on one command means the connection is in doubt.
        if (!permanent && client.status !== "ready") this.#drop(client, err.message);
        return failure(`redis: ${err.message}`, permanent);
      }
      if (id === null) {
        return failure(
          `redis: stream "${this.config.stream}" does not exist (create_stream is false)`,
          true,
        );
      }
      return { ok: true };
    });
  }

  #args(m: Outgoing): (string | Buffer)[] {
    const args: (string | Buffer)[] = [];
    if (!this.config.create_stream) args.push("NOMKSTREAM");
    if (this.config.maxlen) args.push("MAXLEN", "~", String(this.config.maxlen));
    args.push(
      "*",
      "id",
      m.id,
      "event_id",
      m.eventId,
      "body",
      Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength),
      "headers",
      JSON.stringify(m.headers),
      "attempt",
      String(m.attempt),
    );
    for (const [k, v] of Object.entries(this.config.fields ?? {})) args.push(k, v);
    return args;
  }

  #drop(client: Redis, why: string, pause = true) {
    if (this.#client === client) this.#client = null;
    this.#reconnect.dropped(why, pause);
    client.disconnect();
  }

  #ready(signal: AbortSignal): Promise<Redis> {
    const c = this.#client;
    if (c && c.status === "ready") return Promise.resolve(c);
    // Found dead while idle (server restarted, idle timeout): reconnect at once.
    if (c) this.#drop(c, `connection ${c.status}`, false);
    this.#opening ??= this.#open().finally(() => (this.#opening = null));
    return bounded(this.#opening, this.config.timeout_ms + 1_000, signal, "redis connect");
  }

  async #open(): Promise<Redis> {
    this.#reconnect.check();
    try {
      const client = await openRedis(this.config, {
        timeoutMs: this.config.timeout_ms,
        outbound: this.ctx,
        log: this.ctx.log,
      });
      this.#client = client;
      this.#reconnect.succeeded();
      return client;
    } catch (e) {
      const pe = e as PublishError;
      throw this.#reconnect.failed(pe.message, pe.permanent);
    }
  }
}

export const redisPublisherFactory: PublisherFactory<RedisConfig> = {
  type: "redis",
  schema: redisConfigSchema,
  parseConfig: parseRedisConfig,
  create: (config, ctx) => new RedisPublisher(config, ctx),
};
