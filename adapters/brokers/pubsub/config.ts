/**
 * Pub/Sub destination config, e.g. `{"project_id": "acme", "topic": "orders", "ordering_key":
 * true, "credentials": {...service account JSON...}}`; for the emulator (or pstest)
 * `{"project_id": "test-project", "topic": "orders", "emulator_host": "127.0.0.1:8085"}`.
 */
import { z } from "zod";
import { parseWith } from "../sqs/aws.ts";
import { checkCredentials, pubsubConnectionShape, serviceAccountOf } from "./client.ts";

const TOPIC =
  /^(projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/topics\/)?[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;

export const pubsubConfigSchema = z.object({
  ...pubsubConnectionShape,
  /** Topic name, or its full path `projects/<project>/topics/<name>`. */
  topic: z.string().regex(TOPIC, "must be a topic name (letters first, 3 to 255 characters)"),
  /**
   * `true`: the message's key becomes its ordering key (none when it has no key). A string: as
   * `true`, and that string for messages without a key. Absent or `false`: no ordering.
   */
  ordering_key: z.union([z.boolean(), z.string().min(1).max(1024)]).optional(),
}).strict().superRefine(checkCredentials).transform((c) => ({
  ...c,
  credentials: c.credentials === undefined ? undefined : serviceAccountOf(c.credentials),
}));

export type PubsubConfig = z.output<typeof pubsubConfigSchema>;

export function parsePubsubConfig(config: unknown): PubsubConfig {
  return parseWith("pubsub", pubsubConfigSchema, config);
}
