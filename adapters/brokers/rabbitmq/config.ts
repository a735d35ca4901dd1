/** Destination config of type `rabbitmq`. */
import { z } from "zod";
import { parseConfigWith } from "../errors.ts";

const name = z.string().min(1).max(255);

export const rabbitmqConfigSchema = z.strictObject({
  /** amqp://user:pass@host:5672/vhost (amqps:// for TLS). */
  url: z.string().regex(/^amqps?:\/\/[^/]/, "expected an amqp:// or amqps:// URL"),
  /** Exchange to publish to; omitted (or "") means the default exchange with `queue`. */
  exchange: z.string().max(255).optional(),
  /** Routing key; defaults to `queue`, else "". */
  routing_key: z.string().max(255).optional(),
  /** Queue: the target on the default exchange, or the queue to declare and bind. */
  queue: name.optional(),
  /** Declare exchange/queue (and bind them) on connect; nothing is declared when omitted. */
  declare: z.strictObject({
    exchange_type: z.enum(["direct", "topic", "fanout", "headers"]).default("direct"),
    durable: z.boolean().default(true),
    queue_type: z.enum(["classic", "quorum"]).default("classic"),
  }).optional(),
  /** Unroutable messages come back and fail (permanently) instead of vanishing. */
  mandatory: z.boolean().default(true),
  /** Static headers added to every message (message headers win). */
  headers: z.record(z.string(), z.string()).optional(),
  /** Bound on connecting and on waiting for publisher confirms, in ms. */
  timeout_ms: z.number().int().min(100).max(120_000).default(10_000),
}).refine((c) => !!c.exchange || !!c.queue, {
  message: "set exchange or queue (the default exchange needs a queue name)",
  path: ["queue"],
});

export type RabbitmqConfig = z.output<typeof rabbitmqConfigSchema>;

export function parseRabbitmqConfig(input: unknown): RabbitmqConfig {
  return parseConfigWith("rabbitmq", rabbitmqConfigSchema, input);
}
