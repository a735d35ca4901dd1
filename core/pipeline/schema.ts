/**
 * JSON shapes of a route's `pipeline`, its `destinations` entries (each with an optional
 * per-destination pipeline) and the route definition the pipeline compiles. Parse errors carry
 * the path of the bad field (`pipeline[1].operations[0].path`).
 */
import { z } from "zod";
import { FiltersSchema, RulesSchema } from "../routing/schema.ts";
import { dispatch, isRecord } from "../routing/zod_dispatch.ts";
import { OperationSchema } from "./ops/registry.ts";
import { RefString, TargetString } from "./ops/op.ts";

export const ERROR_POLICIES = ["retry", "dead_letter", "drop"] as const;
export const OnErrorSchema = z.enum(ERROR_POLICIES);

const common = {
  /** Unique within its pipeline; shown in traces; part of aggregate state keys. */
  name: z.string().min(1).max(100).regex(/^[^:#/]+$/, 'name cannot contain ":", "#" or "/"')
    .optional(),
  on_error: OnErrorSchema.optional(),
};

export const TransformStageSchema = z.strictObject({
  type: z.literal("transform"),
  ...common,
  /** A JSONata expression whose result becomes the body. */
  expression: z.string().min(1).optional(),
  /** Named operations, run in order. */
  operations: z.array(OperationSchema).min(1).optional(),
}).refine(
  (s) => (s.expression === undefined) !== (s.operations === undefined),
  'a transform stage needs exactly one of "expression" and "operations"',
);

export const VALIDATE_FAILURES = ["reject", "drop", "dead_letter", "tag"] as const;

export const ValidateStageSchema = z.strictObject({
  type: z.literal("validate"),
  ...common,
  /** A JSON Schema (draft 2020-12 subset ajv supports, draft-07 keywords too). */
  schema: z.union([z.record(z.string(), z.unknown()), z.boolean()]).optional(),
  /** A JSONata expression that must evaluate to true. */
  expression: z.string().min(1).optional(),
  /** What is validated; default the whole body. */
  target: RefString.default("$"),
  on_failure: z.enum(VALIDATE_FAILURES).default("reject"),
  /** With on_failure "tag": header set to the stage name (default x-validation-failed). */
  tag_header: z.string().min(1).default("x-validation-failed"),
  /** With on_failure "tag": body field receiving the list of errors. */
  tag_field: TargetString.optional(),
}).refine(
  (s) => s.schema !== undefined || s.expression !== undefined,
  'a validate stage needs "schema", "expression" or both',
);

const Secret = z.string().min(1);

/** The auth kinds of an enrich stage, by `type` (the OpenAPI document lists each). */
export const ENRICH_AUTH_TYPES = {
  bearer: z.strictObject({ type: z.literal("bearer"), token: Secret }),
  basic: z.strictObject({ type: z.literal("basic"), username: z.string(), password: Secret }),
  oauth2_client_credentials: z.strictObject({
    type: z.literal("oauth2_client_credentials"),
    token_url: z.url({ protocol: /^https?$/ }),
    client_id: z.string().min(1),
    client_secret: Secret,
    scope: z.string().optional(),
    audience: z.string().optional(),
    client_auth: z.enum(["basic", "body"]).default("basic"),
  }),
  oauth2_refresh_token: z.strictObject({
    type: z.literal("oauth2_refresh_token"),
    token_url: z.url({ protocol: /^https?$/ }),
    client_id: z.string().min(1),
    client_secret: Secret.optional(),
    refresh_token: Secret,
    scope: z.string().optional(),
    client_auth: z.enum(["basic", "body"]).default("basic"),
  }),
};

export const EnrichAuthSchema = dispatch<EnrichAuth>((v) => {
  if (!isRecord(v) || typeof v.type !== "string") return 'auth needs a "type"';
  if (Object.hasOwn(ENRICH_AUTH_TYPES, v.type)) {
    return ENRICH_AUTH_TYPES[v.type as keyof typeof ENRICH_AUTH_TYPES];
  }
  return `unknown auth type "${v.type}"; use bearer, basic, oauth2_client_credentials or oauth2_refresh_token`;
});

export type EnrichAuth =
  | { type: "bearer"; token: string }
  | { type: "basic"; username: string; password: string }
  | {
    type: "oauth2_client_credentials";
    token_url: string;
    client_id: string;
    client_secret: string;
    scope?: string;
    audience?: string;
    client_auth: "basic" | "body";
  }
  | {
    type: "oauth2_refresh_token";
    token_url: string;
    client_id: string;
    client_secret?: string;
    refresh_token: string;
    scope?: string;
    client_auth: "basic" | "body";
  };

export const EnrichStageSchema = z.strictObject({
  type: z.literal("enrich"),
  ...common,
  /** http(s) URL; {{ref}} placeholders are URL-encoded and must be present. */
  url: z.string().regex(/^https?:\/\//, "url must start with http:// or https://"),
  method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]).default("GET"),
  /** Header values may hold {{ref}} placeholders. */
  headers: z.record(z.string(), z.string()).default({}),
  /** JSON request body; string values inside may hold {{ref}} placeholders. */
  body: z.unknown().optional(),
  auth: EnrichAuthSchema.optional(),
  timeout_ms: z.number().int().min(1).max(60_000).default(5_000),
  /** Responses are cached in the state store for this long (0: no cache). */
  cache_ttl_ms: z.number().int().min(0).max(86_400_000).default(0),
  /** Cache key template; default: method, URL and body. */
  cache_key: z.string().optional(),
  /** Where the response goes; "$" merges it into the body. */
  into: TargetString.default("$"),
  merge: z.enum(["deep", "shallow", "replace"]).optional(),
  /** JSONata over the response, to keep only what is needed. */
  select: z.string().min(1).optional(),
  /** A 404 answer merges null instead of failing. */
  allow_not_found: z.boolean().default(false),
  max_response_bytes: z.number().int().min(1).max(16 * 1024 * 1024).default(1024 * 1024),
});

export const AGGREGATE_MODES = ["count", "sum", "collect", "batch", "dedupe"] as const;

export const AggregateStageSchema = z.strictObject({
  type: z.literal("aggregate"),
  ...common,
  mode: z.enum(AGGREGATE_MODES),
  /** Group key: a ref whose value separates windows, batches or dedupe keys. */
  key: RefString.optional(),
  /** Tumbling window (count, sum, collect) or dedupe horizon. */
  window_ms: z.number().int().min(1).max(31 * 86_400_000).optional(),
  /** sum: the number to add; collect: the value to keep (default the body). */
  field: RefString.optional(),
  /** batch: emit when this many events are in. */
  max_count: z.number().int().min(1).max(100_000).optional(),
  /** batch: emit this long after the first event even when not full. */
  max_wait_ms: z.number().int().min(1).max(31 * 86_400_000).optional(),
  /** collect / batch: items kept per bucket (events beyond still count). */
  max_items: z.number().int().min(1).max(100_000).default(10_000),
  /** count / sum / collect: hold until the window ends, or annotate each event and go on. */
  emit: z.enum(["window_end", "each"]).default("window_end"),
  /** emit "each": where the running totals are written. */
  into: TargetString.default("$meta.aggregate"),
}).superRefine((s, ctx) => {
  const need = (field: string, why: string) =>
    ctx.addIssue({ code: "custom", path: [field], message: `${field} is required ${why}` });
  if (s.mode === "dedupe") {
    if (!s.key) need("key", "for mode dedupe");
    if (!s.window_ms) need("window_ms", "for mode dedupe");
  } else if (s.mode === "batch") {
    if (!s.max_count && !s.max_wait_ms) {
      ctx.addIssue({ code: "custom", message: "mode batch needs max_count, max_wait_ms or both" });
    }
  } else {
    if (!s.window_ms) need("window_ms", `for mode ${s.mode}`);
    if (s.mode === "sum" && !s.field) need("field", "for mode sum");
  }
});

export type TransformStage = z.infer<typeof TransformStageSchema>;
export type ValidateStage = z.infer<typeof ValidateStageSchema>;
export type EnrichStage = z.infer<typeof EnrichStageSchema>;
export type AggregateStage = z.infer<typeof AggregateStageSchema>;
export type Stage = TransformStage | ValidateStage | EnrichStage | AggregateStage;

export const StageSchema: z.ZodType<Stage> = dispatch<Stage>((v) => {
  if (!isRecord(v)) return "a stage must be an object";
  switch (v.type) {
    case "transform":
      return TransformStageSchema;
    case "validate":
      return ValidateStageSchema;
    case "enrich":
      return EnrichStageSchema;
    case "aggregate":
      return AggregateStageSchema;
  }
  return `unknown stage type ${
    JSON.stringify(v.type)
  }; use transform, validate, enrich or aggregate`;
});

function uniqueNames(stages: readonly Stage[], ctx: z.RefinementCtx) {
  const seen = new Set<string>();
  stages.forEach((s, i) => {
    const name = s.name ?? `${s.type}#${i + 1}`;
    if (seen.has(name)) {
      ctx.addIssue({
        code: "custom",
        path: [i, "name"],
        message: `duplicate stage name "${name}"`,
      });
    }
    seen.add(name);
  });
}

export const PipelineSchema = z.array(StageSchema).max(50).superRefine(uniqueNames);

export const DestinationEntrySchema = z.object({
  destination_id: z.string().min(1),
  /** Share in a weighted split (default 1; 0 never chosen). */
  weight: z.number().min(0).max(1_000_000).optional(),
  /** Order in a priority choice: lower first. */
  priority: z.number().int().optional(),
  /** Used when this destination's circuit is open or its delivery goes dead. */
  fallback_destination_id: z.string().min(1).optional(),
  /** Stages run only for this destination, after the route's pipeline. */
  pipeline: PipelineSchema.optional(),
}).superRefine((d, ctx) => {
  if (d.fallback_destination_id === d.destination_id) {
    ctx.addIssue({
      code: "custom",
      path: ["fallback_destination_id"],
      message: "a destination cannot be its own fallback",
    });
  }
});
export type DestinationEntry = z.infer<typeof DestinationEntrySchema>;

/** What compileRoute takes; other route fields (name, signature_config, ...) are ignored. */
export const RouteDefinitionSchema = z.object({
  id: z.string().min(1),
  /** Changes whenever the route changes (a counter or updatedAt): the compile cache key. */
  version: z.union([z.number(), z.string()]),
  filters: FiltersSchema.nullish(),
  rules: RulesSchema.nullish(),
  pipeline: PipelineSchema.nullish(),
  destinations: z.array(DestinationEntrySchema).max(100).default([]),
}).superRefine((r, ctx) => {
  // Runs even when other fields failed (see `when`), so the input may be malformed: every
  // access is defensive, and every problem is reported in one answer.
  const dests = Array.isArray(r.destinations) ? r.destinations : [];
  const ids = new Set<string>();
  dests.forEach((d, i) => {
    const id = (d as { destination_id?: unknown })?.destination_id;
    if (typeof id !== "string") return;
    if (ids.has(id)) {
      ctx.addIssue({
        code: "custom",
        path: ["destinations", i, "destination_id"],
        message: `destination "${id}" is listed twice`,
      });
    }
    ids.add(id);
  });
  const rules = Array.isArray(r.rules) ? r.rules : [];
  rules.forEach((rule, i) => {
    const list = (rule as { destinations?: unknown })?.destinations;
    if (!Array.isArray(list)) return;
    list.forEach((id, k) => {
      if (typeof id === "string" && !ids.has(id)) {
        ctx.addIssue({
          code: "custom",
          path: ["rules", i, "destinations", k],
          message: `"${id}" is not one of the route's destinations`,
        });
      }
    });
  });
}, { when: (payload) => typeof payload.value === "object" && payload.value !== null });
export type RouteDefinition = z.input<typeof RouteDefinitionSchema>;
export type ParsedRouteDefinition = z.output<typeof RouteDefinitionSchema>;
