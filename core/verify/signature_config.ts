/**
 * A route's `signature_config`: the seed README's generic form (`verifications[]` of HMAC
 * checks), presets that need only a secret, and plain auth modes (bearer, basic, api_key).
 * The `preset` field tells the forms apart; the generic form has none (or "custom").
 */
import { z } from "zod";
import { decodeBase64 } from "../crypto/encoding.ts";

export const SIGNATURE_PRESETS = [
  "github",
  "stripe",
  "slack",
  "standard_webhooks",
  "shopify",
  "twilio",
] as const;
export type SignaturePreset = typeof SIGNATURE_PRESETS[number];

/** `${name}` placeholders; names are identifiers or `header.<header-name>`. */
export const PLACEHOLDER = /\$\{([^}]*)\}/g;

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

const headerName = z.string().regex(HEADER_NAME, "must be an HTTP header name");
const secret = z.string().min(1, "must not be empty");
// a handful is enough to rotate; more would multiply the HMACs computed per request
const secretList = z.array(secret).min(1).max(10);

/** Options every form shares. */
const common = {
  enabled: z.boolean().default(true),
  /**
   * Seconds a request's timestamp may differ from now, both ways, for the presets that sign
   * one (stripe, slack, standard_webhooks); also how long a dedup id must be remembered.
   */
  replay_window: z.number().int().min(1).max(86_400).default(300),
  /**
   * What makes a request a duplicate: `id` (default) the sender's delivery id header, where
   * the scheme has one (`id_header`, or the preset's); `body` the SHA-256 of the signed body,
   * remembered for `replay_window` seconds: for schemes that sign neither an id nor a
   * timestamp (GitHub signs only the body), so a captured request cannot be sent again with a
   * new id within the window.
   */
  dedupe: z.enum(["id", "body"]).default("id"),
  /** Header holding the sender's delivery id, used to drop duplicates (overrides presets). */
  id_header: headerName.optional(),
};

export const verificationSchema = z.strictObject({
  header_location: headerName,
  signature_format: z.string().min(1).default("${signature}"),
  algorithm: z.enum(["hmac-sha1", "hmac-sha256", "hmac-sha512"]).default("hmac-sha256"),
  encoding: z.enum(["hex", "base64"]).default("hex"),
  secret: secret.optional(),
  secrets: secretList.optional(),
  signature_input: z.string().min(1).default("${body}"),
}).superRefine((v, ctx) => {
  if (v.secret === undefined && v.secrets === undefined) {
    ctx.addIssue({ code: "custom", path: ["secret"], message: "secret or secrets is required" });
  }
  const formatNames = placeholders(v.signature_format);
  if (formatNames.filter((n) => n === "signature").length !== 1) {
    ctx.addIssue({
      code: "custom",
      path: ["signature_format"],
      message: `must contain \${signature} exactly once, got "${v.signature_format}"`,
    });
  }
  const others = formatNames.filter((n) => n !== "signature");
  if (others.length > 1 || others.some((n) => !IDENTIFIER.test(n))) {
    ctx.addIssue({
      code: "custom",
      path: ["signature_format"],
      message:
        `may hold one timestamp placeholder besides \${signature}, got "${v.signature_format}"`,
    });
  }
  for (const name of placeholders(v.signature_input)) {
    const known = name === "body" || name === "url" || name === "timestamp" ||
      others.includes(name) || (name.startsWith("header.") && HEADER_NAME.test(name.slice(7)));
    if (!known) {
      ctx.addIssue({
        code: "custom",
        path: ["signature_input"],
        message: `unknown placeholder \${${name}}; use \${body}, \${url}, \${timestamp} or ` +
          `\${header.NAME}`,
      });
    }
  }
});

export const timestampValidationSchema = z.strictObject({
  required: z.boolean().default(true),
  max_age: z.number().int().min(1).max(86_400).default(300),
  timestamp_location: z.enum(["header", "signature"]).default("signature"),
  /** The placeholder in signature_format holding the timestamp (location "signature"). */
  timestamp_variable: z.string().min(1).optional(),
  /** The header holding the timestamp (location "header"); timestamp_variable is accepted too. */
  timestamp_header: headerName.optional(),
}).superRefine((v, ctx) => {
  if (v.timestamp_location !== "header") return;
  const name = v.timestamp_header ?? v.timestamp_variable;
  if (name === undefined || !HEADER_NAME.test(name)) {
    ctx.addIssue({
      code: "custom",
      path: ["timestamp_header"],
      message: 'a header name is required when timestamp_location is "header"',
    });
  }
});

