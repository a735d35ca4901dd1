/**
 * The Store port. The embedded SQLite file is the default; a libSQL/Turso server implements the
 * same contract, and `tests/conformance/store_suite.ts` is run by every implementation.
 * Every tenant-facing read takes a Scope so isolation is enforced in one place: the query.
 */
import type { Delivery, Envelope, NewDelivery, Settlement } from "./ports.ts";
import type { Destination } from "./model/destination.ts";
import type { Page, PageQuery } from "./model/page.ts";
import type { Route } from "./model/route.ts";
import type { Trigger, TriggerState, TriggerStatePatch } from "./model/trigger.ts";
import type { Role, Scope, User } from "./model/user.ts";
import type { AggregateState } from "./pipeline/aggregate_state.ts";

export interface AcceptResult {
  /** Ids of envelopes whose dedupKey was already seen: map envelope id -> original event id. */
  duplicates: Map<string, string>;
}

/**
 * How `accept` may take its events. `lease`: the planned deliveries named are stored already
 * claimed by `owner` until `until` (one attempt counted), because the caller hands them
 * straight to its dispatcher; claims by anyone else wait for the lease to end, like any claim.
 * `encoded`: the same events as `encodeEnvelopes` wrote them (the ingest journal's bytes), which
 * a store on another thread may transfer instead of copying each object.
 */
export interface AcceptOptions {
  lease?: { owner: string; until: number; deliveryIds: readonly string[] };
  encoded?: Uint8Array;
}

export type EventStatus = "accepted" | "processed" | "failed" | "dropped" | "held";

export interface StoredEvent extends Envelope {
  status: EventStatus;
  error: string | null;
  processedAt: number | null;
}

export interface EventOutcome {
  id: string;
  status: Exclude<EventStatus, "accepted">;
  error?: string | null;
  /** Set when the outcome is "retry later": the event goes back to accepted at that time. */
  retryAt?: number;
  deliveries: NewDelivery[];
}

export interface Attempt {
  deliveryId: string;
  n: number;
  at: number;
  outcome: "delivered" | "retry" | "dead";
  error: string | null;
  durationMs: number | null;
}

export interface DeliveryWithAttempts extends Delivery {
  attemptLog: Attempt[];
}

export interface DeadFilter {
  routeId?: string;
  destinationId?: string;
  error?: string; // substring
  /** The whole error text, as dead letters are grouped by it ("" is a delivery without one). */
  errorIs?: string;
  ids?: string[];
}

export interface EventFilter {
  routeId?: string;
  status?: EventStatus;
  since?: number;
  /** Received before this time (exclusive). */
  until?: number;
}

/** Counts in one time bucket starting at `start` (ms); buckets with nothing are left out. */
export interface TimeBucket {
  start: number;
  received: number;
  delivered: number;
  dead: number;
}

/** A destination's delivery record: counts, the last success and the last failure. */
export interface DestinationStats {
  destination_id: string;
  delivered: number;
  pending: number;
  retrying: number;
  dead: number;
  last_delivered_at: number | null;
  last_error: string | null;
  last_error_at: number | null;
}

export interface Stats {
  received: number;
  delivered: number;
  retrying: number;
  pending: number;
  dead: number;
  last_hour: { received: number; delivered: number; dead: number };
  last_24h: { received: number; delivered: number; dead: number };
  per_route: Array<{ route_id: string | null; received: number }>;
  per_destination: DestinationStats[];
}

/** The work waiting in the store (`/metrics`): cheap, on the partial indexes. */
export interface QueueDepth {
  /** Deliveries not yet delivered, dead or discarded (due now or later). */
  pendingDeliveries: number;
  /** Of those, the ones due now: waiting for a dispatcher. */
  dueDeliveries: number;
  /** When the longest-waiting due delivery became due (ms), or null. */
  oldestDueAt: number | null;
  /** Events accepted and not yet processed (rules and pipeline). */
  unprocessedEvents: number;
  /** When the oldest of those was received (ms), or null. */
  oldestUnprocessedAt: number | null;
}

export interface Store {
  readonly kind: string;
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;

  // users and sessions
  createUser(u: User): Promise<void>;
  getUser(id: string): Promise<User | null>;
  getUserByName(username: string): Promise<User | null>;
  listUsers(page: PageQuery): Promise<Page<User>>;
  updateUser(
    id: string,
    patch: Partial<Pick<User, "passwordHash" | "mustChangePassword" | "role">>,
  ): Promise<void>;
  deleteUser(id: string): Promise<boolean>;
  countUsers(role?: Role): Promise<number>;
  revokeToken(jti: string, expiresAt: number): Promise<void>;
  isRevoked(jti: string): Promise<boolean>;

  // destinations and routes (tenant scoped; another tenant's id reads as null)
  createDestination(d: Destination): Promise<void>;
  getDestination(scope: Scope | null, id: string): Promise<Destination | null>;
  listDestinations(scope: Scope, page: PageQuery): Promise<Page<Destination>>;
  updateDestination(scope: Scope, d: Destination): Promise<boolean>;
  deleteDestination(scope: Scope, id: string): Promise<boolean>;
  /** All destinations (internal use: re-sealing, dispatch). */
  allDestinations(): Promise<Destination[]>;

