/**
 * Node-wide settings (`GET|POST /api/settings`, admins only). Each value is validated by the
 * same parser that applies it (the address policy's own `parseAllowedHost` and `parseCidr`),
 * so a value the API accepts can never stop the node from starting, and a value stored by an
 * older version that no longer parses is reported and replaced by its default at start.
 */
import { z } from "@hono/zod-openapi";
import { parseCidr } from "../net/ip.ts";
import { parseAllowedHost } from "../net/policy.ts";
import { isSealedValue } from "../crypto/sealer.ts";
import { isMasked } from "../crypto/seal_fields.ts";

/** A string refined by a parser that throws: its message becomes the issue. */
const parsedBy = (parse: (s: string) => unknown, max: number) =>
  z.string().min(1).max(max).superRefine((v, ctx) => {
    try {
      parse(v);
    } catch (e) {
      ctx.addIssue({ code: "custom", message: (e as Error).message });
    }
  });

export const SETTINGS_SHAPE = {
  /** `host:port` entries tenants may reach although they resolve to private addresses. */
  allow_hosts: z.array(parsedBy(parseAllowedHost, 260)).max(1000).optional(),
  /** CIDR blocks tenants may reach although they are private. */
  allow_cidrs: z.array(parsedBy(parseCidr, 64)).max(1000).optional(),
  retention_days: z.number().min(0.01).max(3650).optional(),
  ingest_rate_per_second: z.number().min(0).max(10_000_000).optional(),
  ingest_burst: z.number().int().min(1).max(10_000_000).optional(),
  /** The webhook body limit of routes without their own (MAX_BODY_BYTES otherwise). */
  max_body_bytes: z.number().int().min(1).max(64 * 1024 * 1024).optional(),
  /** Brokers for destinations and triggers that name none (RABBITMQ_URL otherwise). */
  broker_defaults: z.strictObject({
    rabbitmq: z.strictObject({ url: brokerUrl(/^amqps?:\/\//, "an amqp:// or amqps:// URL") })
      .optional(),
    kafka: z.strictObject({
      brokers: z.array(z.string().regex(/^[^\s/:]+:\d{1,5}$/, "must be host:port")).min(1).max(100),
    }).optional(),
    redis: z.strictObject({ url: brokerUrl(/^rediss?:\/\//, "a redis:// or rediss:// URL") })
      .optional(),
  }).optional(),
};

/** A broker URL; sealed at rest when it holds a password, and shown masked. */
function brokerUrl(scheme: RegExp, what: string) {
  return z.string().min(1).max(2048).refine(
    (v) => scheme.test(v) || isSealedValue(v) || isMasked(v),
    `must be ${what}`,
  );
}

/** Unknown keys are refused so a typo does not silently do nothing. */
export const settingsBody = z.strictObject(SETTINGS_SHAPE).openapi("Settings");
export type Settings = z.infer<typeof settingsBody>;

/** `POST /api/settings`: the keys to change; null puts a key back to its default. */
export const settingsPatch = z.strictObject(
  Object.fromEntries(
    Object.entries(SETTINGS_SHAPE).map(([k, v]) => [k, v.unwrap().nullable().optional()]),
  ) as {
    [K in keyof typeof SETTINGS_SHAPE]: z.ZodOptional<
      z.ZodNullable<ReturnType<(typeof SETTINGS_SHAPE)[K]["unwrap"]>>
    >;
  },
).openapi("SettingsPatch");

export interface InvalidSetting {
  key: string;
  message: string;
}

/**
 * The stored settings with every key checked on its own: a key that does not parse (or is
 * not known) is left out, so its default applies, and reported.
 */
export function readSettings(stored: Record<string, unknown>): {
  settings: Settings;
  invalid: InvalidSetting[];
} {
  const settings: Record<string, unknown> = {};
  const invalid: InvalidSetting[] = [];
  for (const [key, value] of Object.entries(stored)) {
    if (value === null || value === undefined) continue;
    const schema = (SETTINGS_SHAPE as Record<string, z.ZodType>)[key];
    if (!schema) {
      invalid.push({ key, message: "unknown setting" });
      continue;
    }
    const r = schema.safeParse(value);
    if (r.success) settings[key] = r.data;
    else {
      const detail = r.error.issues.map((i) =>
        [key, ...i.path.map(String)].join(".") + `: ${i.message}`
      ).join("; ");
      invalid.push({ key, message: detail });
    }
  }
  return { settings: settings as Settings, invalid };
}

/** What ingest runs with: the settings where set, the node's environment otherwise. */
export function effectiveIngest(
  base: { maxBodyBytes: number; globalRatePerSecond: number; globalBurst: number },
  s: Settings,
) {
  return {
    maxBodyBytes: s.max_body_bytes ?? base.maxBodyBytes,
    globalRatePerSecond: s.ingest_rate_per_second ?? base.globalRatePerSecond,
    globalBurst: s.ingest_burst ?? base.globalBurst,
  };
}
