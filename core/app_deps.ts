import type {
  Clock,
  Coordinator,
  Envelope,
  Logger,
  Metrics,
  PollResult,
  PublisherFactory,
  Sealer,
  SourceFactory,
  SourceStatus,
} from "./ports.ts";
import type { Trigger } from "./model/trigger.ts";
import type { AcceptResult, Store } from "./store.ts";
import type { Planner } from "./delivery/planner.ts";
import type { Api } from "./api/env.ts";
import type { AddressPolicy } from "./net/policy.ts";

/** Everything the runtime-agnostic app needs; each runtime builds this and calls createApp. */
export interface AppDeps {
  store: Store;
  sealer: Sealer;
  jwtSecret: Uint8Array;
  log: Logger;
  metrics: Metrics;
  clock: Clock;
  version: string;
  tokenTtlSeconds: number;
  /** Destination types this node can deliver to (the registry): the API's type list, config
   * validation and OpenAPI schemas come from here. */
  publishers: Record<string, PublisherFactory>;
  /** Trigger (source) types this node can run, the same way (adapters/sources/registry.ts). */
  sources?: Record<string, SourceFactory>;
  /** The node's trigger runtime: run a trigger once now; live state of those running here. */
  triggers?: TriggerControl;
  /** Overrides for destinations owned by non-admin users (e.g. `file` confined to a folder). */
  tenantPublishers?: Record<string, PublisherFactory>;
  /** Overrides for triggers owned by non-admin users (e.g. sqs/pubsub need own credentials). */
  tenantSources?: Record<string, SourceFactory>;
  /** Node defaults filled into a destination or trigger config before validation and use
   * (e.g. the RABBITMQ_URL for a rabbitmq destination or trigger without `url`). */
  configDefaults?(
    type: string,
    config: Record<string, unknown>,
    kind?: "destination" | "trigger",
  ): Record<string, unknown>;
  /**
   * The address policy of tenants (non-admin owners), live with the settings: saving a config
   * that names a forbidden address literally answers 400 (connections are guarded anyway).
   */
  addressPolicy: AddressPolicy;
  /** Routing and pipeline: used at ingest for inline routes and by the dry run. */
  planner: Planner;
  /** Durable accept (group commit). Resolves only after the events are committed. */
  accept(events: Envelope[]): Promise<AcceptResult>;
  /**
   * The same for events whose ids were just minted and that carry no sender dedup key (direct
   * webhooks): nothing can make them duplicates, so the runtime may commit them on a faster
   * durable path (the full node's ingest journal). Unset, `accept` takes them.
   */
  acceptFresh?(events: Envelope[]): Promise<AcceptResult>;
  /** Seconds a webhook sender should wait when the node is over capacity (503 with
   * Retry-After), or null when there is room; checked on every webhook. */
  overloaded?(): number | null;
  /** Called after a route, destination or trigger changes, so caches and runners follow. */
  changed(kind: "route" | "destination" | "trigger", id: string): void;
  /** Nudges the processor/dispatcher after work was added. */
  wake(): void;
  /** What ingest runs with now: `ingestBase` with the settings applied (changed live). */
  ingest: {
    maxBodyBytes: number;
    globalRatePerSecond: number; // 0 = unlimited
    globalBurst: number;
  };
  /** The node's own ingest limits (environment), for settings that are unset; default: the
   * `ingest` given at creation. */
  ingestBase?: AppDeps["ingest"];
  /** Extra liveness checks for /health (brokers, coordination). */
  healthChecks?: Record<string, () => Promise<boolean>>;
  /** Called with the whole settings object after an admin changed it. */
  settingsChanged?(settings: Record<string, unknown>): void;
  /** The edge hop (`EDGE_SECRET`); unset, the `/edge/v1/*` endpoints answer 404. */
  edge?: { secret: string };
  /** Renders the Prometheus exposition (the runtime owns the registry). */
  renderMetrics?: () => Promise<string>;
  /** The circuit breaker of a destination, where the runtime delivers ("closed" = flowing). */
  circuitState?(destinationId: string): "closed" | "open" | "half-open";
  /** Every destination whose breaker is not closed (/health). */
  openCircuits?(now: number): Map<string, "open" | "half-open">;
  /** The node's leases (store, Redis or Deno KV): /health pings it. */
  coordinator?: Coordinator;
  /** How often an open live tail asks the store for new events (default 1000 ms). */
  liveTailIntervalMs?: number;
  /**
   * The admin pages and /docs. They live in ui/ (not core/), so the runtime passes them in;
   * `mount` adds their routes to the app, which it may call in-process for the API.
   */
  ui?: { mount(app: Api): void };
}

export interface TriggerControl {
  /** Throws an error with `status` (400/409/502), `code` and a message when it cannot run. */
  runNow(t: Trigger): Promise<PollResult>;
  /** Ids of the triggers running on this node. */
  running?(): string[];
  live(id: string):
    | {
      status: SourceStatus;
      lastRunAt: number | null;
      nextRunAt: number | null;
      lastError: string | null;
    }
    | undefined;
}

/** What validating and saving configuration needs (the API and config as code share it). */
export type ConfigDeps = Pick<
  AppDeps,
  | "store"
  | "sealer"
  | "publishers"
  | "tenantPublishers"
  | "sources"
  | "tenantSources"
  | "configDefaults"
  | "addressPolicy"
  | "clock"
>;
