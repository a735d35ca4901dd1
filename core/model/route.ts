import { z } from "@hono/zod-openapi";
import { checkDepth } from "./depth.ts";

export const HTTP_METHODS = ["POST", "PUT", "PATCH", "GET", "DELETE", "ANY"] as const;

/** One destination of a route; the pipeline stages and routing extras are validated by the
 * routing/pipeline schemas when the route is compiled. */
export const routeDestinationSchema = z.object({
  destination_id: z.string().regex(/^dest_[a-z0-9]+$/, "must be a destination id (dest_...)"),
}).passthrough();

export const routeLimitsSchema = z.strictObject({
  max_body_bytes: z.number().int().min(1).max(64 * 1024 * 1024).optional(),
  rate_per_second: z.number().min(0.01).max(1_000_000).optional(),
  burst: z.number().int().min(1).max(10_000_000).optional(),
});

/** Unknown keys are refused (a misspelt `signature_confg` must not leave a route unsigned). */
export const routeBody = z.strictObject({
  name: z.string().min(1).max(200),
  description: z.string().max(2000).optional(),
  method: z.enum(HTTP_METHODS).default("POST"),
  destinations: z.array(routeDestinationSchema).max(100).default([]),
  // The seed README's shorthand: no destinations + queue -> the default RabbitMQ.
  queue: z.string().min(1).max(255).optional(),
  exchange: z.string().max(255).optional(),
  routing_key: z.string().max(255).optional(),
  /** Checked by core/verify/signature_config.ts; documented as the SignatureConfig schema. */
  signature_config: z.record(z.string(), z.unknown()).optional().openapi({
    $ref: "#/components/schemas/SignatureConfig",
  } as never),
  filters: z.record(z.string(), z.unknown()).optional(),
  rules: z.array(z.record(z.string(), z.unknown())).optional(),
  pipeline: z.array(z.record(z.string(), z.unknown())).optional(),
  response: z.record(z.string(), z.unknown()).optional(),
  limits: routeLimitsSchema.optional(),
  /** The node's default route: `POST /webhook` delivers into it. Admins only; one at most. */
  default: z.boolean().optional(),
  active: z.boolean().default(true),
}).superRefine(
  checkDepth(["destinations", "signature_config", "filters", "rules", "pipeline", "response"]),
).openapi("RouteRequest");
export type RouteBody = z.infer<typeof routeBody>;

export interface Route {
  id: string;
  owner: string;
  name: string;
  endpoint: string; // /webhook/wh_...
  method: typeof HTTP_METHODS[number];
  /** Everything else of the body; signature secrets sealed. */
  spec: Omit<RouteBody, "name" | "method" | "active">;
  active: boolean;
  version: number;
  createdAt: number;
  updatedAt: number;
}

/** The path of the default webhook (the seed's `POST /webhook`). */
export const DEFAULT_WEBHOOK_PATH = "/webhook";
