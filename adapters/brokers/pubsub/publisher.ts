/**
 * Google Cloud Pub/Sub publisher (@google-cloud/pubsub): every message of a batch goes through
 * `publishMessage` on one Topic, whose batching settings group them into Publish calls; publish()
 * flushes and waits for every id, bounded by `timeout_ms` and the caller's signal.
 *
 * - Attributes: `delivery_id`, `event_id` (these win), then headers (names starting with `goog`,
 *   longer than 256 bytes, or values over 1024 bytes are left out, with a warning).
 * - Ordering (`ordering_key`): the message's key is its ordering key; after a failure the client
 *   pauses that key (later messages of the key fail retriably) and publish() resumes it, so the
 *   dispatcher's retry keeps the key's order.
 * - `emulator_host` is passed to the client explicitly; without it the client talks to
 *   pubsub.googleapis.com, whatever PUBSUB_EMULATOR_HOST says.
 * - gRPC codes: INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, UNAUTHENTICATED,
 *   FAILED_PRECONDITION, UNIMPLEMENTED, OUT_OF_RANGE, ALREADY_EXISTS are permanent; the rest
 *   (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL, ...) retriable.
 */
import { Buffer } from "node:buffer";
import type { PubSub, Topic } from "@google-cloud/pubsub";
import type {
  Outgoing,
  Publisher,
  PublisherContext,
  PublisherFactory,
  PublishResult,
} from "../../../core/ports.ts";
import { PERMANENT_CODES, pubsubClient, requirePubsubCredentials } from "./client.ts";
import { parsePubsubConfig, type PubsubConfig, pubsubConfigSchema } from "./config.ts";

const RESOURCE_EXHAUSTED = 8;
const utf8 = new TextEncoder();

export class PubsubPublisher implements Publisher {
  readonly #config: PubsubConfig;
  readonly #ctx: PublisherContext;
  #client: PubSub | null = null;
  #topic: Topic | null = null;
  #reachable: boolean | undefined;

  constructor(config: PubsubConfig, ctx: PublisherContext) {
    this.#config = config;
    this.#ctx = ctx;
  }

  /** Creates the client and topic handle (no call besides resolving an emulator's host). */
  async connect(signal: AbortSignal): Promise<void> {
    if (this.#client) return;
    signal.throwIfAborted();
    const c = this.#config;
    const client = await pubsubClient(c, this.#ctx, signal);
    this.#topic = client.topic(c.topic, {
      messageOrdering: c.ordering_key !== undefined && c.ordering_key !== false,
      batching: { maxMessages: 1000, maxBytes: 9 * 1024 * 1024, maxMilliseconds: 5 },
      // One attempt per call within the deadline: the dispatcher owns retries.
      gaxOpts: { timeout: c.timeout_ms, retry: null },
    });
    this.#client = client;
    this.#reachable = undefined;
  }

  async publish(batch: readonly Outgoing[], signal: AbortSignal): Promise<PublishResult[]> {
    if (batch.length === 0) return [];
    const where = `pubsub publish to ${this.#config.topic}`;
    if (signal.aborted) return batch.map(() => fail(`${where}: aborted by the caller`, false));
    try {
      await this.connect(signal);
    } catch (err) {
      const msg = `pubsub connect for ${this.#config.topic}: ${(err as Error)?.message ?? err}`;
      return batch.map(() => fail(msg, !signal.aborted));
    }
    const topic = this.#topic!;
    const keys = new Set<string>();
    const pending = batch.map((m) => {
      const orderingKey = this.#orderingKey(m);
      if (orderingKey) keys.add(orderingKey);
      try {
        return topic.publishMessage({
          data: Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength),
          attributes: this.#attributes(m),
          orderingKey,
        });
      } catch (err) {
        return Promise.reject(err);
      }
    });
    topic.flush().catch(() => {});

