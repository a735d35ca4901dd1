/**
 * Pub/Sub destination config, e.g. `{"project_id": "acme", "topic": "orders", "ordering_key":
 * true, "credentials": {...service account JSON...}}`; for the emulator (or pstest)
 * `{"project_id": "test-project", "topic": "orders", "emulator_host": "127.0.0.1:8085"}`.
 */
import { z } from "zod";
import { parseWith } from "../sqs/aws.ts";

const TOPIC =
  /^(projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/topics\/)?[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;

/**
 * A service account key. Other credential types are refused: external accounts and
 * impersonation make the auth library fetch URLs (or run commands) named in the JSON, and a
 * foreign universe would move the endpoint.
 */
const serviceAccount = z.looseObject({
  type: z.literal("service_account", "must be service_account").optional(),
  client_email: z.string().min(1),
  private_key: z.string().min(1),
  universe_domain: z.literal("googleapis.com", "must be googleapis.com").optional(),
});

export const pubsubConfigSchema = z.object({
  project_id: z.string().regex(
    /^([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/,
    "must be a GCP project id (6 to 30 lowercase letters, digits, hyphens)",
  ),
  /** Topic name, or its full path `projects/<project>/topics/<name>`. */
  topic: z.string().regex(TOPIC, "must be a topic name (letters first, 3 to 255 characters)"),
  /**
   * `true`: the message's key becomes its ordering key (none when it has no key). A string: as
   * `true`, and that string for messages without a key. Absent or `false`: no ordering.
   */
  ordering_key: z.union([z.boolean(), z.string().min(1).max(1024)]).optional(),
  /** `host:port` of an emulator (gcloud's or pstest); used instead of PUBSUB_EMULATOR_HOST. */
  emulator_host: z.string().regex(
    /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/,
    "must be host:port",
  )
    .optional(),
  /** Service account key (the JSON object, or that JSON as a string); else ADC. */
  credentials: z.union([serviceAccount, z.string().min(2)], {
    error: "must be a service account key (type service_account, client_email, private_key)" +
      " or that JSON as a string",
  }).optional(),
  /** Bound on one publish call, including connecting (ms). */
  timeout_ms: z.number().int().min(100).max(120_000).default(10_000),
}).strict().transform((c, ctx) => {
  if (typeof c.credentials !== "string") return { ...c, credentials: c.credentials };
  let parsed: unknown;
  try {
    parsed = JSON.parse(c.credentials);
  } catch {
    ctx.addIssue({
      code: "custom",
      path: ["credentials"],
      message: "must be service account JSON",
    });
    return z.NEVER;
  }
  const r = serviceAccount.safeParse(parsed);
  if (!r.success) {
    ctx.addIssue({
      code: "custom",
      path: ["credentials"],
      message: "must be a service account key with client_email and private_key",
    });
    return z.NEVER;
  }
  return { ...c, credentials: r.data };
});

export type PubsubConfig = z.output<typeof pubsubConfigSchema>;

export function parsePubsubConfig(config: unknown): PubsubConfig {
  return parseWith("pubsub", pubsubConfigSchema, config);
}
