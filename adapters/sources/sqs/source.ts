/**
 * SQS consumer (@aws-sdk/client-sqs): `receivers` long polls (ReceiveMessage, up to
 * `max_messages` each, `wait_seconds`) feed one commit loop per trigger and node.
 *
 * - What the receivers brought while the previous commit ran is committed as one batch; the
 *   messages are deleted (DeleteMessageBatch, 10 per request) only after the commit. A crash
 *   before that lets them reappear after the visibility timeout, and the dedup key (the
 *   MessageId, which a redelivery keeps) catches the ones that were events already.
 * - Event: the body (decoded when the attribute `body_encoding` is `base64`, as this router's
 *   SQS destination sends non-text bodies); headers = the message attributes (binary ones in
 *   base64), and `x-sqs-message-id`, `x-sqs-receive-count`, `x-sqs-sent-timestamp`,
 *   `x-sqs-first-receive-timestamp`, `x-sqs-group-id`, `x-sqs-sequence-number`,
 *   `x-sqs-deduplication-id`, `x-sqs-sender-id`.
 * - While the store refuses events the receivers stop fetching once a commit's worth waits,
 *   and the held messages' visibility is extended so they do not reappear meanwhile.
 * - On stop, messages received but not committed are made visible again at once
 *   (ChangeMessageVisibility 0), so the next run gets them without waiting.
 * - A FIFO queue (`.fifo`) is read by one receive at a time, so each group keeps its order.
 * - Status: `lag` = ApproximateNumberOfMessages, `in_flight` = ...NotVisible (every 5 s).
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { Source, SourceContext, SourceEvent, SourceFactory } from "../../../core/ports.ts";
import { PublishError } from "../../brokers/errors.ts";
import {
  boundedSignal,
  classifyAwsError,
  clientOptions,
  requireCredentials,
} from "../../brokers/sqs/aws.ts";
import { guardedAgents } from "../../net/agents.ts";
import { isFifoQueue, regionOfQueueUrl } from "../../brokers/sqs/config.ts";
import { pullLoop } from "../consumer/pull_loop.ts";
import { supervise } from "../consumer/supervise.ts";
import { parseSqsSourceConfig, type SqsSourceConfig, sqsSourceSchema } from "./config.ts";

const STATS_EVERY_MS = 5_000;
const utf8 = new TextEncoder();

const SYSTEM_HEADERS: Record<string, string> = {
  ApproximateReceiveCount: "x-sqs-receive-count",
  SentTimestamp: "x-sqs-sent-timestamp",
  ApproximateFirstReceiveTimestamp: "x-sqs-first-receive-timestamp",
  MessageGroupId: "x-sqs-group-id",
  SequenceNumber: "x-sqs-sequence-number",
  MessageDeduplicationId: "x-sqs-deduplication-id",
  SenderId: "x-sqs-sender-id",
};

function base64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

function fromBase64(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function sqsEvent(m: Message): SourceEvent {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.MessageAttributes ?? {})) {
    if (v.DataType?.startsWith("Binary")) {
      if (v.BinaryValue) headers[k.toLowerCase()] = base64(v.BinaryValue);
    } else if (v.StringValue !== undefined) headers[k.toLowerCase()] = v.StringValue;
  }
  for (const [k, v] of Object.entries(m.Attributes ?? {})) {
    const name = SYSTEM_HEADERS[k];
    if (name && v !== undefined) headers[name] = v;
  }
  headers["x-sqs-message-id"] = m.MessageId ?? "";
  const text = m.Body ?? "";
  const body = headers["body_encoding"] === "base64" ? fromBase64(text) : utf8.encode(text);
  return { body, headers, dedupKey: m.MessageId ?? null };
}

/** Runs an SDK call bounded by `timeoutMs` and `signal`; failures become PublishErrors. */
async function call<T>(
  what: string,
  timeoutMs: number,
  signal: AbortSignal,
  fn: (abortSignal: AbortSignal) => Promise<T>,
): Promise<T> {
  try {
    return await fn(boundedSignal(signal, timeoutMs));
  } catch (e) {
    const k = classifyAwsError(e, what, timeoutMs, signal);
    throw new PublishError(k.message, k.permanent, k.retryAfterMs);
  }
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class SqsSource implements Source {
  constructor(readonly config: SqsSourceConfig, readonly ctx: SourceContext) {}

  start(signal: AbortSignal): Promise<void> {
    return supervise(
      this.ctx,
      signal,
      { broker: "sqs", permanent: (e) => e instanceof PublishError && e.permanent },
      (s, up) => this.#session(s, up),
    );
  }

  async #session(signal: AbortSignal, up: (s?: Record<string, unknown>) => void): Promise<void> {
    const c = this.config;
    const q = c.queue_url;
    const pollMs = c.wait_seconds * 1_000 + c.timeout_ms;
    // Every connection the SDK opens (endpoint, or the queue URL's host) dials only an address
    // the guard checked.
    const agents = guardedAgents(this.ctx.outbound);
    const client = new SQSClient(
      clientOptions(c, c.region ?? regionOfQueueUrl(q)!, agents, pollMs),
    );
    // A FIFO queue is read by one receive at a time: the messages of a group then reach the
    // store in their order whatever the server does with concurrent receives.
    const receivers = isFifoQueue(c) ? 1 : c.receivers;
    let statsTimer: ReturnType<typeof setInterval> | undefined;
    try {
      const visibility = await this.#stats(client, signal);
      up({ queue_url: q });
      statsTimer = setInterval(() => this.#stats(client, signal).catch(() => {}), STATS_EVERY_MS);
      await pullLoop(this.ctx, signal, {
        name: "sqs",
        receivers,
        cap: c.max_messages * receivers,
        holdSeconds: visibility,
        timeoutMs: c.timeout_ms,
        receive: (max, stop) => this.#receive(client, max, stop),
        toEvent: sqsEvent,
        ack: (msgs, stop) => this.#delete(client, msgs, stop),
        hold: (msgs, seconds, stop) => this.#visibility(client, msgs, seconds, stop),
      });
    } finally {
      clearInterval(statsTimer);
      client.destroy();
      agents.destroy();
    }
  }

  /** One long poll (ReceiveMessage) of at most `max` messages. */
  async #receive(client: SQSClient, max: number, stop: AbortSignal): Promise<Message[]> {
    const c = this.config;
    const out = await call(
      `sqs ReceiveMessage ${c.queue_url}`,
      c.wait_seconds * 1_000 + c.timeout_ms,
      stop,
      (abortSignal) =>
        client.send(
          new ReceiveMessageCommand({
            QueueUrl: c.queue_url,
            MaxNumberOfMessages: Math.max(1, Math.min(c.max_messages, max)),
            WaitTimeSeconds: c.wait_seconds,
            VisibilityTimeout: c.visibility_timeout,
            MessageAttributeNames: ["All"],
            MessageSystemAttributeNames: ["All"],
          }),
          { abortSignal },
        ),
    );
    return out.Messages ?? [];
  }

  async #delete(client: SQSClient, batch: Message[], signal: AbortSignal): Promise<void> {
    const c = this.config;
    await Promise.all(
      chunks(batch, 10).map(async (part) => {
        const out = await call(
          `sqs DeleteMessageBatch ${c.queue_url}`,
          c.timeout_ms,
          signal,
          (abortSignal) =>
            client.send(
              new DeleteMessageBatchCommand({
                QueueUrl: c.queue_url,
                Entries: part.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle })),
              }),
              { abortSignal },
            ),
        );
        // Committed already: one that was not deleted comes back and is caught as a duplicate.
        for (const f of out.Failed ?? []) {
          this.ctx.log.warn("sqs: a committed message was not deleted (it will come back once)", {
            code: f.Code,
            error: f.Message,
          });
        }
      }),
    );
  }

  async #visibility(client: SQSClient, msgs: Message[], seconds: number, signal: AbortSignal) {
    const c = this.config;
    await Promise.all(
      chunks(msgs, 10).map((part) =>
        call(
          `sqs ChangeMessageVisibilityBatch ${c.queue_url}`,
          c.timeout_ms,
          signal,
          (abortSignal) =>
            client.send(
              new ChangeMessageVisibilityBatchCommand({
                QueueUrl: c.queue_url,
                Entries: part.map((m, i) => ({
                  Id: `m${i}`,
                  ReceiptHandle: m.ReceiptHandle,
                  VisibilityTimeout: seconds,
                })),
              }),
              { abortSignal },
            ),
        )
      ),
    );
  }

  /** Reports the queue's counts; resolves to the visibility timeout in effect (seconds). */
  async #stats(client: SQSClient, signal: AbortSignal): Promise<number> {
    const c = this.config;
    const out = await call(
      `sqs GetQueueAttributes ${c.queue_url}`,
      c.timeout_ms,
      signal,
      (abortSignal) =>
        client.send(
          new GetQueueAttributesCommand({
            QueueUrl: c.queue_url,
            AttributeNames: [
              "ApproximateNumberOfMessages",
              "ApproximateNumberOfMessagesNotVisible",
              "VisibilityTimeout",
            ],
          }),
          { abortSignal },
        ),
    );
    const a = out.Attributes ?? {};
    this.ctx.report({
      lag: Number(a.ApproximateNumberOfMessages ?? 0),
      in_flight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
    });
    return c.visibility_timeout ?? Number(a.VisibilityTimeout ?? 30);
  }
}

export const sqsSourceFactory: SourceFactory<SqsSourceConfig> = {
  type: "sqs",
  schema: sqsSourceSchema,
  parseConfig: parseSqsSourceConfig,
  create: (config, ctx) => new SqsSource(config, ctx),
};

/** For triggers not owned by an admin: access keys required (see requireCredentials). */
export const tenantSqsSourceFactory = requireCredentials(sqsSourceFactory, "trigger");
