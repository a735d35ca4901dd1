/**
 * SNS publisher: PublishBatch in requests of at most 10 messages and `max_batch_bytes`, Publish
 * for a lone message (the loop, FIFO order keeping and partial failures are shared with SQS in
 * ../sqs/batching.ts; the client, health and per-message attributes in ../sqs/batch_publisher.ts).
 *
 * - Attributes as for SQS: `delivery_id`, `event_id` (and `body_encoding=base64` for a
 *   non-text body) win; headers follow in name order up to 10 attributes. Subscribers with raw
 *   message delivery see them as their own message attributes.
 * - FIFO topics (ARN ending in `.fifo`): MessageGroupId = Outgoing.key, else
 *   `message_group_id`, else "default"; MessageDeduplicationId = delivery id.
 * - Per-entry `Failed` answers are permanent when `SenderFault`, else retriable.
 */
import {
  PublishBatchCommand,
  type PublishBatchRequestEntry,
  type PublishBatchResponse,
  PublishCommand,
  SNSClient,
  type SNSClientConfig,
} from "@aws-sdk/client-sns";
import type { PublisherContext, PublisherFactory } from "../../../core/ports.ts";
import { clientOptions, requireCredentials } from "../sqs/aws.ts";
import { AwsBatchPublisher } from "../sqs/batch_publisher.ts";
import {
  isFifoTopic,
  parseSnsConfig,
  regionOfTopicArn,
  type SnsConfig,
  snsConfigSchema,
} from "./config.ts";

/** The part of SNSClient the publisher uses (tests may pass a stand-in). */
export interface SnsClientLike {
  send(
    command: PublishBatchCommand | PublishCommand,
    options: { abortSignal: AbortSignal },
  ): Promise<unknown>;
  destroy(): void;
}

export type MakeSnsClient = (options: SNSClientConfig) => SnsClientLike;

const defaultMakeClient: MakeSnsClient = (options) => new SNSClient(options) as SnsClientLike;

export class SnsPublisher extends AwsBatchPublisher<PublishBatchRequestEntry, SnsClientLike> {
  constructor(config: SnsConfig, ctx: PublisherContext, makeClient = defaultMakeClient) {
    const topicArn = config.topic_arn;
    super(config, ctx, {
      kind: "sns",
      target: topicArn,
      connecting: `sns connect for ${topicArn}`,
      batchName: "sns PublishBatch",
      oneName: "sns Publish",
      fifo: isFifoTopic(config),
      makeClient: (agents) =>
        makeClient(clientOptions(config, config.region ?? regionOfTopicArn(topicArn), agents)),
      entry: (Id, text, attrs) => ({ Id, Message: text, MessageAttributes: attrs }),
      sendBatch: async (client, entries, options) => {
        const cmd = new PublishBatchCommand({
          TopicArn: topicArn,
          PublishBatchRequestEntries: entries,
        });
        return await client.send(cmd, options) as PublishBatchResponse;
      },
      sendOne: (client, { Id: _id, ...entry }, options) =>
        client.send(new PublishCommand({ TopicArn: topicArn, ...entry }), options),
    });
  }
}

export const snsPublisherFactory: PublisherFactory<SnsConfig> = {
  type: "sns",
  schema: snsConfigSchema,
  parseConfig: parseSnsConfig,
  create: (config, ctx) => new SnsPublisher(config, ctx),
};

/** For destinations not owned by an admin: access keys required (see requireCredentials). */
export const tenantSnsPublisherFactory = requireCredentials(snsPublisherFactory);
