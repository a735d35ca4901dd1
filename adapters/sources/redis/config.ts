/**
 * Trigger config of type `redis` (Redis Streams consumer group), e.g. `{"url":
 * "redis://:pass@host:6379", "stream": "orders", "group": "event-router"}`; `address` plus
 * `username`/`password`/`db`/`tls` instead of `url` as for the destination.
 */
import { z } from "zod";
import { parseConfigWith } from "../../brokers/errors.ts";
import { oneEndpoint, redisConnectionShape } from "../../brokers/redis/connection.ts";

const name = z.string().min(1).max(255);

export const redisSourceSchema = z.strictObject({
  ...redisConnectionShape,
  /** Stream key. */
  stream: z.string().min(1).max(1024),
  /** Consumer group, created (with the stream) when missing. */
  group: name,
  /** This consumer's name in the group; the node id by default. */
  consumer: name.optional(),
  /** Where a new group starts: "$" (new entries only) or "0" (the whole stream), or an id. */
  start_id: z.string().regex(/^(\$|0|\d+(-\d+)?)$/, 'expected "$", "0" or a stream id')
    .default("$"),
  /** Entries pending this long at another (dead) consumer are claimed (XAUTOCLAIM), in ms. */
  claim_idle_ms: z.number().int().min(1_000).max(86_400_000).default(60_000),
  /** The field that is the event body; an entry without it becomes its fields as JSON. */
  body_field: z.string().min(1).max(255).default("body"),
  /** Most entries read (and committed) at once. */
  count: z.number().int().min(1).max(10_000).default(500),
  /** How long one XREADGROUP waits for new entries, in ms. */
  block_ms: z.number().int().min(100).max(30_000).default(2_000),
  /** Bound on connecting and on each command (besides the block), in ms. */
  timeout_ms: z.number().int().min(100).max(120_000).default(5_000),
}).superRefine(oneEndpoint);

export type RedisSourceConfig = z.output<typeof redisSourceSchema>;

export function parseRedisSourceConfig(input: unknown): RedisSourceConfig {
  return parseConfigWith("redis", redisSourceSchema, input);
}
