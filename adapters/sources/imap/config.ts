/** Trigger config of type `imap`: one mailbox watched by IDLE (or polling). */
import { z } from "zod";
import { durationSchema } from "../../../core/sources/duration.ts";
import { oauth2ConfigSchema } from "../oauth2.ts";

const BODY_PART = z.enum(["text", "html", "raw"]);
const MiB = 1024 * 1024;

export const imapConfigSchema = z.strictObject({
  host: z.string().min(1).max(253).regex(
    /^([A-Za-z0-9-]+\.)*[A-Za-z0-9-]+\.?$|^\[?[0-9A-Fa-f:.]+\]?$/,
    "expected a host name or an IP address",
  ),
  /** Default 993 with `tls`, 143 without. */
  port: z.number().int().min(1).max(65535).optional(),
  /** Implicit TLS (IMAPS). */
  tls: z.boolean().default(true),
  /** Without `tls`: upgrade with STARTTLS and refuse a server that does not offer it. Only
   * `false` allows plaintext (a loopback test server, say). */
  starttls: z.boolean().default(true),
  /** Extra trusted CA certificates (PEM), for a server with a private CA. */
  ca: z.string().min(1).max(65_536).optional(),
  username: z.string().min(1).max(320),
  password: z.string().max(4096).optional(),
  /** XOAUTH2 / OAUTHBEARER with an access token from this OAuth2 client. */
  oauth2: oauth2ConfigSchema.optional(),
  mailbox: z.string().min(1).max(1000).default("INBOX"),
  /** After the event is committed: set \Seen on the message. */
  mark_seen: z.boolean().default(false),
  /** After the event is committed: move the message to this mailbox. */
  move_to: z.string().min(1).max(1000).optional(),
  /** Which bodies go into the event: "text" (default), "html", "raw" (the whole message,
   * base64). One value or a list. */
  include_body: z.union([BODY_PART, z.array(BODY_PART).max(3)]).default(["text"]),
  /** Attachment metadata only, or their content (base64) as long as it fits in max_bytes. */
  attachments: z.enum(["metadata", "content"]).default("metadata"),
  /** Largest message fetched in full; larger ones become an event with headers, attachment
   * metadata and `parse_error`. Content that would make the event larger is left out. */
  max_bytes: z.number().int().min(1024).max(25 * MiB).default(MiB),
  /** On the first start: also emit the mail already in the mailbox (default: only new). */
  emit_existing: z.boolean().default(false),
  /** How often to look for new mail when the server has no IDLE; with IDLE, a resync. */
  poll_interval: durationSchema(1000, 86_400_000).default("60s"),
  /** Bound on connecting and logging in. */
  timeout_ms: z.number().int().min(1000).max(120_000).default(30_000),
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