export const genericConfigSchema = z.strictObject({
  ...common,
  preset: z.literal("custom").optional(),
  verifications: z.array(verificationSchema).max(8).default([]),
  timestamp_validation: timestampValidationSchema.optional(),
}).superRefine((v, ctx) => {
  if (v.enabled && v.verifications.length === 0) {
    ctx.addIssue({
      code: "custom",
      path: ["verifications"],
      message: "at least one verification is required when enabled (or set a preset)",
    });
  }
  const tv = v.timestamp_validation;
  if (tv === undefined || tv.timestamp_location !== "signature") return;
  const name = tv.timestamp_variable ?? "timestamp";
  if (!v.verifications.some((x) => placeholders(x.signature_format).includes(name))) {
    ctx.addIssue({
      code: "custom",
      path: ["timestamp_validation", "timestamp_variable"],
      message: `no signature_format holds \${${name}}`,
    });
  }
});

export const presetConfigSchema = z.strictObject({
  ...common,
  preset: z.enum(SIGNATURE_PRESETS),
  secret: secret.optional(),
  secrets: secretList.optional(),
}).superRefine((v, ctx) => {
  if (v.secret === undefined && v.secrets === undefined) {
    ctx.addIssue({ code: "custom", path: ["secret"], message: "secret or secrets is required" });
  }
  if (v.preset !== "standard_webhooks") return;
  // the key is the base64 after whsec_; the message names the field, never the secret
  const check = (value: string, path: (string | number)[]) => {
    const key = decodeBase64(value.startsWith("whsec_") ? value.slice(6) : value);
    if (key === null || key.length === 0) {
      ctx.addIssue({ code: "custom", path, message: "must be whsec_ followed by base64" });
    }
  };
  if (v.secret !== undefined) check(v.secret, ["secret"]);
  v.secrets?.forEach((s, i) => check(s, ["secrets", i]));
});

export const bearerConfigSchema = z.strictObject({
  ...common,
  preset: z.literal("bearer"),
  token: secret.optional(),
  tokens: secretList.optional(),
}).superRefine((v, ctx) => {
  if (v.token === undefined && v.tokens === undefined) {
    ctx.addIssue({ code: "custom", path: ["token"], message: "token or tokens is required" });
  }
});

export const basicConfigSchema = z.strictObject({
  ...common,
  preset: z.literal("basic"),
  // RFC 7617: the user-id cannot contain a colon, the password can
  username: z.string().min(1).refine((s) => !s.includes(":"), "must not contain a colon"),
  password: secret,
});

export const apiKeyConfigSchema = z.strictObject({
  ...common,
  preset: z.literal("api_key"),
  header: headerName.default("X-API-Key"),
  key: secret.optional(),
  keys: secretList.optional(),
}).superRefine((v, ctx) => {
  if (v.key === undefined && v.keys === undefined) {
    ctx.addIssue({ code: "custom", path: ["key"], message: "key or keys is required" });
  }
});

export const signatureConfigSchema = z.discriminatedUnion("preset", [
  genericConfigSchema,
  presetConfigSchema,
  bearerConfigSchema,
  basicConfigSchema,
  apiKeyConfigSchema,
]);

/** A parsed signature_config (defaults applied); verifyRequest takes this. */
export type SignatureConfig = z.output<typeof signatureConfigSchema>;
/** A signature_config as written in JSON. */
export type SignatureConfigInput = z.input<typeof signatureConfigSchema>;
export type GenericConfig = z.output<typeof genericConfigSchema>;
export type PresetConfig = z.output<typeof presetConfigSchema>;
export type Verification = z.output<typeof verificationSchema>;
export type TimestampValidation = z.output<typeof timestampValidationSchema>;
export type BearerConfig = z.output<typeof bearerConfigSchema>;
export type BasicConfig = z.output<typeof basicConfigSchema>;
export type ApiKeyConfig = z.output<typeof apiKeyConfigSchema>;

/**
 * Parses and validates once (at route save or cache fill, not per request). The error names
 * each failing field, e.g. `signature_config.verifications.0.secret: secret or secrets is
 * required`.
 */
export function parseSignatureConfig(input: unknown): SignatureConfig {
  const result = signatureConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) =>
    `${["signature_config", ...issue.path].join(".")}: ${issue.message}`
  );
  throw new TypeError(`invalid signature_config: ${details.join("; ")}`);
}

/** The placeholder names in a template, in order. */
export function placeholders(template: string): string[] {
  return Array.from(template.matchAll(PLACEHOLDER), (m) => m[1]);
}

/** `secret` then `secrets`, in that order: the rotation list a scheme tries. */
export function secretsOf(config: { secret?: string; secrets?: string[] }): string[] {
  const list = config.secrets ?? [];
  return config.secret === undefined ? list : [config.secret, ...list];
}
