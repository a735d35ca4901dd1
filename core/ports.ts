/**
 * The interfaces that adapters implement and runtimes inject. `core/` depends only on these,
 * never on a concrete adapter, so the same core runs on Deno, Deno Deploy and Cloudflare.
 */

/** One received event, exactly as it arrived. The raw body is kept so events can be replayed. */
export interface Envelope {
  id: string; // evt_...
  tenant: string; // owner user id
  routeId: string | null; // the webhook route it came through, if any
  source: string; // "webhook" | "trigger:<id>" | ...
  receivedAt: number; // ms since epoch
  method: string;
  path: string;
  query: string; // raw query string without "?"
  ip: string;
  headers: Record<string, string>; // lower-cased names
  body: Uint8Array;
  /** Sender's id used for replay protection (e.g. webhook-id); unique per route when set. */
  dedupKey?: string | null;
  /**
   * Set when the event was already planned at ingest (routes without async stages): the
   * event is stored with this outcome and its deliveries in the same transaction, so the
   * processor has nothing left to do for it.
   */
  planned?: {
    status: "processed" | "dropped";
    error?: string | null;
    deliveries: NewDelivery[];
  };
}

/** What the processor produces for one destination; the dispatcher publishes it. */
export interface NewDelivery {
  id: string; // dlv_...
  eventId: string;
  tenant: string;
  routeId: string | null;
  destinationId: string;
  body: Uint8Array;
  headers: Record<string, string>;
  /** Optional partition/ordering key (Kafka key, SQS group id, Pub/Sub ordering key). */
  key?: string | null;
  /** Where the work goes if this delivery dies. */
  fallbackDestinationId?: string | null;
  nextAt: number;
}

export type DeliveryStatus = "pending" | "delivered" | "dead" | "discarded";

export interface Delivery extends NewDelivery {
  status: DeliveryStatus;
  attempts: number;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

/** A message handed to a Publisher. `id` is the stable delivery id consumers dedupe on. */
export interface Outgoing {
  id: string;
  eventId: string;
  body: Uint8Array;
  headers: Record<string, string>;
  key?: string | null;
  attempt: number;
}

export type PublishResult =
  | { ok: true }
  | { ok: false; permanent: boolean; error: string; retryAfterMs?: number };

/** One destination's connection. Created once per destination config and reused. */
export interface Publisher {
  connect(signal: AbortSignal): Promise<void>;
  /** One result per message, in order. Must not throw for a per-message failure. */
  publish(batch: readonly Outgoing[], signal: AbortSignal): Promise<PublishResult[]>;
  close(): Promise<void>;
  /** Cheap health probe; undefined means "unknown". */
  healthy?(): boolean;
}

/** Context every publisher factory receives from the runtime. */
export interface PublisherContext {
  /** fetch guarded against private addresses unless the tenant/node allows them. */
  fetch: typeof fetch;
  /** Throws when `host` resolves to an address the guard refuses. */
  checkHost(host: string): Promise<void>;
  log: Logger;
}

export interface PublisherFactory<C = unknown> {
  type: string;
  /** zod schema for the destination config; parse errors name the field. */
  parseConfig(config: unknown): C;
  create(config: C, ctx: PublisherContext): Publisher;
}

export interface Settlement {
  id: string;
  outcome: "delivered" | "retry" | "dead";
  at: number;
  error?: string | null;
  nextAt?: number; // for retry
  durationMs?: number;
  /** For "dead": the delivery that takes the work over (the route's fallback destination).
   * Stored in the same transaction, and only if this settlement applied. */
  fallback?: NewDelivery;
}

export interface Lease {
  name: string;
  owner: string;
  release(): Promise<void>;
}

export interface Coordinator {
  tryAcquire(name: string, ttlMs: number): Promise<Lease | null>;
}

/** A source of events other than webhooks (polling, schedule, brokers, IMAP, CalDAV, CardDAV). */
export interface Source {
  start(emit: (events: Envelope[]) => Promise<void>, signal: AbortSignal): Promise<void>;
}

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/** Counters and histograms; the Deno runtime backs this with prom-client. */
export interface Metrics {
  inc(name: string, labels?: Record<string, string>, value?: number): void;
  observe(name: string, value: number, labels?: Record<string, string>): void;
  render(): Promise<string>;
}

/** Seals secrets at rest (AES-256-GCM). */
export interface Sealer {
  seal(plain: string): Promise<string>;
  open(sealed: string): Promise<string>;
  isSealed(value: string): boolean;
}

/** Clock injection keeps time-based logic testable. */
export interface Clock {
  now(): number;
}
