/**
 * SQS publisher: SendMessageBatch in requests of at most 10 messages and `max_batch_bytes`
 * (the loop, FIFO order keeping and partial failures are in batching.ts; the client, health
 * and per-message attributes in batch_publisher.ts, shared with SNS).
 *
 * - Attributes: `delivery_id`, `event_id` (and `body_encoding=base64` for a non-text body) win;
 *   headers follow in name order until SQS's limit of 10 attributes (see `messageAttributes`).
 * - FIFO queues (URL ending in `.fifo`): MessageGroupId = Outgoing.key, else `message_group_id`,
 *   else "default"; MessageDeduplicationId = delivery id.
 * - Per-entry `Failed` answers are permanent when `SenderFault`, else retriable.
 * - connect() makes no call besides the address guard on a custom endpoint; the SDK makes one
 *   attempt per call (the dispatcher owns retries), bounded by `timeout_ms` and the signal.
 */
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SendMessageBatchResult,
  SendMessageCommand,
  SQSClient,
  type SQSClientConfig,
} from "@aws-sdk/client-sqs";
import type { PublisherContext, PublisherFactory } from "../../../core/ports.ts";
import { clientOptions, requireCredentials } from "./aws.ts";
import { AwsBatchPublisher } from "./batch_publisher.ts";
import {
  isFifoQueue,
  parseSqsConfig,
  regionOfQueueUrl,
  type SqsConfig,
  sqsConfigSchema,
} from "./config.ts";

/** The part of SQSClient the publisher uses (tests may pass a stand-in). */
export interface SqsClientLike {
  send(
    command: SendMessageBatchCommand | SendMessageCommand,
    options: { abortSignal: AbortSignal },
  ): Promise<unknown>;
  destroy(): void;
}

export type MakeSqsClient = (options: SQSClientConfig) => SqsClientLike;

const defaultMakeClient: MakeSqsClient = (options) => new SQSClient(options) as SqsClientLike;

export class SqsPublisher extends AwsBatchPublisher<SendMessageBatchRequestEntry, SqsClientLike> {
  constructor(config: SqsConfig, ctx: PublisherContext, makeClient = defaultMakeClient) {
    const queueUrl = config.queue_url;
    super(config, ctx, {
      kind: "sqs",
      target: queueUrl,
      connecting: `sqs connect to ${queueUrl}`,
      batchName: "sqs SendMessageBatch",
      oneName: "sqs SendMessage",
      fifo: isFifoQueue(config),
      makeClient: (agents) =>
        makeClient(clientOptions(config, config.region ?? regionOfQueueUrl(queueUrl)!, agents)),
      entry: (Id, text, attrs) => ({ Id, MessageBody: text, MessageAttributes: attrs }),
      sendBatch: async (client, entries, options) => {
        const cmd = new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries });
        return await client.send(cmd, options) as SendMessageBatchResult;
      },
      sendOne: (client, { Id: _id, ...entry }, options) =>
        client.send(new SendMessageCommand({ QueueUrl: queueUrl, ...entry }), options),
    });
  }
}

export const sqsPublisherFactory: PublisherFactory<SqsConfig> = {
  type: "sqs",
  schema: sqsConfigSchema,
  parseConfig: parseSqsConfig,
  create: (config, ctx) => new SqsPublisher(config, ctx),
};

/** For destinations not owned by an admin: access keys required (see requireCredentials). */
export const tenantSqsPublisherFactory = requireCredentials(sqsPublisherFactory);
