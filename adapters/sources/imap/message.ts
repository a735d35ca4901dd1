/**
 * One mail message as the JSON body of one event, parsed with postal-mime (never by hand).
 * A message that cannot be parsed, or is larger than `max_bytes`, still becomes an event:
 * with what could be read (headers, envelope, attachment metadata from BODYSTRUCTURE) and
 * `parse_error` saying what went wrong, so a bad message never stops the trigger.
 */
import PostalMime, { type Address, type Email } from "postal-mime";

export interface MessageMeta {
  uid: number;
  uidvalidity: string;
  mailbox: string;
  size: number;
  internalDate: Date | null;
  flags: string[];
}

export interface BodyOptions {
  include: Set<"text" | "html" | "raw">;
  attachments: "metadata" | "content";
  maxBytes: number;
}

export interface MailAddress {
  name: string;
  address: string;
}

export interface AttachmentInfo {
  filename: string | null;
  content_type: string;
  size: number;
  disposition: string | null;
  content_id?: string;
  /** base64, when asked and within max_bytes */
  content?: string;
}

/** A BODYSTRUCTURE node as imapflow returns it (the fields used here). */
export interface StructureNode {
  type?: string;
  size?: number;
  disposition?: string;
  dispositionParameters?: Record<string, string>;
  parameters?: Record<string, string>;
  id?: string;
  childNodes?: StructureNode[];
}

// Deeper MIME nesting than this is refused by the parser (postal-mime's own default is 256).
const MAX_NESTING = 64;
const MAX_HEADERS_BYTES = 1024 * 1024;

const enc = new TextEncoder();

function addresses(list: Address[] | Address | undefined): MailAddress[] {
  const out: MailAddress[] = [];
  const one = (a: Address) => {
    if (a.group) { for (const m of a.group) out.push({ name: m.name, address: m.address }); }
    else if (a.address !== undefined) out.push({ name: a.name, address: a.address });
  };
  if (Array.isArray(list)) list.forEach(one);
  else if (list) one(list);
  return out;
}

function headerObject(email: Pick<Email, "headers">): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const h of email.headers) {
    const prev = out[h.key];
    if (prev === undefined) out[h.key] = h.value;
    else if (Array.isArray(prev)) prev.push(h.value);
    else out[h.key] = [prev, h.value];
  }
  return out;
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function bytesOf(content: ArrayBuffer | Uint8Array | string): Uint8Array {
  if (typeof content === "string") return enc.encode(content);
  return content instanceof Uint8Array ? content : new Uint8Array(content);
}

function metaFields(meta: MessageMeta): Record<string, unknown> {
  return {
    uid: meta.uid,
    uidvalidity: meta.uidvalidity,
    mailbox: meta.mailbox,
    size: meta.size,
    received_at: meta.internalDate?.toISOString() ?? null,
    flags: meta.flags,
  };
}

function envelopeFields(email: Email): Record<string, unknown> {
  const from = addresses(email.from);
  return {
    message_id: email.messageId ?? null,
    in_reply_to: email.inReplyTo ?? null,
    references: email.references ?? null,
    from: from[0] ?? null,
    sender: addresses(email.sender)[0] ?? null,
    reply_to: addresses(email.replyTo),
    to: addresses(email.to),
    cc: addresses(email.cc),
    bcc: addresses(email.bcc),
    subject: email.subject ?? null,
    date: email.date ?? null,
  };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message || e.name : String(e);
}

async function parse(raw: Uint8Array): Promise<Email> {
  return await PostalMime.parse(raw, {
    attachmentEncoding: "arraybuffer",
    maxNestingDepth: MAX_NESTING,
    maxHeadersSize: MAX_HEADERS_BYTES,
  });
}

/** The header block of a message (up to the first empty line), for a fallback parse. */
function headerBlock(raw: Uint8Array): Uint8Array {
  for (let i = 0; i + 3 < raw.length; i++) {
    if (raw[i] === 13 && raw[i + 1] === 10 && raw[i + 2] === 13 && raw[i + 3] === 10) {
      return raw.subarray(0, i + 4);
    }
    if (raw[i] === 10 && raw[i + 1] === 10) return raw.subarray(0, i + 2);
  }
  return raw;
}

