/**
 * The pipeline: compile a route (rules + stages) once per version, run events through it,
 * flush aggregates, dry-run definitions. Runtime-agnostic: Web APIs only, fetch and state are
 * passed in. See docs/pipeline.md for every operator and operation.
 */
export {
  buildRoute,
  clearRouteCache,
  type CompiledRoute,
  compileRoute,
  parseRouteDefinition,
  RouteDefinitionError,
  type RouteIssue,
  validateRouteDefinition,
} from "./compile.ts";
export { runRoute } from "./run.ts";
export { flushDue } from "./flush.ts";
export { dryRun, dryRunEvent, type DrySample, sampleToEvent } from "./dry_run.ts";
export { checkAtIngress } from "./ingress_check.ts";
export { parseBody, parseQuery, toPipelineEvent } from "./event.ts";
export type { AggregateState, AppendOptions, Bucket, BucketEntry } from "./aggregate_state.ts";
export { MemoryState } from "./memory_state.ts";
export type {
  ErrorPolicy,
  FlushResult,
  OutDelivery,
  PipelineDeps,
  PipelineEvent,
  RouteOutcome,
  StageTrace,
} from "./types.ts";
export {
  type DestinationEntry,
  DestinationEntrySchema,
  type ParsedRouteDefinition,
  PipelineSchema,
  type RouteDefinition,
  RouteDefinitionSchema,
  type Stage,
  StageSchema,
} from "./schema.ts";
export { OPERATIONS } from "./ops/registry.ts";
export { SEAL_LEASE_MS } from "./stages/aggregate.ts";
