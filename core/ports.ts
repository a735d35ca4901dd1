import type { z } from "zod";

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
  /** Pipeline attempts made so far (stored events; a failing stage retries on a schedule). */
  attempts?: number;
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

/** One address of a node-style `dns.lookup` answer. */
export interface LookupAddress {
  address: string;
  family: 4 | 6;
}

/**
 * A node-style `dns.lookup`, the `lookup` option node:net, node:tls and http(s) agents take
 * (typed structurally, so core needs no node types). Called with `all: true` it answers every
 * address, else the first one.
 */
export type LookupFunction = (
  hostname: string,
  options: { family?: number | string; all?: boolean; hints?: number } | number | undefined,
  callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
) => void;

/**
 * Outbound connections a tenant's config causes (destinations, pipeline stages, triggers) go
 * through this one capability, so one address guard decides for all of them. Admin-owned
 * configs get an unguarded one; everyone else's refuses private, loopback, link-local, CGNAT
 * and metadata addresses unless the node (`ALLOW_PRIVATE_NETWORKS`) or its settings
 * (`allow_cidrs`, `allow_hosts` as `host:port`) allow them.
 *
 * The guard checks the address a connection actually dials, not only the name, so a DNS
 * answer that changes between the check and the connect (rebinding) cannot slip through. Pick
 * the member that fits the client library (by host and port, never by broker):
 * - HTTP: `fetch` (every resolved address and every redirect checked, the connection pinned
 *   to the checked address; TLS still verifies the real host name).
 * - A library that takes node:net/node:tls options or an http(s) Agent (amqplib's socket
 *   options, a kafkajs socket factory, the AWS SDK's agents, imapflow, nodemailer...): pass
 *   `lookup(port)` as the `lookup` option; the socket then connects only to checked addresses.
 *   node:net dials an IP literal without calling `lookup`, so check the host with
 *   `refuseLiteral` first. `adapters/net/` has the ready-made socket factory and agents,
 *   which do both.
 * - A library that takes only a host (ioredis, gRPC): `resolve(host, port)` and hand it the
 *   first address, with the original name as TLS `servername`.
 * A refusal is a ForbiddenAddressError (core/net): treat it as permanent, not as an outage.
 */
export interface Outbound {
  /** fetch guarded against forbidden addresses (every resolved address, every redirect). */
  fetch: typeof fetch;
  /**
   * Resolves `host` for a connection to `port` and checks every address. Answers the
   * addresses to dial (IPv4 first; an IP literal answers itself), or `[host]` when the host is
   * allowed by name (dial it as it is). Throws ForbiddenAddressError naming host and address.
   */
  resolve(host: string, port: number, signal?: AbortSignal): Promise<string[]>;
  /** A `dns.lookup` for connections to `port` that answers only checked addresses. */
  lookup(port: number): LookupFunction;
  /**
   * What can be decided without DNS, at once: the ForbiddenAddressError for an IP literal (in
   * any spelling) that may not be reached on `port`, else null (names are left to `lookup`).
   */
  refuseLiteral(host: string, port: number): Error | null;
  /**
   * Throws when `host` (on `port`) would be refused. A check, not a connection: whatever
   * connects afterwards must dial what `resolve`/`lookup` answer. Without a port, hosts
   * allowed by name in `allow_hosts` are not recognised.
   */
  checkHost(host: string, port?: number): Promise<void>;
}

/** Context every publisher factory receives from the runtime. */
export interface PublisherContext extends Outbound {
  log: Logger;
  /** The user id owning the destination (confined outputs such as `file` use it). */
  owner?: string;
}

