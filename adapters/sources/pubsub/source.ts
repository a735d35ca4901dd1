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
import type { PubSub, v1 } from "@google-cloud/pubsub";
import type { Source, SourceContext, SourceEvent, SourceFactory } from "../../../core/ports.ts";
import { isForbiddenAddressError } from "../../../core/net/forbidden_address_error.ts";
import { bounded, errorMessage, PublishError } from "../../brokers/errors.ts";
import {
  classifyPubsub,
  pubsubClient,
  pubsubLibrary,
  requirePubsubCredentials,
} from "../../brokers/pubsub/client.ts";
import { addHeaders } from "../consumer/headers.ts";
import { pullLoop } from "../consumer/pull_loop.ts";
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
        `pubsub: ${isForbiddenAddressError(e) ? "host refused: " : ""}${errorMessage(e)}`,
        isForbiddenAddressError(e),
      );
    }
    // The PubSub object's options carry the endpoint, emulator channel or credentials.
    const { v1: gapic } = await pubsubLibrary();
    const client: Subscriber = new gapic.SubscriberClient(
      pubsub.options as ConstructorParameters<typeof v1.SubscriberClient>[0],
    );
    try {
      const deadline = await this.#ackDeadline(client);
      up({ subscription: this.#path, ack_deadline_seconds: deadline });
      await pullLoop(this.ctx, signal, {
        name: "pubsub",
        receivers: c.pullers,
        cap: c.flow_control.max_messages,
        maxBatch: c.max_batch,
        holdSeconds: deadline,
        timeoutMs: c.timeout_ms,
        receive: (max) => this.#pull(client, max),
        toEvent: pubsubEvent,
        ack: (msgs) => this.#acknowledge(client, msgs),
        hold: (msgs, seconds) => this.#modify(client, msgs, seconds),
      });
    } finally {
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

  /** One Pull of at most `max` messages (max_batch per call). */
  async #pull(client: Subscriber, max: number): Promise<Received[]> {
    const c = this.config;
    const t = c.timeout_ms + PULL_WAIT_MS;
    try {
      const [resp] = await rpc(
        "pull",
        t,
        client.pull(
          { subscription: this.#path, maxMessages: Math.max(1, Math.min(c.max_batch, max)) },
          { timeout: t, retry: null } as never,
        ),
      );
      return (resp.receivedMessages ?? []) as Received[];
    } catch (e) {
      // A pull that ends on its own deadline with nothing to give is no failure.
      if ((e as { code?: number }).code === 4) return [];
      throw failed(`pull from ${this.#path}`, e);
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
