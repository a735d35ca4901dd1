import { z } from "@hono/zod-openapi";
import { checkDepth } from "./depth.ts";

/** A destination type's name; which types exist is the injected registry's business
 * (adapters/brokers/registry.ts), so adding a broker never touches core/. */
export type DestinationType = string;

/** Delivery policy per destination: attempts and the retry schedule in seconds. */
export const retryPolicySchema = z.strictObject({
  max_attempts: z.number().int().min(1).max(50).optional(),
  schedule_seconds: z.array(z.number().min(0).max(7 * 86400)).min(1).max(50).optional(),
});

/** Unknown keys are refused, as in every API body. */
export const destinationBody = z.strictObject({
  name: z.string().min(1).max(200),
  type: z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, "must be a destination type such as http"),
  config: z.record(z.string(), z.unknown()).default({}),
  retry: retryPolicySchema.optional(),
  active: z.boolean().default(true),
}).superRefine(checkDepth(["config"])).openapi("DestinationRequest");
export type DestinationBody = z.infer<typeof destinationBody>;

export interface Destination {
  id: string;
  owner: string;
  name: string;
  type: DestinationType;
  /** Config with secret fields sealed. */
  config: Record<string, unknown>;
  retry?: z.infer<typeof retryPolicySchema>;
  active: boolean;
  createdAt: number;
  updatedAt: number;
}
