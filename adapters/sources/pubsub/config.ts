/**
 * Trigger config of type `pubsub`, e.g. `{"project_id": "acme", "subscription": "orders-sub",
 * "credentials": {...service account JSON...}}`; for the emulator (or pstest)
 * `{"project_id": "test-project", "subscription": "orders-sub", "emulator_host":
 * "127.0.0.1:8085"}`. The subscription must exist (the router does not create it).
 */
import { z } from "zod";
import { parseWith } from "../../brokers/sqs/aws.ts";
import { checkCredentials, pubsubConnectionShape } from "../../brokers/pubsub/client.ts";

const SUBSCRIPTION =
  /^(projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/subscriptions\/)?[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;

export const pubsubSourceSchema = z.strictObject({
  ...pubsubConnectionShape,
  /** Subscription name, or its full path `projects/<project>/subscriptions/<name>`. */
  subscription: z.string().regex(
    SUBSCRIPTION,
    "must be a subscription name (letters first, 3 to 255 characters)",
  ),
  /** Flow control: messages received and not yet acknowledged, at most. */
  flow_control: z.strictObject({
    max_messages: z.number().int().min(1).max(100_000).default(1_000),
  }).default({ max_messages: 1_000 }),
  /** Most messages one Pull asks for, and in one commit to the store. */
  max_batch: z.number().int().min(1).max(1_000).default(500),
  /** Pull calls in flight at once; what they bring is committed together. */
  pullers: z.number().int().min(1).max(16).default(2),
}).superRefine(checkCredentials);

export type PubsubSourceConfig = z.output<typeof pubsubSourceSchema>;

export function parsePubsubSourceConfig(input: unknown): PubsubSourceConfig {
  return parseWith("pubsub", pubsubSourceSchema, input);
}
