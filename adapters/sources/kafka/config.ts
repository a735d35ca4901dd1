/**
 * Trigger config of type `kafka`, e.g. `{"brokers": ["kafka-1:9092"], "topic": "orders",
 * "group_id": "event-router-orders", "from_beginning": true}`; `topics` for several, `sasl`
 * and `ssl` as for the destination (the SASL password is sealed at rest).
 */
import { z } from "zod";
import { parseConfigWith } from "../../brokers/errors.ts";
import { kafkaConnectionShape, kafkaTopic } from "../../brokers/kafka/client.ts";

export const kafkaSourceSchema = z.strictObject({
  ...kafkaConnectionShape,
  topic: kafkaTopic.optional(),
  topics: z.array(kafkaTopic).min(1).max(100).optional(),
  /** The consumer group: nodes (and other consumers) in one group share the partitions. */
  group_id: z.string().min(1).max(255),
  /** A new group starts at the oldest message instead of the next one. */
  from_beginning: z.boolean().default(false),
  /** A consumer silent this long leaves the group and its partitions move (ms). */
  session_timeout_ms: z.number().int().min(6_000).max(300_000).default(30_000),
  /** Most messages in one commit to the store. */
  max_batch: z.number().int().min(1).max(10_000).default(500),
}).refine((c) => !!c.topic !== !!c.topics, {
  message: "set exactly one of topic or topics",
  path: ["topic"],
});

export type KafkaSourceConfig = z.output<typeof kafkaSourceSchema>;

export function parseKafkaSourceConfig(input: unknown): KafkaSourceConfig {
  return parseConfigWith("kafka", kafkaSourceSchema, input);
}
