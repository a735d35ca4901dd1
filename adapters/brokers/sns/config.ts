/**
 * SNS destination config, e.g. `{"topic_arn": "arn:aws:sns:us-east-1:123456789012:orders",
 * "access_key_id": "...", "secret_access_key": "..."}` (region taken from the ARN when absent).
 */
import { z } from "zod";
import {
  type AwsConnection,
  awsPublisherShape,
  checkCredentialPair,
  parseWith,
} from "../sqs/aws.ts";

const TOPIC_ARN = /^arn:aws[a-z-]*:sns:([a-z0-9-]+):\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;

export const snsConfigSchema = z.object({
  topic_arn: z.string().regex(TOPIC_ARN, "must look like arn:aws:sns:us-east-1:123456789012:name"),
  ...awsPublisherShape,
  /** FIFO topics: the group of messages that have no key (default "default"). */
  message_group_id: z.string().min(1).max(128).optional(),
  /** Standard topics: batch requests in flight at once (FIFO topics send one at a time). */
  concurrency: z.number().int().min(1).max(16).default(4),
}).strict().superRefine((c, ctx) => checkCredentialPair(c, ctx));

export type SnsConfig = z.infer<typeof snsConfigSchema> & AwsConnection;

export function regionOfTopicArn(arn: string): string {
  return arn.match(TOPIC_ARN)![1];
}

export function parseSnsConfig(config: unknown): SnsConfig {
  return parseWith("sns", snsConfigSchema, config);
}

export function isFifoTopic(c: SnsConfig): boolean {
  return c.topic_arn.endsWith(".fifo");
}
