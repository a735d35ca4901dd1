/** The pipeline's public types: the event it reads, what it needs, and what it returns. */
import type { RoutingEvent } from "../routing/event.ts";
import type { RuleTrace } from "../routing/select.ts";
import type { AggregateState } from "./aggregate_state.ts";

/** An event as the pipeline sees it: the Envelope with its body parsed. */
export type PipelineEvent = RoutingEvent;

export type ErrorPolicy = "retry" | "dead_letter" | "drop";

export interface PipelineDeps {
  /** Already guarded by the runtime against private addresses (enrich uses it). */
  fetch: typeof fetch;
  state: AggregateState;
  now(): number;
  /** Run everything, change no state, deliver nothing; stage traces carry each output. */
  dryRun?: boolean;
  /** Put each stage's output in its trace outside dry runs too (costs a copy per stage). */
  trace?: boolean;
  /** Circuit check: true when the destination's circuit is open. */
  isOpen?(destinationId: string): boolean;
}

export interface StageTrace {
  /** The stage's `name`, or "<type>#<n>"; per-destination stages are "<destination>/<name>". */
  name: string;
  type: "transform" | "validate" | "enrich" | "aggregate";
  /** "route" or the destination id whose pipeline the stage belongs to. */
  scope: string;
  ms: number;
  /** The body after the stage (dry run or `trace`). */
  output?: unknown;
  error?: string;
  dropped?: string;
  held?: boolean;
  /** Validation failures tagged onto the event, or what an aggregate did. */
  note?: string;
}

export interface OutDelivery {
  destinationId: string;
  /** The dispatcher switches to it when this delivery goes dead or the circuit stays open. */
  fallbackDestinationId?: string;
  body: Uint8Array;
  headers: Record<string, string>;
  /** Partition / ordering key, set by the pipeline through `$key`. */
  key?: string;
}

export interface RouteOutcome {
  /** Filters passed and (when the route has rules) at least one rule matched. */
  matched: boolean;
  rules: RuleTrace[];
  stages: StageTrace[];
  deliveries: OutDelivery[];
  /** The event was dropped on purpose (a drop policy, a filter stage, a duplicate). */
  dropped?: { stage: string; reason: string };
  /** A stage failed; the processor applies the policy (retry the event later, dead-letter it). */
  /**
   * `permanent` (only when true): retrying cannot help (a refused address, a 4xx answer), so a
   * "retry" policy dead-letters at once.
   */
  failed?: { stage: string; error: string; policy: ErrorPolicy; permanent?: true };
  /** A validate stage with `on_failure: "reject"` refused the event. */
  rejected?: { stage: string; reason: string };
  /**
   * Absorbed by an aggregate stage; its result is emitted later by `flushDue`. With an aggregate
   * in one destination's pipeline, the other destinations' deliveries are still listed.
   */
  held?: boolean;
  /**
   * Present when the outcome emits a sealed aggregate (a batch that filled up). Call it after
   * the deliveries are stored; until then the batch stays in the state and is re-emitted after
   * its lease if the process dies. Idempotent. Never present in a dry run.
   */
  commit?: () => Promise<void>;
}

/** One emission from `flushDue`: an aggregate whose window ended or whose batch timed out. */
export interface FlushResult {
  /** The sealed bucket's key; stable across re-emissions, usable in delivery ids. */
  bucket: string;
  /** The first event that went into the aggregate (deliveries need an event id). */
  eventId: string;
  tenant: string;
  /** How many events the aggregate covers. */
  count: number;
  outcome: RouteOutcome;
  /** Call after storing `outcome.deliveries`; removes the bucket. */
  commit(): Promise<void>;
}
