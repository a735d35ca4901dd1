/**
 * The shapes of the API's answers, so the OpenAPI document types every response body and a
 * generated client gets real types. Each mirrors a `present*` function of the resource file.
 */
import { z } from "@hono/zod-openapi";
import { retryPolicySchema } from "../model/destination.ts";
import { routeBody } from "../model/route.ts";

const when = z.string().openapi({ format: "date-time" });
const maybeWhen = when.nullable();
const json = z.record(z.string(), z.unknown());

export const pageOf = <T extends z.ZodType>(item: T, name: string) =>
  z.object({
    items: z.array(item),
    total: z.number().int(),
    limit: z.number().int(),
    offset: z.number().int(),
  }).openapi(name);

export const Deleted = z.object({ deleted: z.boolean() }).openapi("Deleted");
export const Ok = z.object({ ok: z.boolean() }).openapi("Ok");

export const UserOut = z.object({
  id: z.string(),
  username: z.string(),
  role: z.enum(["admin", "user"]),
  must_change_password: z.boolean(),
  created_at: when,
  updated_at: when,
}).openapi("User");

export const DestinationOut = z.object({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  config: json.openapi({
    description: "The type's config (DestinationConfig_<type>), secrets masked as ****<tag>",
  }),
  retry: retryPolicySchema.nullable(),
  active: z.boolean(),
  owner: z.string(),
  created_at: when,
  updated_at: when,
}).openapi("Destination");

export const TypeList = z.object({
  items: z.array(z.object({ type: z.string(), config_schema: json })),
}).openapi("TypeList");

export const RouteOut = z.object({
  ...routeBody.shape,
  id: z.string(),
  endpoint: z.string().openapi({ example: "/webhook/wh_k8n5p3m7q2x4" }),
  owner: z.string(),
  version: z.number().int(),
  created_at: when,
  updated_at: when,
}).openapi("Route");

export const TriggerOut = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().optional(),
  type: z.string(),
  route_id: z.string(),
  config: json.openapi({ description: "The type's config (TriggerConfig_<type>), secrets masked" }),
  active: z.boolean(),
  owner: z.string(),
  status: json.openapi({ description: "Live state: state, lag, last_error, node, ..." }),
  last_run_at: maybeWhen,
  next_run_at: maybeWhen,
  last_error: z.string().nullable(),
  events_emitted: z.number().int(),
  cursor: z.unknown().openapi({ description: "The source's durable position, where it has one" }),
  created_at: when,
  updated_at: when,
}).openapi("Trigger");

const body = {
  body: z.string().openapi({ description: "UTF-8 text, or base64 (see body_encoding)" }),
  body_encoding: z.enum(["utf8", "base64"]),
};

export const DeliveryOut = z.object({
  id: z.string(),
  event_id: z.string(),
  route_id: z.string().nullable(),
  destination_id: z.string(),
  status: z.enum(["pending", "delivered", "dead", "discarded"]),
  attempts: z.number().int(),
  next_attempt_at: maybeWhen,
  last_error: z.string().nullable(),
  headers: z.record(z.string(), z.string()),
  ...body,
  created_at: when,
  updated_at: when,
  attempt_log: z.array(z.object({
    n: z.number().int(),
    at: when,
    outcome: z.enum(["delivered", "retry", "dead"]),
    error: z.string().nullable(),
    duration_ms: z.number().nullable(),
  })).optional(),
}).openapi("Delivery");

export const EventOut = z.object({
  id: z.string(),
  route_id: z.string().nullable(),
  source: z.string().openapi({ description: "webhook, trigger:<id>, edge:<id>" }),
  received_at: when,
  method: z.string(),
  path: z.string(),
  query: z.string(),
  source_ip: z.string(),
  headers: z.record(z.string(), z.string()),
  ...body,
  status: z.enum(["accepted", "processed", "failed", "dropped", "held"]),
  error: z.string().nullable(),
  attempts: z.number().int().openapi({
    description: "pipeline attempts so far (a failing stage retries on the delivery schedule)",
  }),
  processed_at: maybeWhen,
}).openapi("Event");

export const EventDetail = EventOut.extend({ deliveries: z.array(DeliveryOut) }).openapi(
  "EventDetail",
);

export const DeadStats = z.object({
  total: z.number().int(),
  by_destination: z.array(z.object({ destination_id: z.string(), count: z.number().int() })),
  by_error: z.array(z.object({ error: z.string(), count: z.number().int() })),
}).openapi("DeadLetterStats");

const window = z.object({
  received: z.number().int(),
  delivered: z.number().int(),
  dead: z.number().int(),
});

export const StatsOut = z.object({
  received: z.number().int(),
  delivered: z.number().int(),
  retrying: z.number().int(),
  pending: z.number().int(),
  dead: z.number().int(),
  last_hour: window,
  last_24h: window,
  per_route: z.array(z.object({ route_id: z.string().nullable(), received: z.number().int() })),
  per_destination: z.array(z.object({
    destination_id: z.string(),
    delivered: z.number().int(),
    pending: z.number().int(),
    retrying: z.number().int(),
    dead: z.number().int(),
    last_delivered_at: maybeWhen,
    last_error: z.string().nullable(),
    last_error_at: maybeWhen,
    circuit: z.enum(["closed", "open", "half-open"]).nullable(),
  })),
}).openapi("Stats");

export const RouteTestResult = z.looseObject({
  route_id: z.string(),
  outcome: z.string().openapi({ description: "deliver, drop, reject, fail or retry" }),
  matched: z.boolean().optional(),
  rules: z.array(z.unknown()).optional().openapi({
    description: "each rule and whether it matched",
  }),
  stages: z.array(z.unknown()).optional().openapi({ description: "each stage's output" }),
  reason: z.string().optional(),
  failed: z.object({ stage: z.string(), error: z.string(), policy: z.string() }).optional(),
  destinations: z.array(z.string()).optional(),
  deliveries: z.array(z.looseObject({
    destination_id: z.string(),
    headers: z.record(z.string(), z.string()),
    body: z.unknown(),
  })),
  delivered: z.literal(false),
}).openapi("RouteTestResult", {
  description: "What the route would do; also each stage's output (traces) where it has stages",
});