  createRoute(r: Route): Promise<void>;
  getRoute(scope: Scope | null, id: string): Promise<Route | null>;
  getRouteByEndpoint(endpoint: string): Promise<Route | null>;
  listRoutes(scope: Scope, page: PageQuery): Promise<Page<Route>>;
  updateRoute(scope: Scope, r: Route): Promise<boolean>;
  deleteRoute(scope: Scope, id: string): Promise<boolean>;
  allRoutes(): Promise<Route[]>;

  // triggers (tenant scoped like routes) and their durable state (cursor, status, counters)
  createTrigger(t: Trigger): Promise<void>;
  getTrigger(scope: Scope | null, id: string): Promise<Trigger | null>;
  listTriggers(scope: Scope, page: PageQuery): Promise<Page<Trigger>>;
  updateTrigger(scope: Scope, t: Trigger): Promise<boolean>;
  /** Deletes the trigger and its state. */
  deleteTrigger(scope: Scope, id: string): Promise<boolean>;
  allTriggers(): Promise<Trigger[]>;
  getTriggerState(id: string): Promise<TriggerState | null>;
  triggerStates(ids: string[]): Promise<Map<string, TriggerState>>;
  /** Writes the cursor unless a holder with a newer fence wrote it; false when refused. */
  setTriggerCursor(id: string, cursor: string | null, fence: number, now: number): Promise<boolean>;
  updateTriggerState(id: string, patch: TriggerStatePatch, now: number): Promise<void>;
  /** Forgets cursor, counters and status (the trigger changed type). */
  deleteTriggerState(id: string): Promise<void>;

  // the event path
  accept(events: Envelope[], opts?: AcceptOptions): Promise<AcceptResult>;
  claimEvents(now: number, limit: number, owner: string, leaseMs: number): Promise<Envelope[]>;
  completeEvents(outcomes: EventOutcome[]): Promise<void>;
  claimDue(
    now: number,
    limit: number,
    owner: string,
    leaseMs: number,
    excludeDestinations?: string[],
  ): Promise<Delivery[]>;
  /** Applies the settlements this owner still holds the lease for; resolves to their ids. */
  settle(results: Settlement[], owner: string): Promise<string[]>;
  /** Moves a dead delivery's work to its fallback destination: inserts it, marks the old. */
  insertDeliveries(ds: NewDelivery[]): Promise<void>;

  getEvent(scope: Scope, id: string): Promise<StoredEvent | null>;
  listEvents(scope: Scope, filter: EventFilter, page: PageQuery): Promise<Page<StoredEvent>>;
  eventDeliveries(eventId: string): Promise<DeliveryWithAttempts[]>;
  /** Puts an event back to "accepted" so the processor runs it again. */
  replayEvent(scope: Scope, id: string, now: number): Promise<boolean>;

  // dead letters
  listDead(scope: Scope, filter: DeadFilter, page: PageQuery): Promise<Page<Delivery>>;
  deadStats(scope: Scope): Promise<{
    total: number;
    by_destination: Array<{ destination_id: string; count: number }>;
    by_error: Array<{ error: string; count: number }>;
  }>;
  retryDead(scope: Scope, filter: DeadFilter, now: number): Promise<number>;
  discardDead(scope: Scope, filter: DeadFilter, now: number): Promise<number>;

  stats(scope: Scope, now: number): Promise<Stats>;
  queueDepth(now: number): Promise<QueueDepth>;
  /** Received events and settled deliveries per bucket of `bucketMs` in [since, until). */
  timeseries(scope: Scope, since: number, until: number, bucketMs: number): Promise<TimeBucket[]>;

  // settings, aggregation state, leases, retention
  getSettings(): Promise<Record<string, unknown>>;
  setSettings(patch: Record<string, unknown>): Promise<Record<string, unknown>>;
  stateGet(key: string, now: number): Promise<string | null>;
  stateSet(key: string, value: string, expiresAt: number | null): Promise<void>;
  stateDelete(key: string): Promise<void>;
  stateKeys(prefix: string, now: number): Promise<string[]>;
  tryLease(name: string, owner: string, ttlMs: number, now: number): Promise<boolean>;
  /** Frees the lease (only for `owner`, and only at `fence` when given). */
  releaseLease(name: string, owner: string, fence?: number): Promise<void>;
  /** Takes the lease when it is free or expired; resolves to its new fence, or null. The fence
   * grows on every acquisition and survives releases. */
  acquireLease(name: string, owner: string, ttlMs: number, now: number): Promise<number | null>;
  /** Extends a held lease; false when another owner took it since (its fence changed). */
  renewLease(
    name: string,
    owner: string,
    fence: number,
    ttlMs: number,
    now: number,
  ): Promise<boolean>;
  purgeDelivered(olderThan: number): Promise<number>;
  /** Where pipeline aggregation keeps its windows, batches and dedup keys. */
  pipelineState?(): AggregateState;
}
