/**
 * SQS publisher: SendMessageBatch in requests of at most 10 messages and `max_batch_bytes`
 * (the loop, FIFO order keeping and partial failures are in batching.ts).
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
import type {
  Outgoing,
  Publisher,
  PublisherContext,
  PublisherFactory,
  PublishResult,
} from "../../../core/ports.ts";
import { type PreparedEntry, publishPrepared } from "./batching.ts";
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
} from "./aws.ts";
import { isFifoQueue, parseSqsConfig, regionOfQueueUrl, type SqsConfig } from "./config.ts";

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

type Prepared = PreparedEntry<SendMessageBatchRequestEntry>;

export class SqsPublisher implements Publisher {
  readonly #config: SqsConfig;
  readonly #ctx: PublisherContext;
  readonly #makeClient: MakeSqsClient;
  readonly #fifo: boolean;
  #client: SqsClientLike | null = null;
  #reachable: boolean | undefined;

  constructor(config: SqsConfig, ctx: PublisherContext, makeClient = defaultMakeClient) {
    this.#config = config;
    this.#ctx = ctx;
    this.#makeClient = makeClient;
    this.#fifo = isFifoQueue(config);
  }

  /** Creates the client (no network call besides the address guard on a custom endpoint). */
  async connect(signal: AbortSignal): Promise<void> {
    if (this.#client) return;
    signal.throwIfAborted();
    const host = endpointHost(this.#config);
    if (host) await this.#ctx.checkHost(host);
    const region = this.#config.region ?? regionOfQueueUrl(this.#config.queue_url)!;
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
        message: `sqs connect to ${this.#config.queue_url}: ${(err as Error)?.message ?? err}`,
      });
    }
    const client = this.#client!;
    const prepared = await Promise.all(batch.map((m, i) => this.#prepare(m, i)));
    const queueUrl = this.#config.queue_url;
    const bound = (s: AbortSignal) => ({ abortSignal: boundedSignal(s, this.#config.timeout_ms) });
    return publishPrepared(prepared, {
      fifo: this.#fifo,
      concurrency: this.#config.concurrency,
      maxBytes: this.#config.max_batch_bytes,
      maxCount: 10,
    }, {
      batchName: "sqs SendMessageBatch",
      oneName: "sqs SendMessage",
      sendBatch: async (entries, s) => {
        const cmd = new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries });
        const answer = await client.send(cmd, bound(s)) as SendMessageBatchResult;
        this.#reachable = true;
        return answer;
      },
      sendOne: async ({ Id: _id, ...entry }, s) => {
        await client.send(new SendMessageCommand({ QueueUrl: queueUrl, ...entry }), bound(s));
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
      this.#ctx.log.warn("sqs: headers not carried as message attributes", {
        delivery_id: m.id,
        dropped,
      });
    }
    const entry: SendMessageBatchRequestEntry = {
      Id: `m${i}`,
      MessageBody: text,
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
    const where = `${what} ${this.#config.queue_url}`;
    const c = classifyAwsError(err, where, this.#config.timeout_ms, signal);
    if (!signal.aborted) this.#reachable = c.permanent;
    return c;
  }
}

export const sqsPublisherFactory: PublisherFactory<SqsConfig> = {
  type: "sqs",
  parseConfig: parseSqsConfig,
  create: (config, ctx) => new SqsPublisher(config, ctx),
};
