/**
 * The route's config shapes in the OpenAPI document, made from the very zod schemas that
 * validate them (z.toJSONSchema), so the document cannot drift from what the API accepts.
 * The few schemas that pick a sub-schema by looking at the input (`dispatch`: conditions,
 * stages, enrich auth, operations) have no JSON Schema of their own; each becomes a component
 * listing its alternatives (`oneOf`), and every use of it refers to that component.
 */
import { z } from "zod";
import { ConditionSchema, FiltersSchema, LeafSchema, RuleSchema } from "../routing/schema.ts";
import {
  AggregateStageSchema,
  DestinationEntrySchema,
  ENRICH_AUTH_TYPES,
  EnrichAuthSchema,
  EnrichStageSchema,
  StageSchema,
  TransformStageSchema,
  ValidateStageSchema,
} from "../pipeline/schema.ts";
import { OPERATIONS, OperationSchema } from "../pipeline/ops/registry.ts";
import { signatureConfigSchema } from "../verify/signature_config.ts";
import { responseTemplateSchema } from "../ingress/response_template.ts";

type Json = Record<string, unknown>;
interface OpenApiDocument {
  components?: { schemas?: Record<string, unknown> };
}
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const DISPATCHED = new Map<unknown, string>([
  [ConditionSchema, "Condition"],
  [StageSchema, "Stage"],
  [EnrichAuthSchema, "EnrichAuth"],
  [OperationSchema, "Operation"],
]);

/** A component's JSON Schema: the client's input, dispatched parts as references. */
function toJson(schema: z.ZodType): Json {
  const out = z.toJSONSchema(schema, {
    io: "input",
    unrepresentable: "any",
    override: (ctx) => {
      const name = DISPATCHED.get(ctx.zodSchema);
      if (!name || (ctx.zodSchema as unknown) === schema) return;
      const js = ctx.jsonSchema as Json;
      for (const k of Object.keys(js)) delete js[k];
      Object.assign(js, ref(name));
    },
  }) as Json;
  delete out.$schema;
  return out;
}

/** Every component the route's parts need, by name. */
export function routeComponents(): Record<string, Json> {
  const c: Record<string, Json> = {
    SignatureConfig: toJson(signatureConfigSchema),
    Filters: toJson(FiltersSchema),
    Rule: toJson(RuleSchema),
    ConditionLeaf: toJson(LeafSchema),
    Condition: {
      description: "One field test, or all / any / not of conditions",
      oneOf: [
        ref("ConditionLeaf"),
        ...["all", "any"].map((k) => ({
          type: "object",
          properties: { [k]: { type: "array", items: ref("Condition") } },
          required: [k],
          additionalProperties: false,
        })),
        {
          type: "object",
          properties: { not: ref("Condition") },
          required: ["not"],
          additionalProperties: false,
        },
      ],
    },
    TransformStage: toJson(TransformStageSchema),
    ValidateStage: toJson(ValidateStageSchema),
    EnrichStage: toJson(EnrichStageSchema),
    AggregateStage: toJson(AggregateStageSchema),
    Stage: {
      description: "A pipeline stage, by type",
      oneOf: ["Transform", "Validate", "Enrich", "Aggregate"].map((t) => ref(`${t}Stage`)),
      discriminator: { propertyName: "type" },
    },
    EnrichAuth: {
      oneOf: Object.values(ENRICH_AUTH_TYPES).map((s) => toJson(s)),
      discriminator: { propertyName: "type" },
    },
    RouteDestination: toJson(DestinationEntrySchema),
    ResponseTemplate: toJson(responseTemplateSchema),
  };
  for (const op of OPERATIONS) {
    c[`Operation_${op.name}`] = { description: op.summary, ...toJson(op.schema) };
  }
  c.Operation = {
    description: "A named transform operation (docs/pipeline.md has each with an example)",
    oneOf: OPERATIONS.map((op) => ref(`Operation_${op.name}`)),
    discriminator: { propertyName: "op" },
  };
  return hoistDefs(c);
}

/** `$defs` inside a component (recursive JSON values) become components of their own. */
function hoistDefs(c: Record<string, Json>): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [name, schema] of Object.entries(c)) {
    const defs = (schema.$defs ?? {}) as Record<string, Json>;
    delete schema.$defs;
    const rename = (d: string) => `${name}_${d.replace(/^_+/, "")}`;
    const fix = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(fix);
      if (!v || typeof v !== "object") return v;
      const o: Json = {};
      for (const [k, x] of Object.entries(v)) {
        o[k] = k === "$ref" && typeof x === "string" && x.startsWith("#/$defs/")
          ? `#/components/schemas/${rename(x.slice(8))}`
          : fix(x);
      }
      return o;
    };
    out[name] = fix(schema) as Json;
    for (const [d, s] of Object.entries(defs)) out[rename(d)] = fix(s) as Json;
  }
  return out;
}

/** The route body's free-form parts, as the components above. */
const ROUTE_PARTS: Record<string, Json> = {
  signature_config: ref("SignatureConfig"),
  filters: ref("Filters"),
  rules: { type: "array", items: ref("Rule"), maxItems: 500 },
  pipeline: { type: "array", items: ref("Stage"), maxItems: 50 },
  response: ref("ResponseTemplate"),
  destinations: { type: "array", items: ref("RouteDestination"), maxItems: 100 },
};

/**
 * Adds the components and points the route schemas' parts at them. The route body validates
 * these parts after the body parser (with messages naming the field), so its own zod schema
 * keeps them as plain objects; the document says what they hold.
 */
export function describeRouteParts<D extends OpenApiDocument>(doc: D, schemas: string[]): D {
  const components = (doc.components ??= {});
  const all = (components.schemas ??= {}) as Record<string, Json>;
  Object.assign(all, routeComponents());
  for (const name of schemas) {
    const props = all[name]?.properties as Record<string, Json> | undefined;
    if (!props) continue;
    for (const [k, v] of Object.entries(ROUTE_PARTS)) {
      if (props[k]) props[k] = { ...v, ...(props[k].default ? { default: props[k].default } : {}) };
    }
  }
  return doc;
}
