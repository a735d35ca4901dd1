/**
 * Trigger config of type `sqs`, e.g. `{"queue_url":
 * "https://sqs.us-east-1.amazonaws.com/123456789012/orders", "access_key_id": "...",
 * "secret_access_key": "..."}`; `endpoint` for moto, LocalStack or a VPC endpoint. Without
 * credentials the SDK's default chain applies (environment, instance role).
 */
import { z } from "zod";
import { awsConnectionShape, parseWith } from "../../brokers/sqs/aws.ts";
import { checkQueueConnection, queueUrl } from "../../brokers/sqs/config.ts";

export const sqsSourceSchema = z.strictObject({
  queue_url: queueUrl,
  ...awsConnectionShape,
  /** Long polling: how long one ReceiveMessage waits for messages (0 to 20 s). */
  wait_seconds: z.number().int().min(0).max(20).default(20),
  /** Seconds a received message stays hidden from other consumers; the queue's own when absent. */
  visibility_timeout: z.number().int().min(0).max(43_200).optional(),
  /** Messages per ReceiveMessage (SQS allows 10 at most). */
  max_messages: z.number().int().min(1).max(10).default(10),
  /** ReceiveMessage calls in flight at once; what they bring is committed together. */
  receivers: z.number().int().min(1).max(16).default(4),
}).superRefine(checkQueueConnection);

export type SqsSourceConfig = z.output<typeof sqsSourceSchema>;

export function parseSqsSourceConfig(input: unknown): SqsSourceConfig {
  return parseWith("sqs", sqsSourceSchema, input);
}
