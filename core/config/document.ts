/**
 * The config-as-code document (`event-router config export|apply`, `/api/config/*`): one
 * tenant's destinations, routes and triggers, and the node's settings for an admin. Everything
 * refers to everything else by name, since ids differ between nodes. Unknown keys are refused
 * at every level, so a typo is an error, not a silently ignored line.
 */
import { z } from "zod";
import { parse, stringify } from "yaml";
import { retryPolicySchema } from "../model/destination.ts";
import { HTTP_METHODS, routeLimitsSchema } from "../model/route.ts";
import { SETTINGS_SHAPE } from "../model/settings.ts";

const name = z.string().min(1).max(200);
const json = z.record(z.string(), z.unknown());

export const destinationDoc = z.strictObject({
  name,
  type: z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, "must be a destination type such as http"),
  config: json.default({}),
  retry: retryPolicySchema.optional(),
  active: z.boolean().default(true),
});

/** A route's destination entry: the destination (and its fallback) by name. */
export const routeDestinationDoc = z.strictObject({
  destination: name,
  fallback: name.optional(),
  weight: z.number().min(0).max(1_000_000).optional(),
  priority: z.number().int().optional(),
  pipeline: z.array(json).max(50).optional(),
});

export const routeDoc = z.strictObject({
  name,
  description: z.string().max(2000).optional(),
  method: z.enum(HTTP_METHODS).default("POST"),
  /** Kept when given (a restore keeps the senders' URLs); a new one is made otherwise. */
  endpoint: z.string().regex(/^\/webhook\/wh_[A-Za-z0-9_-]{8,64}$/, "must be /webhook/wh_...")
    .optional(),
  default: z.boolean().optional(),
  destinations: z.array(routeDestinationDoc).max(100).default([]),
  queue: z.string().min(1).max(255).optional(),
  exchange: z.string().max(255).optional(),
  routing_key: z.string().max(255).optional(),
  signature_config: json.optional(),
  filters: json.optional(),
  /** Each rule's `destinations` lists names. */
  rules: z.array(json).max(500).optional(),
  pipeline: z.array(json).max(50).optional(),
  response: json.optional(),
  limits: routeLimitsSchema.optional(),
  active: z.boolean().default(true),
});

export const triggerDoc = z.strictObject({
  name,
  description: z.string().max(2000).optional(),
  type: z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, "must be a trigger type such as polling"),
  route: name,
  config: json.default({}),
  active: z.boolean().default(true),
});

export const configDocument = z.strictObject({
  version: z.literal(1),
  settings: z.strictObject(SETTINGS_SHAPE).optional(),
  destinations: z.array(destinationDoc).max(10_000).default([]),
  routes: z.array(routeDoc).max(10_000).default([]),
  triggers: z.array(triggerDoc).max(10_000).default([]),
});

export type ConfigDocument = z.infer<typeof configDocument>;
export type DestinationDoc = z.infer<typeof destinationDoc>;
export type RouteDoc = z.infer<typeof routeDoc>;
export type TriggerDoc = z.infer<typeof triggerDoc>;

/** Bounds on the file itself: its size, and YAML aliases (no "billion laughs"). */
export const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

export class ConfigDocumentError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "ConfigDocumentError";
  }
}

/** Parses YAML (JSON is YAML too) into a checked document; errors name the line or the path. */
export function parseConfigDocument(text: string): ConfigDocument {
  if (text.length > MAX_DOCUMENT_BYTES) {
    throw new ConfigDocumentError([
      `the file has ${text.length} bytes; at most ${MAX_DOCUMENT_BYTES} are read`,
    ]);
  }
  let raw: unknown;
  try {
    raw = parse(text, { maxAliasCount: 100, uniqueKeys: true });
  } catch (e) {
    throw new ConfigDocumentError([`not valid YAML: ${(e as Error).message.split("\n")[0]}`]);
  }
  return checkConfigDocument(raw);
}

/** Checks an already parsed document (the API's JSON form). */
export function checkConfigDocument(raw: unknown): ConfigDocument {
  const r = configDocument.safeParse(raw ?? {});
  if (r.success) return r.data;
  throw new ConfigDocumentError(
    r.error.issues.slice(0, 50).map((i) => {
      const path = i.path.map((p) => typeof p === "number" ? `[${p}]` : `.${String(p)}`).join("")
        .replace(/^\./, "");
      return `${path || "(document)"}: ${i.message}`;
    }),
  );
}

export function stringifyConfigDocument(doc: unknown, header?: string): string {
  const body = stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
  return header ? `${header.split("\n").map((l) => `# ${l}`).join("\n")}\n${body}` : body;
}
