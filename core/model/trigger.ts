/**
 * A trigger is a tenant's event source `{name, type, route_id, config, active}` (seed README
 * shapes, snake_case). Its events go into its route like webhooks do. The config is checked by
 * the type's own schema, which comes from the sources registry the runtime injects, never from
 * a list in core/.
 */
import { z } from "@hono/zod-openapi";
import { checkDepth } from "./depth.ts";

export const triggerBody = z.strictObject({
  name: z.string().min(1).max(200),
  description: z.string().max(2000).optional(),
  type: z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, "must be a trigger type such as polling"),
  route_id: z.string().regex(/^route_[a-z0-9]+$/, "must be a route id (route_...)"),
  config: z.record(z.string(), z.unknown()).default({}),
  active: z.boolean().default(true),
}).superRefine(checkDepth(["config"]));
export type TriggerBody = z.infer<typeof triggerBody>;

export interface Trigger {
  id: string; // trigger_...
  owner: string;
  name: string;
  description?: string | null;
  type: string;
  routeId: string;
  /** Config with secret fields sealed. */
  config: Record<string, unknown>;
  active: boolean;
  createdAt: number;
  updatedAt: number;
}

/**
 * What the runtime keeps per trigger between runs and across restarts. The cursor is the
 * source's own durable position (ETag, hash, item ids, UID, offset, sync token); `secrets` are
 * sealed values a source keeps (a rotated OAuth2 refresh token); the rest is shown on the API.
 */
export interface TriggerState {
  triggerId: string;
  cursor: string | null;
  /** Fencing token of the lease under which the cursor was last written. */
  fence: number;
  status: Record<string, unknown>;
  secrets: Record<string, string>;
  lastRunAt: number | null;
  nextRunAt: number | null;
  lastError: string | null;
  eventsEmitted: number;
  updatedAt: number;
}

/** A partial update of a trigger's state; `addEmitted` is added to the stored count. */
export interface TriggerStatePatch {
  status?: Record<string, unknown>;
  secrets?: Record<string, string>;
  lastRunAt?: number | null;
  nextRunAt?: number | null;
  lastError?: string | null;
  addEmitted?: number;
}
