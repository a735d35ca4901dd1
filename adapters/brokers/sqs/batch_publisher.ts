/**
 * The Publisher SQS and SNS both are. They differ only in the requests they send
 * (SendMessageBatch/SendMessage vs PublishBatch/Publish), the field the body goes in and the
 * target named in texts; each passes those in as an `AwsDialect` from its own publisher.ts.
 * Held here: the client's life cycle, health, attributes and FIFO ids per message, and the
 * hand-off to the batch loop of batching.ts.
 */
import type { Outgoing, Publisher, PublisherContext, PublishResult } from "../../../core/ports.ts";
import { type GuardedAgents, guardedAgents } from "../../net/agents.ts";
import { type BatchAnswer, type PreparedEntry, publishPrepared } from "./batching.ts";
import {
  type AwsConnection,
  boundedSignal,
  classifyAwsError,
  encodeBody,
  type ErrorClass,
  failAll,
  fifoId,
  messageAttributes,
  messageBytes,
  type StringAttribute,
} from "./aws.ts";

/** The config fields the shared part reads (SqsConfig and SnsConfig both have them). */
export interface AwsBatchConfig extends AwsConnection {
  max_batch_bytes: number;
  concurrency: number;
  message_group_id?: string;
}

/** What a client must offer besides the calls the dialect makes with it. */
export interface DestroyableClient {
  destroy(): void;
}

/** The SDK call options: the caller's signal bounded by `timeout_ms`. */
export interface CallOptions {
  abortSignal: AbortSignal;
}

/** The fields of a batch request entry the shared part sets besides the body. */
export interface BatchEntry {
  Id: string | undefined;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
}

/** What sets SQS and SNS apart; E is the batch request entry, C the SDK client. */
export interface AwsDialect<E extends BatchEntry, C extends DestroyableClient> {
  /** "sqs" or "sns": the first word of log lines. */
  kind: string;
  /** The queue URL or topic ARN, named in error texts after the call's name. */
  target: string;
  /** What a failed connect reports before its cause, e.g. "sqs connect to <queue_url>". */
  connecting: string;
  /** Call names for error texts, e.g. "sqs SendMessageBatch" and "sqs SendMessage". */
  batchName: string;
  oneName: string;
  fifo: boolean;
  /** Makes the client over the guarded agents; called by connect(). */
  makeClient(agents: GuardedAgents): C;
  /** The batch entry for one message (body field names differ). */
  entry(id: string, text: string, attrs: Record<string, StringAttribute>): E;
  sendBatch(client: C, entries: E[], options: CallOptions): Promise<BatchAnswer>;
  /** The single-message call for a lone or resent message (its `Id` is batch-only). */
  sendOne(client: C, entry: E, options: CallOptions): Promise<unknown>;
}

export class AwsBatchPublisher<E extends BatchEntry, C extends DestroyableClient>
  implements Publisher {
  readonly #config: AwsBatchConfig;
  readonly #ctx: PublisherContext;
  readonly #dialect: AwsDialect<E, C>;
  #client: C | null = null;
  #agents: GuardedAgents | null = null;
  #reachable: boolean | undefined;

  constructor(config: AwsBatchConfig, ctx: PublisherContext, dialect: AwsDialect<E, C>) {
    this.#config = config;
    this.#ctx = ctx;
    this.#dialect = dialect;
  }

  /** Creates the client; no network call (the agents check each address when they dial). */
  connect(signal: AbortSignal): Promise<void> {
    if (this.#client) return Promise.resolve();
    signal.throwIfAborted();
    this.#agents = guardedAgents(this.#ctx);
    this.#client = this.#dialect.makeClient(this.#agents);
    this.#reachable = undefined;
    return Promise.resolve();
  }

  async publish(batch: readonly Outgoing[], signal: AbortSignal): Promise<PublishResult[]> {
    if (batch.length === 0) return [];
    const d = this.#dialect;
    try {
      await this.connect(signal);
    } catch (err) {
      return failAll(batch.length, {
        permanent: !signal.aborted,
        target: true,
        message: `${d.connecting}: ${(err as Error)?.message ?? err}`,
      });
    }
    const client = this.#client!;
    const prepared = await Promise.all(batch.map((m, i) => this.#prepare(m, i)));
    const bound = (s: AbortSignal) => ({ abortSignal: boundedSignal(s, this.#config.timeout_ms) });
    return publishPrepared(prepared, {
      fifo: d.fifo,
      concurrency: this.#config.concurrency,
      maxBytes: this.#config.max_batch_bytes,
      maxCount: 10,
    }, {
      batchName: d.batchName,
      oneName: d.oneName,
      sendBatch: async (entries, s) => {
        const answer = await d.sendBatch(client, entries, bound(s));
        this.#reachable = true;
        return answer;
      },
      sendOne: async (entry, s) => {
        await d.sendOne(client, entry, bound(s));
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
    this.#agents?.destroy();
    this.#agents = null;
    return Promise.resolve();
  }

  /** False when closed or when the last call got no answer (network, timeout, 5xx). */
  healthy(): boolean {
    return this.#client !== null && this.#reachable !== false;
  }

  async #prepare(m: Outgoing, i: number): Promise<PreparedEntry<E>> {
    const { text, base64 } = encodeBody(m.body);
    const { attrs, dropped } = messageAttributes(m, base64);
    if (dropped.length) {
      this.#ctx.log.warn(`${this.#dialect.kind}: headers not carried as message attributes`, {
        delivery_id: m.id,
        dropped,
      });
    }
    const entry = this.#dialect.entry(`m${i}`, text, attrs);
    let group: string | undefined;
    if (this.#dialect.fifo) {
      group = await fifoId(m.key || this.#config.message_group_id || "default");
      entry.MessageGroupId = group;
      entry.MessageDeduplicationId = await fifoId(m.id);
    }
    return { entry, bytes: messageBytes(text, attrs), group };
  }

  #classify(err: unknown, what: string, signal: AbortSignal): ErrorClass {
    const where = `${what} ${this.#dialect.target}`;
    const c = classifyAwsError(err, where, this.#config.timeout_ms, signal);
    if (!signal.aborted) this.#reachable = c.permanent;
    return c;
  }
}
