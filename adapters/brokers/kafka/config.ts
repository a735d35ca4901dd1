/** Destination config of type `kafka`. */
import { z } from "zod";
import { parseConfigWith } from "../errors.ts";
import { kafkaConnectionShape, kafkaTopic } from "./client.ts";
import { compileKey } from "./key.ts";

export const kafkaConfigSchema = z.strictObject({
  ...kafkaConnectionShape,
  topic: kafkaTopic,
  /**
   * Message key when the delivery has none: a template ("{{body.order_id}}",
   * "{{headers.x-tenant}}-{{body.id}}", "{{id}}", "{{event_id}}"), a JSON path into the body
   * ("$.order.id"), or a constant.
   */
  key: z.string().min(1).max(500).refine((k) => {
    try {
      compileKey(k);
      return true;
    } catch {
      return false;
    }
  }, "expected a template like {{body.order_id}}, a JSON path like $.order_id, or a constant")
    .optional(),
  /** -1 = all in-sync replicas (required by the idempotent producer), 1 = leader, 0 = none. */
  acks: z.union([z.literal(-1), z.literal(0), z.literal(1)]).default(-1),
  /** Idempotent producer (no duplicates from the producer's own retries); needs acks -1. */
  idempotent: z.boolean().default(true),
  /** kafkajs ships gzip only; snappy/lz4/zstd would need extra codecs. */
  compression: z.enum(["none", "gzip"]).default("none"),
  /** Let the broker create a missing topic (if its auto.create.topics.enable allows). */
  allow_auto_topic_creation: z.boolean().default(true),
  /** Static headers added to every message (message headers win). */
  headers: z.record(z.string(), z.string()).optional(),
}).refine((c) => !c.idempotent || c.acks === -1, {
  message: "the idempotent producer needs acks -1 (set idempotent: false for acks 0 or 1)",
  path: ["acks"],
});

export type KafkaConfig = z.output<typeof kafkaConfigSchema>;

export function parseKafkaConfig(input: unknown): KafkaConfig {
  return parseConfigWith("kafka", kafkaConfigSchema, input);
}
