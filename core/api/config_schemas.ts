/**
 * The per-type config schemas of the injected registries (destination and trigger types) as
 * OpenAPI: each type's zod schema becomes a component (`TriggerConfig_polling`), and the
 * request body says `oneOf` type + config, so the document describes exactly the types this
 * node was built with.
 */
import { z } from "@hono/zod-openapi";
import type { Api } from "./env.ts";

export interface TypedSchema {
  type: string;
  schema?: z.ZodType;
}

/** JSON Schema of a config as the client sends it (defaults optional, transforms' input). */
export function configJsonSchema(schema: z.ZodType | undefined): Record<string, unknown> {
  if (!schema) return { type: "object" };
  try {
    const { $schema: _drop, ...json } = z.toJSONSchema(schema, {
      io: "input",
      unrepresentable: "any",
    }) as Record<string, unknown>;
    return json;
  } catch {
    return { type: "object" };
  }
}

/** Registers one component per type and returns the `oneOf` that ties type to config. */
export function registerConfigSchemas(
  app: Api,
  prefix: "TriggerConfig" | "DestinationConfig",
  factories: Record<string, TypedSchema>,
): Record<string, unknown>[] {
  return Object.entries(factories).sort(([a], [b]) => a.localeCompare(b)).map(([type, f]) => {
    const name = `${prefix}_${type.replace(/[^A-Za-z0-9_]/g, "_")}`;
    app.openAPIRegistry.registerComponent("schemas", name, configJsonSchema(f.schema) as never);
    return {
      properties: {
        type: { const: type },
        config: { $ref: `#/components/schemas/${name}` },
      },
    };
  });
}

/** `GET .../types`: every type with its config schema, for forms and clients. */
export function typeList(factories: Record<string, TypedSchema>) {
  return {
    items: Object.keys(factories).sort().map((type) => ({
      type,
      config_schema: configJsonSchema(factories[type].schema),
    })),
  };
}
