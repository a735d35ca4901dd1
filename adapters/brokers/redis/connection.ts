/**
 * What the Redis Streams publisher (destination) and consumer (trigger) share: the connection
 * fields of their configs, where to connect, opening a connection through the address guard
 * that never queues or reconnects by itself, and the error classification.
 */
import { isIP } from "node:net";
import type { Redis, RedisOptions } from "ioredis";
import { z } from "zod";
import type { Logger, Outbound } from "../../../core/ports.ts";
import { isForbiddenAddressError } from "../../../core/net/forbidden_address_error.ts";
import { bounded, errorMessage, hostOf, PublishError } from "../errors.ts";

/** Config fields of every Redis connection: `url`, or `address` plus the separate fields. */
export const redisConnectionShape = {
  /** redis://[user:password@]host:port[/db], or rediss:// for TLS. */
  url: z.string().regex(/^rediss?:\/\/[^/]/, "expected a redis:// or rediss:// URL").optional(),
  /** host:port, as an alternative to `url`. */
  address: z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:/]+):\d{1,5}$/, "expected host:port")
    .optional(),
  username: z.string().min(1).optional(),
  password: z.string().optional(),
  db: z.number().int().min(0).max(10_000).optional(),
  tls: z.boolean().optional(),
};

export interface RedisConnection {
  url?: string;
  address?: string;
  username?: string;
  password?: string;
  db?: number;
  tls?: boolean;
}

/** The check both configs add: exactly one of url or address. */
export function oneEndpoint(c: RedisConnection, ctx: z.RefinementCtx): void {
  if (!!c.url === !!c.address) {
    ctx.addIssue({ code: "custom", path: ["url"], message: "set exactly one of url or address" });
  }
}

const PERMANENT =
  /^(WRONGPASS|NOAUTH|NOPERM|WRONGTYPE)\b|^ERR (AUTH|syntax|wrong number|invalid password|unknown command|Client sent AUTH)/i;

export function classifyRedis(e: unknown): boolean {
  if (e instanceof PublishError) return e.permanent;
  return PERMANENT.test(errorMessage(e));
}

/** Where to connect, from `url` or `address`. */
export function redisEndpoint(c: RedisConnection): { host: string; options: RedisOptions } {
  const options: RedisOptions = {};
  let host: string;
  if (c.url) {
    const u = new URL(c.url);
    host = u.hostname.replace(/^\[|\]$/g, "");
    options.host = host;
    options.port = u.port ? Number(u.port) : 6379;
    if (u.username) options.username = decodeURIComponent(u.username);
    if (u.password) options.password = decodeURIComponent(u.password);
    const db = u.pathname.replace(/^\//, "");
    if (db) options.db = Number(db);
    if (u.protocol === "rediss:") options.tls = {};
  } else {
    host = hostOf(c.address!);
    options.host = host;
    options.port = Number(c.address!.slice(c.address!.lastIndexOf(":") + 1));
  }
  if (c.username) options.username = c.username;
  if (c.password !== undefined) options.password = c.password;
  if (c.db !== undefined) options.db = c.db;
  if (c.tls) options.tls = {};
  return { host, options };
}

export interface OpenRedisOptions {
  timeoutMs: number;
  /** Longest single command; longer than any BLOCK the caller uses. */
  commandTimeoutMs?: number;
  /** The address guard: the connection dials the address it checked. */
  outbound: Pick<Outbound, "resolve">;
  log: Logger;
}

/**
 * A ready connection to an address the guard checked. It never queues commands while down
 * and never reconnects by itself: the owner replaces a lost connection, after a backoff. A
 * refused address is a permanent PublishError; a failed connect throws with its first cause.
 */
export async function openRedis(c: RedisConnection, o: OpenRedisOptions): Promise<Redis> {
  const { host, options } = redisEndpoint(c);
  // ioredis dials the host it is given and takes no lookup: give it the checked address, and
  // the name as TLS servername so the certificate is still checked against it.
  let dial: string;
  try {
    [dial] = await o.outbound.resolve(host, options.port ?? 6379);
  } catch (e) {
    throw new PublishError(`redis: host refused: ${errorMessage(e)}`, isForbiddenAddressError(e));
  }
  const tls = options.tls
    ? { ...(isIP(host) ? {} : { servername: host }), ...options.tls }
    : undefined;
  // Loaded on first use (~45 ms at start otherwise); the coordinator imports it the same way.
  const { Redis } = await import("ioredis");
  const client = new Redis({
    ...options,
    host: dial,
    ...(tls ? { tls } : {}),
    lazyConnect: true,
    connectTimeout: o.timeoutMs,
    commandTimeout: o.commandTimeoutMs ?? o.timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    reconnectOnError: () => false,
    autoResubscribe: false,
    connectionName: "event-router",
  });
  // ioredis reports why a connection failed only as an "error" event; connect() itself
  // rejects with "Connection is closed.". Keep the first cause for the message.
  let cause: Error | null = null;
  client.on("error", (e: Error) => {
    cause ??= e;
    o.log.debug("redis connection error", { error: e.message });
  });
  try {
    await bounded(client.connect(), o.timeoutMs, undefined, "redis connect");
    return client;
  } catch (thrown) {
    client.disconnect();
    const e = cause ?? thrown;
    throw new PublishError(`redis: ${errorMessage(e)}`, classifyRedis(e));
  }
}
