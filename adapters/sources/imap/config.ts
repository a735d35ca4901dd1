/**
 * Trigger config of type `imap`: one mailbox watched by IDLE (or polling). The descriptions
 * are what the OpenAPI document shows for each field.
 */
import { z } from "zod";
import { duration } from "../duration.ts";
import { oauth2ConfigSchema } from "../oauth2.ts";

const BODY_PART = z.enum(["text", "html", "raw"]);
const MiB = 1024 * 1024;

export const imapConfigSchema = z.strictObject({
  host: z.string().min(1).max(253).regex(
    /^([A-Za-z0-9-]+\.)*[A-Za-z0-9-]+\.?$|^\[?[0-9A-Fa-f:.]+\]?$/,
    "expected a host name or an IP address",
  ).describe("IMAP server host name or IP address"),
  port: z.number().int().min(1).max(65535).optional()
    .describe("Default 993 with tls, 143 without"),
  tls: z.boolean().default(true).describe("Implicit TLS (IMAPS)"),
  starttls: z.boolean().default(true).describe(
    "Without tls: upgrade with STARTTLS and refuse a server that does not offer it; false allows plaintext",
  ),
  ca: z.string().min(1).max(65_536).optional()
    .describe("Extra trusted CA certificates (PEM), for a server with a private CA"),
  username: z.string().min(1).max(320).describe("The login name (for XOAUTH2: the account)"),
  password: z.string().max(4096).optional()
    .describe("Password login (sealed at rest); or give oauth2"),
  oauth2: oauth2ConfigSchema.optional().describe(
    "XOAUTH2/OAUTHBEARER login with access tokens from this OAuth2 client (refresh-token grant for Gmail and Outlook)",
  ),
  mailbox: z.string().min(1).max(1000).default("INBOX").describe("The mailbox watched"),
  mark_seen: z.boolean().default(false)
    .describe("After the event is committed: set \\Seen on the message"),
  move_to: z.string().min(1).max(1000).optional()
    .describe("After the event is committed: move the message to this mailbox"),
  include_body: z.union([BODY_PART, z.array(BODY_PART).max(3)]).default(["text"]).describe(
    'Bodies put in the event: "text", "html", "raw" (the whole message, base64); one or a list',
  ),
  attachments: z.enum(["metadata", "content"]).default("metadata").describe(
    "Attachment metadata only, or also their content (base64) while it fits in max_bytes",
  ),
  max_bytes: z.number().int().min(1024).max(25 * MiB).default(MiB).describe(
    "Largest message fetched in full; a larger one becomes an event with headers, attachment metadata and parse_error. Optional content that would make the event larger is left out and listed in omitted",
  ),
  emit_existing: z.boolean().default(false)
    .describe("On the first start, also emit the mail already in the mailbox"),
  poll_interval: duration(1000, 86_400_000).prefault("60s").describe(
    "How often to look for mail when the server has no IDLE; a resync under IDLE",
  ),
  timeout_ms: z.number().int().min(1000).max(120_000).default(30_000)
    .describe("Bound on connecting and logging in"),
}).superRefine((c, ctx) => {
  if ((c.password === undefined) === (c.oauth2 === undefined)) {
    ctx.addIssue({
      code: "custom",
      path: ["password"],
      message: "give exactly one of password or oauth2",
    });
  }
  if (c.move_to !== undefined && c.move_to === c.mailbox) {
    ctx.addIssue({
      code: "custom",
      path: ["move_to"],
      message: `move_to names the watched mailbox ${JSON.stringify(c.mailbox)}`,
    });
  }
});

export type ImapConfig = z.output<typeof imapConfigSchema>;

export function includes(c: ImapConfig): Set<"text" | "html" | "raw"> {
  return new Set(Array.isArray(c.include_body) ? c.include_body : [c.include_body]);
}
