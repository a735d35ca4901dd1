/**
 * Trigger config of type `rabbitmq`, e.g. `{"url": "amqp://user:pass@host:5672/", "queue":
 * "orders", "prefetch": 100, "declare": {"exchange": "shop", "routing_key": "order.*",
 * "exchange_type": "topic"}}`. Without `url` the node's RABBITMQ_URL is used (applied before
 * validation, as for destinations).
 */
import { z } from "zod";
import { parseConfigWith } from "../../brokers/errors.ts";

export const rabbitmqSourceSchema = z.strictObject({
  /** amqp://user:pass@host:5672/vhost (amqps:// for TLS); the password is sealed at rest. */
  url: z.string().regex(/^amqps?:\/\/[^/]/, "expected an amqp:// or amqps:// URL"),
  queue: z.string().min(1).max(255),
  /** Unacknowledged messages the broker hands over at once; also the largest commit batch. */
  prefetch: z.number().int().min(1).max(10_000).default(100),
  /** Declare the queue on connect, and bind it to `exchange` when that is set. */
  declare: z.strictObject({
    durable: z.boolean().default(true),
    queue_type: z.enum(["classic", "quorum"]).default("classic"),
    exchange: z.string().min(1).max(255).optional(),
    exchange_type: z.enum(["direct", "topic", "fanout", "headers"]).default("direct"),
    /** Binding key (the queue name when absent). */
    routing_key: z.string().max(255).optional(),
  }).optional(),
  /** Bound on connecting and on each broker call, in ms. */
  timeout_ms: z.number().int().min(100).max(120_000).default(10_000),
});

export type RabbitmqSourceConfig = z.output<typeof rabbitmqSourceSchema>;

export function parseRabbitmqSourceConfig(input: unknown): RabbitmqSourceConfig {
  return parseConfigWith("rabbitmq", rabbitmqSourceSchema, input);
}