export interface PublisherFactory<C = unknown> {
  type: string;
  /** The config's zod schema: the OpenAPI document and `GET /api/destinations/types`
   * describe the type with it. */
  schema?: z.ZodType;
  /** Parses and validates the destination config; parse errors name the field. */
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

/**
 * An append-only, fsync'd log in front of the store: the node's durable accept for fresh
 * webhooks (core/ingress/journal_accept.ts). A record is one encoded batch of envelopes; it
 * is durable once `append` resolves, and kept until `release` says the store has it. After a
 * crash, the records that were not released come back from `recovered`.
 */
export interface Journal {
  /** Writes the record and waits for it to reach the disk (write + fdatasync). */
  append(record: Uint8Array): Promise<JournalRef>;
  /** The record's contents are committed in the store: the journal may forget it. */
  release(ref: JournalRef): void;
  /** Records a process that ended left behind (its own earlier run or a dead neighbour's on
   * the same folder), oldest first; release each once it is imported. A record released
   * before the crash may come back too (journals forget whole segments), so importing must be
   * idempotent, as accepting an event id twice is. */
  recovered(): AsyncIterable<{ ref: JournalRef; record: Uint8Array }>;
  /** Bytes appended and not yet released (this process's, recovered ones included). */
  pendingBytes(): number;
  close(): Promise<void>;
}

/** Where a journal record lives (opaque to callers). */
export interface JournalRef {
  readonly segment: string;
  readonly bytes: number;
}

/** A held lease. `fence` grows every time the lease changes hands, so a write made under an
 * older holder can be told apart (fencing token). */
export interface Lease {
  name: string;
  owner: string;
  fence: number;
  /** Extends the lease; resolves false when it was lost (expired and taken by another). */
  renew(ttlMs: number): Promise<boolean>;
  release(): Promise<void>;
}

/** Leases that make a job run on one node at a time: the store (default), Redis or Deno KV.
 * Every implementation runs tests/conformance/coordinator_suite.ts. */
export interface Coordinator {
  readonly kind: string;
  tryAcquire(name: string, owner: string, ttlMs: number): Promise<Lease | null>;
  /** Resolves when the coordinator answers, throws with the reason otherwise (/health). */
  ping?(): Promise<void>;
  close?(): Promise<void>;
}

/**
 * Sources (triggers): every event source other than webhooks. A trigger is a tenant's
 * configured source `{name, type, route_id, config, active}`; its events go into its route
 * through the same durable accept as webhooks, so rules, pipeline, destinations, retries and
 * dead letters are the same for every source.
 *
 * Adding a source type = a folder under adapters/sources/<type>/ (config.ts with the zod
 * schema, source.ts with the SourceFactory) and one line in adapters/sources/registry.ts.
 */

/** What a source emits; the runtime turns it into an Envelope (id, tenant, route, source =
 * `trigger:<id>`, receivedAt, `x-trigger-*` headers) before the durable accept. */
export interface SourceEvent {
  body: Uint8Array;
  /** Metadata the route's rules can match (lower-case names): message headers/properties,
   * attributes, key, partition, offset, stream id, UID, ETag, action... */
  headers?: Record<string, string>;
  /** Identity of the item (message id, offset, stream id, UID, item id + version, ETag,
   * schedule slot). The runtime scopes it to the trigger, so a re-emission after a crash is
   * answered as a duplicate instead of becoming a second event. */
  dedupKey?: string | null;
  /** When the source saw it (ms); defaults to now. */
  receivedAt?: number;
}

export interface EmitResult {
  /** Event id per emitted item, in order; for a duplicate, the id of the original event. */
  ids: string[];
  accepted: number;
  duplicates: number;
}

/** Thrown by `emit` when the store refuses new events (full disk, overload, shutting down).
 * A source then stops acknowledging/consuming and tries again later (backpressure): nothing
 * is acked that was not committed. */
export class EmitRefusedError extends Error {
  constructor(message: string, readonly retryAfterMs = 1000) {
    super(message);
    this.name = "EmitRefusedError";
  }
}

/** The durable position of a trigger (ETag, hash, last item id, UID + UIDVALIDITY, offset,
 * sync token). A source sets it only after `emit` resolved for the events it covers. */
export interface SourceCursor {
  get(): Promise<string | null>;
  set(value: string): Promise<void>;
}

export interface SourceSecrets {
  get(name: string): Promise<string | null>;
  set(name: string, value: string): Promise<void>;
}

/** Live state shown on the trigger (`GET /api/triggers/{id}` -> `status`). */
export interface SourceStatus {
  state?: "starting" | "connected" | "idle" | "polling" | "reconnecting" | "error" | "stopped";
  /** Messages waiting at the broker, where it tells (lag, pending count). */
  lag?: number | null;
  last_error?: string | null;
  /** Anything else worth showing (`uidvalidity`, `partitions`, ...); JSON values only. */
  [key: string]: unknown;
}

export interface SourceContext {
  trigger: { id: string; tenant: string; routeId: string; type: string; name: string };
  /** Resolves after the events are committed (group commit); throws EmitRefusedError when
   * the store refuses them. Batch: one call for many messages, one commit. */
  emit(events: SourceEvent[]): Promise<EmitResult>;
  cursor: SourceCursor;
  /** Values the source must keep across restarts that are secrets (a refresh token the
   * OAuth2 server rotated): sealed at rest, never shown. Set by the trigger runtime. */
  secrets?: SourceSecrets;
  /** Merges into the trigger's live status (cheap; call freely). */
  report(status: SourceStatus): void;
  /** Every connection the source makes goes through here (the address guard). */
  outbound: Outbound;
  log: Logger;
  clock: Clock;
  /** This node's id (default Redis consumer name, lease owner). */
  nodeId: string;
}

/** One result of a poll (`POST /api/triggers/{id}/run` answers it). */
export interface PollResult {
  emitted: number;
  duplicates: number;
  ids: string[];
}

/**
 * A running source. The runtime holds the trigger's lease while it runs.
 * - Polled sources (polling, schedule, caldav, carddav) implement `poll` and `nextRunAt`:
 *   the runtime calls `poll` when due (never overlapping) and on `POST .../run`.
 * - Long-lived sources (broker consumers, IMAP IDLE) implement `start`: it runs until the
 *   signal aborts, reconnecting with backoff by itself. They may also implement `poll`.
 */
export interface Source {
  poll?(signal: AbortSignal): Promise<PollResult>;
  /** When the next poll is due (ms), given the last run's start (null: never ran). A
   * schedule answers its next cron slot (or a missed one within `catch_up`); polling answers
   * lastRunAt + interval, or later after failures and Retry-After. */
  nextRunAt?(lastRunAt: number | null, now: number): number | null;
  start?(signal: AbortSignal): Promise<void>;
  close?(): Promise<void>;
}

export interface SourceFactory<C = unknown> {
  type: string;
  /** The config's zod schema (strict: unknown keys refused); the API validates with it and
   * the OpenAPI document describes it. */
  schema: z.ZodType<C>;
  /** Parses and validates; throws a ZodError whose issues name the field. */
  parseConfig(config: unknown): C;
  create(config: C, ctx: SourceContext): Source;
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
