/** Destination config of type `redis` (Redis Streams, XADD). */
import { z } from "zod";
import { parseConfigWith } from "../errors.ts";
import { oneEndpoint, redisConnectionShape } from "./connection.ts";

const RESERVED = ["id", "event_id", "body", "headers"];

export const redisConfigSchema = z.strictObject({
  ...redisConnectionShape,
  /** Stream key. */
  stream: z.string().min(1).max(1024),
  /** Cap the stream at about this many entries (XADD MAXLEN ~ n). */
  maxlen: z.number().int().min(1).optional(),
  /** When false, XADD uses NOMKSTREAM: a missing stream is a (permanent) failure. */
  create_stream: z.boolean().default(true),
  /** Extra constant fields on every entry (beside id, event_id, body, headers). */
  fields: z.record(z.string().min(1), z.string()).superRefine((fields, ctx) => {
    for (const k of Object.keys(fields)) {
      if (RESERVED.includes(k)) {
        ctx.addIssue({
          code: "custom",
          path: [k],
          message: `reserved field name (${RESERVED.join(", ")} are set by the publisher)`,
        });
      }
    }
  }).optional(),
  /** Bound on connecting and on each batch, in ms. */
  timeout_ms: z.number().int().min(100).max(120_000).default(5_000),
}).superRefine(oneEndpoint);

export type RedisConfig = z.output<typeof redisConfigSchema>;

export function parseRedisConfig(input: unknown): RedisConfig {
  return parseConfigWith("redis", redisConfigSchema, input);
}