/** The event body of a message fetched in full. */
export async function mailEvent(
  meta: MessageMeta,
  raw: Uint8Array,
  opts: BodyOptions,
): Promise<Record<string, unknown>> {
  let email: Email;
  try {
    email = await parse(raw);
  } catch (e) {
    // The whole message did not parse (too deep, headers too large): keep what the header
    // block says, so the event still names the sender and subject.
    const reason = `cannot parse message: ${errorText(e)}`;
    const body = await headerOnlyEvent(meta, headerBlock(raw), null, reason, false);
    if (opts.include.has("raw") && raw.length * 1.34 < opts.maxBytes) body.raw = base64(raw);
    return body;
  }
  const out: Record<string, unknown> = { ...metaFields(meta), ...envelopeFields(email) };
  if (opts.include.has("text")) out.text = email.text ?? null;
  if (opts.include.has("html")) out.html = email.html ?? null;
  out.headers = headerObject(email);
  const attachments: AttachmentInfo[] = email.attachments.map((a) => {
    const info: AttachmentInfo = {
      filename: a.filename,
      content_type: a.mimeType,
      size: bytesOf(a.content).length,
      disposition: a.disposition,
    };
    if (a.contentId) info.content_id = a.contentId;
    return info;
  });
  out.attachments = attachments;
  // What is left of max_bytes decides which large optional parts still fit, in this order.
  const omitted: string[] = [];
  let budget = opts.maxBytes - enc.encode(JSON.stringify(out)).length;
  if (opts.include.has("raw")) {
    const b64 = Math.ceil(raw.length / 3) * 4;
    if (b64 + 16 <= budget) {
      out.raw = base64(raw);
      budget -= b64 + 16;
    } else omitted.push("raw");
  }
  if (opts.attachments === "content") {
    email.attachments.forEach((a, i) => {
      const bytes = bytesOf(a.content);
      const b64 = Math.ceil(bytes.length / 3) * 4;
      if (b64 + 16 <= budget) {
        attachments[i].content = base64(bytes);
        budget -= b64 + 16;
      } else omitted.push(`attachments[${i}].content`);
    });
  }
  if (omitted.length) out.omitted = omitted;
  return out;
}

/** Attachments named by a BODYSTRUCTURE (for messages not fetched in full). */
export function structureAttachments(node: StructureNode | null | undefined): AttachmentInfo[] {
  const out: AttachmentInfo[] = [];
  const walk = (n: StructureNode) => {
    if (n.childNodes?.length) return n.childNodes.forEach(walk);
    const filename = n.dispositionParameters?.filename ?? n.parameters?.name ?? null;
    const disposition = n.disposition?.toLowerCase() ?? null;
    if (disposition === "attachment" || filename !== null) {
      const info: AttachmentInfo = {
        filename,
        content_type: (n.type ?? "application/octet-stream").toLowerCase(),
        // BODYSTRUCTURE sizes are of the encoded part (base64 is ~4/3 of the file)
        size: n.size ?? 0,
        disposition,
      };
      if (n.id) info.content_id = n.id;
      out.push(info);
    }
  };
  if (node) walk(node);
  return out;
}

/** The event body of a message known only by its header block (and BODYSTRUCTURE). */
export async function headerOnlyEvent(
  meta: MessageMeta,
  header: Uint8Array,
  structure: StructureNode | null,
  reason: string,
  truncated: boolean,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { ...metaFields(meta) };
  try {
    // An empty body after the header block: only the headers are parsed.
    const email = await parse(header);
    Object.assign(out, envelopeFields(email), { headers: headerObject(email) });
  } catch (e) {
    reason += `; the header block did not parse either: ${errorText(e)}`;
  }
  out.attachments = structureAttachments(structure);
  if (truncated) out.truncated = true;
  out.parse_error = reason;
  return out;
}