    // Bounded: the client's own deadline is timeout_ms; this guard covers queueing and signal.
    const limit = this.#config.timeout_ms + 1_000;
    const stop = AbortSignal.any([signal, AbortSignal.timeout(limit)]);
    const stopped = new Promise<"stopped">((resolve) => {
      if (stop.aborted) resolve("stopped");
      stop.addEventListener("abort", () => resolve("stopped"), { once: true });
    });
    const results = await Promise.all(pending.map(async (p): Promise<PublishResult> => {
      const outcome = await Promise.race([p.then(() => "ok" as const, (e: unknown) => e), stopped]);
      if (outcome === "ok") {
        this.#reachable = true;
        return { ok: true };
      }
      if (outcome === "stopped") {
        p.catch(() => {}); // settles later; the retry may duplicate it (consumers dedupe on id)
        return fail(
          signal.aborted
            ? `${where}: aborted by the caller`
            : `${where}: no answer within ${limit}ms`,
          false,
        );
      }
      return this.#classify(outcome, where, signal);
    }));
    // A failed publish pauses its ordering key in the client; the retry must find it open.
    for (const k of keys) topic.resumePublishing(k);
    return results;
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    this.#topic = null;
    this.#reachable = undefined;
    if (!client) return;
    try {
      await Promise.race([client.close(), new Promise((r) => setTimeout(r, 2_000))]);
    } catch (err) {
      this.#ctx.log.warn("pubsub: close failed", { error: String(err) });
    }
  }

  /** False when closed or when the last call got no answer (network, timeout, 5xx). */
  healthy(): boolean {
    return this.#client !== null && this.#reachable !== false;
  }

  #orderingKey(m: Outgoing): string | undefined {
    const mode = this.#config.ordering_key;
    if (mode === undefined || mode === false) return undefined;
    return m.key || (typeof mode === "string" ? mode : undefined);
  }

  #attributes(m: Outgoing): Record<string, string> {
    const attrs: Record<string, string> = { delivery_id: m.id, event_id: m.eventId };
    const dropped: string[] = [];
    for (const [name, value] of Object.entries(m.headers)) {
      if (name in attrs) continue;
      const bad = name === "" || /^goog/i.test(name) || utf8.encode(name).length > 256 ||
        utf8.encode(value).length > 1024;
      if (bad) dropped.push(name);
      else attrs[name] = value;
    }
    if (dropped.length) {
      this.#ctx.log.warn("pubsub: headers not carried as attributes", {
        delivery_id: m.id,
        dropped,
      });
    }
    return attrs;
  }

  #classify(err: unknown, where: string, signal: AbortSignal): PublishResult {
    const e = err as { code?: unknown; message?: string } | null;
    const code = typeof e?.code === "number" ? e.code : undefined;
    const text = `${where}: ${e?.message ?? String(err)}`;
    if (signal.aborted) return fail(`${where}: aborted by the caller`, false);
    if (code !== undefined && PERMANENT_CODES.has(code)) {
      this.#reachable = true;
      return fail(text, true);
    }
    // UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, ... and errors without a code (a paused key).
    if (code !== undefined) this.#reachable = false;
    return code === RESOURCE_EXHAUSTED
      ? { ok: false, permanent: false, error: text, retryAfterMs: 1_000 }
      : fail(text, false);
  }
}

function fail(error: string, permanent: boolean): PublishResult {
  return { ok: false, permanent, error };
}

export const pubsubPublisherFactory: PublisherFactory<PubsubConfig> = {
  type: "pubsub",
  schema: pubsubConfigSchema,
  parseConfig: parsePubsubConfig,
  create: (config, ctx) => new PubsubPublisher(config, ctx),
};

/**
 * For destinations not owned by an admin: without `credentials` (and not on an emulator) the
 * client would use the node's own Google credentials (ADC, the metadata server); refused.
 */
export const tenantPubsubPublisherFactory: PublisherFactory<PubsubConfig> = {
  ...pubsubPublisherFactory,
  parseConfig: (config) => requirePubsubCredentials(parsePubsubConfig(config), "destination"),
};
