/**
 * Google Cloud Pub/Sub consumer: `pullers` unary Pull calls (v1.SubscriberClient, up to
 * `max_batch` messages each) feed one commit loop per trigger and node, on an existing
 * subscription. Unary Pull rather than the client's streaming pull keeps acks, nacks, lease
 * extension and reconnects in this consumer's hands (the streaming client retries outages
 * out of sight and races its own deadline extensions against the nacks it sends on close).
 *
 * - What the pullers brought while the previous commit ran is committed as one batch, then
 *   acknowledged (Acknowledge, in requests of 1000 ack ids) only after the commit. A crash
 *   before that lets the ack deadline expire and Pub/Sub redelivers; the dedup key (the message
 *   id, which a redelivery keeps) catches the ones that were events already.
 * - Event: the data's bytes; headers = the attributes, and `x-pubsub-message-id`,
 *   `x-pubsub-publish-time`, `x-pubsub-ordering-key`, `x-pubsub-delivery-attempt` (set when
 *   the subscription has a dead-letter policy).
 * - Flow control: at most `flow_control.max_messages` received and unacknowledged; the pullers
 *   wait beyond that, so a store that refuses events stops the pulling (backpressure), and
 *   the held messages' ack deadlines are extended meanwhile (ModifyAckDeadline).
 * - On stop, messages received but not committed get deadline 0: redelivered at once.
 * - Status: no lag (Pub/Sub tells it only through Cloud Monitoring); `outstanding` = messages
 *   received and not yet acknowledged by this node.
 */
import { type PubSub, v1 } from "@google-cloud/pubsub";
import type { Source, SourceContext, SourceEvent, SourceFactory } from "../../../core/ports.ts";
import { isForbiddenAddressError } from "../../../core/net/forbidden_address_error.ts";
import { bounded, errorMessage, PublishError } from "../../brokers/errors.ts";
import {
  classifyPubsub,
  pubsubClient,
  requirePubsubCredentials,
} from "../../brokers/pubsub/client.ts";
import { commitBatch } from "../consumer/commit.ts";
import { addHeaders } from "../consumer/headers.ts";
import { MessageBuffer } from "../consumer/message_buffer.ts";
import { supervise } from "../consumer/supervise.ts";
import { parsePubsubSourceConfig, type PubsubSourceConfig, pubsubSourceSchema } from "./config.ts";

type Subscriber = InstanceType<typeof v1.SubscriberClient>;

/** One pulled message as the v1 client returns it. */
export interface Received {
  ackId?: string | null;
  deliveryAttempt?: number | null;
  message?: {
    data?: Uint8Array | string | null;
    attributes?: Record<string, string> | null;
    messageId?: string | null;
    publishTime?: {
      seconds?: number | string | null | { toString(): string };
      nanos?: number | null;
    } | null;
    orderingKey?: string | null;
  } | null;
}

/** The ack ids one Acknowledge / ModifyAckDeadline request carries at most. */
const ACK_CHUNK = 1_000;
/** How long one Pull may wait for messages (the server answers sooner when it has some). */
const PULL_WAIT_MS = 10_000;

