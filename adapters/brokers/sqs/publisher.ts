/**
 * SQS publisher: SendMessageBatch in requests of at most 10 messages and `max_batch_bytes`.
 *
 * - Attributes: `delivery_id`, `event_id` (and `body_encoding=base64` for a non-text body) win;
 *   headers follow in name order until SQS's limit of 10 attributes (see `messageAttributes`).
 * - FIFO queues (URL ending in `.fifo`): MessageGroupId = Outgoing.key, else `message_group_id`,
 *   else "default"; MessageDeduplicationId = delivery id. Requests go one at a time, and once a
 *   message of a group fails, the later messages of that group in the batch are not sent (they
 *   fail retriably) so the group's order survives the retry.
 * - A request refused as a whole for a message-level reason (one message too large, say) is
 *   resent message by message, so only the bad message fails. Per-entry `Failed` answers map to
 *   permanent when `SenderFault`, else retriable.
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
import {
  boundedSignal,
  chunk,
  classifyAwsError,
  clientOptions,
  encodeBody,
  endpointHost,
  entryFailure,
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

interface Prepared {
  entry: SendMessageBatchRequestEntry;
  bytes: number;
  group?: string;
}

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
      const aborted = signal.aborted;
      return failAll(batch.length, {
        permanent: !aborted,
        target: true,
        message: `sqs connect to ${this.#config.queue_url}: ${(err as Error).message ?? err}`,
      });
    }
    const client = this.#client!;
    const prepared = await Promise.all(batch.map((m, i) => this.#prepare(m, i)));
    const chunks = chunk(prepared.map((p) => p.bytes), 10, this.#config.max_batch_bytes);
    const results: PublishResult[] = new Array(batch.length);

    if (this.#fifo) {
      const failedGroups = new Set<string>();
      for (const idx of chunks) {
        const send = idx.filter((i) => !failedGroups.has(prepared[i].group!));
        for (const i of idx) {
          if (failedGroups.has(prepared[i].group!)) {
            results[i] = {
              ok: false,
              permanent: false,
              error: `sqs: not sent, an earlier message of group ${prepared[i].group} failed`,
            };
          }
        }
        await this.#sendChunk(client, prepared, send, results, signal);
        for (const i of send) if (!results[i].ok) failedGroups.add(prepared[i].group!);
      }
    } else {
      let next = 0;
      const worker = async () => {
        while (next < chunks.length) {
          const idx = chunks[next++];
          await this.#sendChunk(client, prepared, idx, results, signal);
        }
      };
      await Promise.all(
        Array.from({ length: Math.min(this.#config.concurrency, chunks.length) }, worker),
      );
    }
    return results;
  }

  close(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    this.#reachable = undefined;
    client?.destroy();
    return Promise.resolve();
  }

  /** False once a call got no answer (network, timeout, 5xx); undefined before any call. */
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

  async #sendChunk(
    client: SqsClientLike,
    prepared: Prepared[],
    idx: number[],
    results: PublishResult[],
    signal: AbortSignal,
  ): Promise<void> {
    if (idx.length === 0) return;
    if (idx.length === 1) {
      results[idx[0]] = await this.#sendOne(client, prepared[idx[0]], signal);
      return;
    }
    const entries = idx.map((i) => prepared[i].entry);
    let answer: SendMessageBatchResult;
    try {
      answer = await client.send(
        new SendMessageBatchCommand({ QueueUrl: this.#config.queue_url, Entries: entries }),
        { abortSignal: boundedSignal(signal, this.#config.timeout_ms) },
      ) as SendMessageBatchResult;
    } catch (err) {
      const c = this.#classify(err, "sqs SendMessageBatch", signal);
      if (c.permanent && !c.target) {
        // Refused for one message's sake: find it by sending one by one (in order, for FIFO).
        for (const i of idx) results[i] = await this.#sendOne(client, prepared[i], signal);
      } else {
        failAll(idx.length, c).forEach((r, k) => (results[idx[k]] = r));
      }
      return;
    }
    this.#reachable = true;
    const byId = new Map(idx.map((i) => [prepared[i].entry.Id!, i]));
    for (const s of answer.Successful ?? []) {
      const i = byId.get(s.Id!);
      if (i !== undefined) results[i] = { ok: true };
    }
    for (const f of answer.Failed ?? []) {
      const i = byId.get(f.Id!);
      if (i !== undefined) results[i] = entryFailure("sqs SendMessageBatch", f);
    }
    for (const i of idx) {
      results[i] ??= {
        ok: false,
        permanent: false,
        error: `sqs SendMessageBatch: no result for entry ${prepared[i].entry.Id}`,
      };
    }
  }

  async #sendOne(client: SqsClientLike, p: Prepared, signal: AbortSignal): Promise<PublishResult> {
    const { Id: _id, ...entry } = p.entry;
    try {
      await client.send(
        new SendMessageCommand({ QueueUrl: this.#config.queue_url, ...entry }),
        { abortSignal: boundedSignal(signal, this.#config.timeout_ms) },
      );
      this.#reachable = true;
      return { ok: true };
    } catch (err) {
      return failAll(1, this.#classify(err, "sqs SendMessage", signal))[0];
    }
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
