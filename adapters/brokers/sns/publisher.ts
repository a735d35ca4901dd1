/**
 * SNS publisher: PublishBatch in requests of at most 10 messages and `max_batch_bytes`, Publish
 * for a lone message (the loop, FIFO order keeping and partial failures are shared with SQS in
 * ../sqs/batching.ts).
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
import type {
  Outgoing,
  Publisher,
  PublisherContext,
  PublisherFactory,
  PublishResult,
} from "../../../core/ports.ts";
import { type PreparedEntry, publishPrepared } from "../sqs/batching.ts";
import {
  boundedSignal,
  classifyAwsError,
  clientOptions,
  encodeBody,
  endpointHost,
  type ErrorClass,
  failAll,
  fifoId,
  messageAttributes,
  messageBytes,
} from "../sqs/aws.ts";
import { isFifoTopic, parseSnsConfig, regionOfTopicArn, type SnsConfig } from "./config.ts";

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

type Prepared = PreparedEntry<PublishBatchRequestEntry>;

export class SnsPublisher implements Publisher {
  readonly #config: SnsConfig;
  readonly #ctx: PublisherContext;
  readonly #makeClient: MakeSnsClient;
  readonly #fifo: boolean;
  #client: SnsClientLike | null = null;
  #reachable: boolean | undefined;

  constructor(config: SnsConfig, ctx: PublisherContext, makeClient = defaultMakeClient) {
    this.#config = config;
    this.#ctx = ctx;
    this.#makeClient = makeClient;
    this.#fifo = isFifoTopic(config);
  }

  /** Creates the client (no network call besides the address guard on a custom endpoint). */
  async connect(signal: AbortSignal): Promise<void> {
    if (this.#client) return;
    signal.throwIfAborted();
    const host = endpointHost(this.#config);
    if (host) await this.#ctx.checkHost(host);
    const region = this.#config.region ?? regionOfTopicArn(this.#config.topic_arn);
    this.#client = this.#makeClient(clientOptions(this.#config, region));
    this.#reachable = undefined;
  }

  async publish(batch: readonly Outgoing[], signal: AbortSignal): Promise<PublishResult[]> {
    if (batch.length === 0) return [];
    try {
      await this.connect(signal);
    } catch (err) {
      return failAll(batch.length, {
        permanent: !signal.aborted,
        target: true,
        message: `sns connect for ${this.#config.topic_arn}: ${(err as Error)?.message ?? err}`,
      });
    }
    const client = this.#client!;
    const prepared = await Promise.all(batch.map((m, i) => this.#prepare(m, i)));
    const topicArn = this.#config.topic_arn;
    const bound = (s: AbortSignal) => ({ abortSignal: boundedSignal(s, this.#config.timeout_ms) });
    return publishPrepared(prepared, {
      fifo: this.#fifo,
      concurrency: this.#config.concurrency,
      maxBytes: this.#config.max_batch_bytes,
      maxCount: 10,
    }, {
      batchName: "sns PublishBatch",
      oneName: "sns Publish",
      sendBatch: async (entries, s) => {
        const cmd = new PublishBatchCommand({
          TopicArn: topicArn,
          PublishBatchRequestEntries: entries,
        });
        const answer = await client.send(cmd, bound(s)) as PublishBatchResponse;
        this.#reachable = true;
        return answer;
      },
      sendOne: async ({ Id: _id, ...entry }, s) => {
        await client.send(new PublishCommand({ TopicArn: topicArn, ...entry }), bound(s));
        this.#reachable = true;
      },
      classify: (err, what, s) => this.#classify(err, what, s),
    }, signal);
  }

  close(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    this.#reachable = undefined;
    client?.destroy();
    return Promise.resolve();
  }

  /** False when closed or when the last call got no answer (network, timeout, 5xx). */
  healthy(): boolean {
    return this.#client !== null && this.#reachable !== false;
  }

  async #prepare(m: Outgoing, i: number): Promise<Prepared> {
    const { text, base64 } = encodeBody(m.body);
    const { attrs, dropped } = messageAttributes(m, base64);
    if (dropped.length) {
      this.#ctx.log.warn("sns: headers not carried as message attributes", {
        delivery_id: m.id,
        dropped,
      });
    }
    const entry: PublishBatchRequestEntry = {
      Id: `m${i}`,
      Message: text,
      MessageAttributes: attrs,
    };
    let group: string | undefined;
    if (this.#fifo) {
      group = await fifoId(m.key || this.#config.message_group_id || "default");
      entry.MessageGroupId = group;
      entry.MessageDeduplicationId = await fifoId(m.id);
    }
    return { entry, bytes: messageBytes(text, attrs), group };
  }

  #classify(err: unknown, what: string, signal: AbortSignal): ErrorClass {
    const where = `${what} ${this.#config.topic_arn}`;
    const c = classifyAwsError(err, where, this.#config.timeout_ms, signal);
    if (!signal.aborted) this.#reachable = c.permanent;
    return c;
  }
}

export const snsPublisherFactory: PublisherFactory<SnsConfig> = {
  type: "sns",
  parseConfig: parseSnsConfig,
  create: (config, ctx) => new SnsPublisher(config, ctx),
};
