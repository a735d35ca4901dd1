/**
 * SQS destination config, e.g.
 * `{"queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/webhooks", "region":
 * "us-east-1", "access_key_id": "...", "secret_access_key": "..."}`.
 */
import { z } from "zod";
import { type AwsConnection, awsPublisherShape, checkCredentialPair, parseWith } from "./aws.ts";

export const queueUrl = z.url({ protocol: /^https?$/, error: "must be the queue's http(s) URL" });

export const sqsConfigSchema = z.object({
  queue_url: queueUrl,
  ...awsPublisherShape,
  /** FIFO queues: the group of messages that have no key (default "default"). */
  message_group_id: z.string().min(1).max(128).optional(),
  /** Standard queues: batch requests in flight at once (FIFO queues send one at a time). */
  concurrency: z.number().int().min(1).max(16).default(4),
}).strict().superRefine(checkQueueConnection);

/** Credentials come in pairs, and the region is given or inferable from the queue URL. */
export function checkQueueConnection(
  c: AwsConnection & { queue_url: string },
  ctx: z.RefinementCtx,
): void {
  checkCredentialPair(c, ctx);
  if (!c.region && !regionOfQueueUrl(c.queue_url)) {
    ctx.addIssue({
      code: "custom",
      path: ["region"],
      message: `required: cannot infer it from queue_url ${c.queue_url}`,
    });
  }
}

export type SqsConfig = z.infer<typeof sqsConfigSchema> & AwsConnection;

/** `sqs.<region>.amazonaws.com` (or `<region>.queue.amazonaws.com`) -> region. */
export function regionOfQueueUrl(url: string): string | undefined {
  const host = new URL(url).hostname;
  return host.match(/^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/)?.[1] ??
    host.match(/^([a-z0-9-]+)\.queue\.amazonaws\.com(\.cn)?$/)?.[1];
}

export function parseSqsConfig(config: unknown): SqsConfig {
  return parseWith("sqs", sqsConfigSchema, config);
}

export function isFifoQueue(c: { queue_url: string }): boolean {
  return new URL(c.queue_url).pathname.replace(/\/+$/, "").endsWith(".fifo");
}