function bytes(data: Uint8Array | string | null | undefined): Uint8Array {
  if (!data) return new Uint8Array(0);
  if (typeof data === "string") {
    const bin = atob(data);
    return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export function pubsubEvent(r: Received): SourceEvent {
  const m = r.message ?? {};
  const headers: Record<string, string> = {};
  addHeaders(headers, m.attributes ?? undefined);
  const id = m.messageId ?? "";
  headers["x-pubsub-message-id"] = id;
  const t = m.publishTime;
  if (t?.seconds !== undefined && t.seconds !== null) {
    const ms = Number(String(t.seconds)) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
    headers["x-pubsub-publish-time"] = new Date(ms).toISOString();
  }
  if (m.orderingKey) headers["x-pubsub-ordering-key"] = m.orderingKey;
  if (r.deliveryAttempt) headers["x-pubsub-delivery-attempt"] = String(r.deliveryAttempt);
  return { body: bytes(m.data), headers, dedupKey: id || null };
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** A gRPC failure as a PublishError classified by its code, with the call named. */
function failed(what: string, e: unknown): PublishError {
  return new PublishError(`pubsub ${what}: ${errorMessage(e)}`, classifyPubsub(e));
}

/**
 * Bounds a gax call ourselves: while the channel is (re)connecting, gRPC can hold a call past
 * its own deadline. A late answer is dropped (messages it pulled come back after the deadline).
 */
function rpc<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  return bounded(p, ms + 1_000, undefined, `pubsub ${what}`);
}

export class PubsubSource implements Source {
  readonly #path: string;

  constructor(readonly config: PubsubSourceConfig, readonly ctx: SourceContext) {
    this.#path = config.subscription.startsWith("projects/")
      ? config.subscription
      : `projects/${config.project_id}/subscriptions/${config.subscription}`;
  }

  start(signal: AbortSignal): Promise<void> {
    return supervise(
      this.ctx,
      signal,
      { broker: "pubsub", permanent: (e) => e instanceof PublishError && e.permanent },
      (s, up) => this.#session(s, up),
    );
  }

  async #session(signal: AbortSignal, up: (s?: Record<string, unknown>) => void): Promise<void> {
    const c = this.config;
    let pubsub: PubSub;
    try {
      pubsub = await pubsubClient(c, this.ctx.outbound, signal);
    } catch (e) {
      throw new PublishError(
        `pubsub: host refused: ${errorMessage(e)}`,
        isForbiddenAddressError(e),
      );
    }
    // The PubSub object's options carry the endpoint, emulator channel or credentials.
    const client: Subscriber = new v1.SubscriberClient(
      pubsub.options as ConstructorParameters<typeof v1.SubscriberClient>[0],
    );
    const session = new AbortController();
    const stop = AbortSignal.any([signal, session.signal]);
    const buffer = new MessageBuffer<Received>();
    const cap = c.flow_control.max_messages;
    let held: Received[] = [];
    const pullers: Promise<void>[] = [];
    try {
      const deadline = await this.#ackDeadline(client);
      up({ subscription: this.#path, ack_deadline_seconds: deadline });
      for (let i = 0; i < c.pullers; i++) pullers.push(this.#pull(client, buffer, cap, stop));

      let extendedAt = Date.now();
      const extend = async () => {
        // Half the deadline gone: give the held messages another full one.
        if (Date.now() - extendedAt < deadline * 500) return;
        extendedAt = Date.now();
        await this.#modify(client, [...held, ...buffer.peek()], deadline);
      };
      while (!signal.aborted) {
        const batch = await buffer.take(c.max_batch, signal);
        if (batch.length === 0) break;
        held = batch;
        extendedAt = Date.now();
        this.ctx.report({ outstanding: batch.length + buffer.size });
        const r = await commitBatch(this.ctx, batch.map(pubsubEvent), signal, {
          whilePaused: extend,
        });
        if (!r) break; // stopping before the commit: released below
        await this.#acknowledge(client, batch);
        held = [];
        this.ctx.report({ outstanding: buffer.size });
      }
    } finally {
      session.abort();
      await Promise.allSettled(pullers);
      const left = [...held, ...buffer.drain()];
      if (left.length) {
        await this.#modify(client, left, 0).catch((e) =>
          this.ctx.log.warn("pubsub: could not release received messages", {
            count: left.length,
            error: errorMessage(e),
          })
        );
      }
      await bounded(client.close(), 2_000, undefined, "pubsub close").catch(() => {});
      await bounded(pubsub.close(), 2_000, undefined, "pubsub close").catch(() => {});
    }
  }

  /** GetSubscription: it exists, the credentials may read it; its ack deadline (seconds). */
  async #ackDeadline(client: Subscriber): Promise<number> {
    try {
      const t = this.config.timeout_ms;
      const [sub] = await rpc(
        "get subscription",
        t,
        client.getSubscription({ subscription: this.#path }, { timeout: t, retry: null } as never),
      );
      return Number(sub.ackDeadlineSeconds ?? 10) || 10;
    } catch (e) {
      throw failed(`get subscription ${this.#path}`, e);
    }
  }

  /** One puller: pulls while there is room, until `stop`; a failure fails the buffer. */
  async #pull(
    client: Subscriber,
    buffer: MessageBuffer<Received>,
    cap: number,
    stop: AbortSignal,
  ): Promise<void> {
    const c = this.config;
    while (!stop.aborted) {
      await buffer.whenBelow(cap, stop);
      if (stop.aborted) return;
      try {
        const t = c.timeout_ms + PULL_WAIT_MS;
        const [resp] = await rpc(
          "pull",
          t,
          client.pull(
            { subscription: this.#path, maxMessages: Math.min(c.max_batch, cap - buffer.size) },
            { timeout: t, retry: null } as never,
          ),
        );
        if (stop.aborted) {
          // Pulled while stopping: hand them straight back.
          const got = (resp.receivedMessages ?? []) as Received[];
          if (got.length) await this.#modify(client, got, 0).catch(() => {});
          return;
        }
        for (const r of (resp.receivedMessages ?? []) as Received[]) buffer.push(r);
      } catch (e) {
        if (stop.aborted) return;
        // A pull that ends on its own deadline with nothing to give is no failure.
        if ((e as { code?: number }).code === 4) continue;
        buffer.fail(failed(`pull from ${this.#path}`, e));
        return;
      }
    }
  }

  async #acknowledge(client: Subscriber, batch: Received[]): Promise<void> {
    const ids = batch.map((r) => r.ackId!).filter(Boolean);
    for (const part of chunks(ids, ACK_CHUNK)) {
      try {
        const t = this.config.timeout_ms;
        await rpc(
          "acknowledge",
          t,
          client.acknowledge({ subscription: this.#path, ackIds: part }, {
            timeout: t,
            retry: null,
          } as never),
        );
      } catch (e) {
        // Committed already: what was not acknowledged comes back once, as a duplicate.
        throw failed(`acknowledge on ${this.#path}`, e);
      }
    }
  }

  async #modify(client: Subscriber, msgs: Received[], seconds: number): Promise<void> {
    const ids = msgs.map((r) => r.ackId!).filter(Boolean);
    for (const part of chunks(ids, ACK_CHUNK)) {
      const t = this.config.timeout_ms;
      await rpc(
        "modify ack deadline",
        t,
        client.modifyAckDeadline(
          { subscription: this.#path, ackIds: part, ackDeadlineSeconds: seconds },
          { timeout: t, retry: null } as never,
        ),
      );
    }
  }
}

export const pubsubSourceFactory: SourceFactory<PubsubSourceConfig> = {
  type: "pubsub",
  schema: pubsubSourceSchema,
  parseConfig: parsePubsubSourceConfig,
  create: (config, ctx) => new PubsubSource(config, ctx),
};

/** For triggers not owned by an admin: a service account key required (not the node's ADC). */
export const tenantPubsubSourceFactory: SourceFactory<PubsubSourceConfig> = {
  ...pubsubSourceFactory,
  parseConfig: (config) => requirePubsubCredentials(parsePubsubSourceConfig(config), "trigger"),
};
